#!/usr/bin/env bash
# Times the two ways specrun gathers file, package, user and group facts, side by side with
# hyperfine: the batch script (--gather shell) and the archive API (--gather api). It runs the
# file, account and package specs twice: on new containers from the Debian fixture image, where
# the API way does not start the container, and on one running container.
#
# Usage: bash bench/gather.sh [--runs N]
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

runs=10
if [[ ${1:-} == --runs ]]; then runs=$2; fi

readonly image=specrun-fixture/debian:bookworm
readonly name=specrun-gather-$$
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM

command -v hyperfine >/dev/null || { echo "install hyperfine (Debian package hyperfine)" >&2; exit 1; }
[[ -x target/release/specrun ]] || cargo build --release --locked
docker run -d -i --network none --label specrun.bench.gather=1 --name "$name" "$image" >/dev/null

specs="specs/files.yml specs/accounts.yml specs/packages.yml"
echo "## New containers from $image"
hyperfine --warmup 2 --runs "$runs" --export-markdown /dev/stdout \
  -n "image, shell" "target/release/specrun $specs --image $image --gather shell" \
  -n "image, api" "target/release/specrun $specs --image $image --gather api"
echo "## One running container"
hyperfine --warmup 2 --runs "$runs" --export-markdown /dev/stdout \
  -n "container, shell" "target/release/specrun $specs --container $name --gather shell" \
  -n "container, api" "target/release/specrun $specs --container $name --gather api"
