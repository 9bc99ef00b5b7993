#!/usr/bin/env bash
# Compares specrun's pooled Unix socket transport with bollard's default (a new connection per
# request) on the same 4 running Debian fixture containers, with hyperfine.
#
# Usage: bash bench/transport.sh [--runs N]
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

runs=20
if [[ ${1:-} == --runs ]]; then runs=$2; fi

readonly image=specrun-fixture/debian:bookworm
readonly label=specrun.bench.transport=$$
names=()

cleanup() {
  docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null
}
trap cleanup EXIT INT TERM

command -v hyperfine >/dev/null || { echo "install hyperfine (Debian package hyperfine)" >&2; exit 1; }
[[ -x target/release/specrun ]] || cargo build --release --locked

for index in 1 2 3 4; do
  name=specrun-transport-$$-$index
  docker run -d -i --network none --label "$label" --name "$name" "$image" >/dev/null
  names+=(--container "$name")
done

specs=(specs/*.yml)
hyperfine --warmup 2 --runs "$runs" --export-markdown /dev/stdout \
  -n pooled "target/release/specrun ${specs[*]} ${names[*]} --transport pooled" \
  -n unpooled "target/release/specrun ${specs[*]} ${names[*]} --transport unpooled"
