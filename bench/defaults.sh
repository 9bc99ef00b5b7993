#!/usr/bin/env bash
# Measures the defaults of --jobs and --max-execs: runs the fixture specs (4 spec files) on 4
# running Debian fixture containers, 16 suites in all, with hyperfine, first varying --jobs at
# --max-execs 8, then varying --max-execs at --jobs 4.
#
# Usage: bash bench/defaults.sh [--runs N]
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

runs=10
if [[ ${1:-} == --runs ]]; then runs=$2; fi

readonly image=specrun-fixture/debian:bookworm
readonly label=specrun.bench.defaults=$$
cleanup() { docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null; }
trap cleanup EXIT INT TERM

command -v hyperfine >/dev/null || { echo "install hyperfine (Debian package hyperfine)" >&2; exit 1; }
[[ -x target/release/specrun ]] || cargo build --release --locked

targets=()
for index in 1 2 3 4; do
  name=specrun-defaults-$$-$index
  docker run -d -i --network none --label "$label" --name "$name" "$image" >/dev/null
  targets+=(--container "$name")
done
command="target/release/specrun specs/*.yml ${targets[*]}"

echo "## --jobs, with --max-execs 8"
hyperfine --warmup 2 --runs "$runs" --export-markdown /dev/stdout -L jobs 1,2,4,8,16 \
  -n "--jobs {jobs}" "$command --jobs {jobs} --max-execs 8"
echo "## --max-execs, with --jobs 4"
hyperfine --warmup 2 --runs "$runs" --export-markdown /dev/stdout -L execs 1,2,4,8,16 \
  -n "--max-execs {execs}" "$command --jobs 4 --max-execs {execs}"
