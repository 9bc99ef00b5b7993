#!/usr/bin/env bash
# Checks `specrun --bench` against tools that users know, in one run on the same containers:
# the Python docker SDK (references/sdk_loop.py) and shell loops of the docker CLI
# (references/cli_loop.sh). For each concurrency level, and at each level for each operation
# (exec, version, info, ping), it runs specrun, then the SDK loop, then the CLI loop, so a
# change of load on the machine hits all three alike. The CLI has no ping command, so ping
# compares specrun with the SDK only. After the levels it measures ping at 1 worker with
# specrun's pooled and unpooled transports and with the SDK. Then it prints a side-by-side
# table with the ratios and PASS or MISS for each target (see references/engine_table.py).
#
# Every tool talks to the engine at unix:///var/run/docker.sock, whatever DOCKER_HOST is set to.
# The containers come from the Debian fixture image, have no network, carry the label
# specrun.bench.engine=<pid> and are removed at the end and on Ctrl-C.
#
# Usage: bash bench/engine.sh [--ops exec,version,info,ping] [--concurrency 1,2,4,8,16]
#          [--duration 5s] [--warmup 1s] [--containers 1] [--runs 1] [--out DIR]
#   --ops          operations, comma-separated (default exec,version,info,ping); the ping
#                  transport comparison runs only when ping is among them
#   --concurrency  levels, comma-separated (default 1,2,4,8,16)
#   --duration     measured time per operation, level and tool (default 5s)
#   --warmup       time before each measurement whose samples are discarded (default 1s)
#   --containers   containers that exec calls go to in turn (default 1)
#   --runs         repeats of the whole sweep; the table shows medians (default 1)
#   --out          directory for the results (default bench/out/engine/<date-time>)
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export LC_ALL=C
export DOCKER_HOST=unix:///var/run/docker.sock
unset DOCKER_CONTEXT

readonly image=specrun-fixture/debian:bookworm
readonly label=specrun.bench.engine=$$
readonly specrun=target/release/specrun

usage() {
  sed -n '2,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

ops=exec,version,info,ping
levels=1,2,4,8,16
duration=5s
warmup=1s
container_count=1
runs=1
out=
while (($#)); do
  case $1 in
    --ops) ops=$2; shift 2 ;;
    --concurrency) levels=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --containers) container_count=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage ;;
    *) echo "engine.sh: unknown option '$1'" >&2; usage ;;
  esac
done
[[ $levels =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
  { echo "engine.sh: invalid --concurrency '$levels': write counts such as 1,2,4,8,16" >&2; exit 2; }
[[ $container_count =~ ^[1-9][0-9]*$ ]] ||
  { echo "engine.sh: invalid --containers '$container_count': write a count of at least 1" >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "engine.sh: invalid --runs '$runs': write a count of at least 1" >&2; exit 2; }
[[ $ops =~ ^(exec|version|info|ping)(,(exec|version|info|ping))*$ ]] ||
  { echo "engine.sh: invalid --ops '$ops': choose from exec,version,info,ping" >&2; exit 2; }
IFS=, read -r -a level_list <<<"$levels"
IFS=, read -r -a operations <<<"$ops"
out=${out:-bench/out/engine/$(date +%Y%m%d-%H%M%S)}

containers=()
cleanup() {
  docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null || true
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

cargo build --release --locked
if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "engine.sh: image $image not found; build it with: bash fixtures/build.sh" >&2
  exit 1
fi

mkdir -p -- "$out"
for ((index = 1; index <= container_count; index++)); do
  name=specrun-engine-$$-$index
  docker run -d -i --network none --label "$label" --name "$name" "$image" >/dev/null
  containers+=("$name")
done
specrun_targets=()
reference_targets=()
for name in "${containers[@]}"; do
  specrun_targets+=(--container "$name")
  reference_targets+=(--container "$name")
done

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "memory: $(free -h | awk '/^Mem:/ { print $2 }')"
  echo "kernel: $(uname -r)"
  echo "engine: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
  echo "specrun: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "command: bash bench/engine.sh --ops $ops --concurrency $levels --duration $duration --warmup $warmup" \
    "--containers $container_count --runs $runs"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

# Runs `specrun --bench` for one operation and level and keeps its JSON report. Exit status
# 1 means that some operations failed; the report counts them and the table shows them.
# specrun exits with status 130 or 143 after SIGINT or SIGTERM instead of dying by the
# signal, so bash does not stop by itself then, and this function stops the whole run.
run_specrun() {
  local file=$1
  shift
  local status=0
  "$specrun" --bench --format json --duration "$duration" --warmup "$warmup" "$@" \
    >"$file" 2>"$file.stderr" || status=$?
  if ((status == 130 || status == 143)); then
    echo "engine.sh: specrun was interrupted; stopping" >&2
    exit "$status"
  fi
  if ((status > 1)); then
    echo "engine.sh: specrun --bench $* exited with status $status:" >&2
    cat -- "$file.stderr" >&2
  fi
}

started=$(date +%s)
for ((run = 1; run <= runs; run++)); do
  for level in "${level_list[@]}"; do
    dir=$out/run-$run/level-$level
    mkdir -p -- "$dir"
    echo "run $run of $runs, $level worker(s), load average $(cut -d' ' -f1 /proc/loadavg)"
    for op in "${operations[@]}"; do
      cut -d' ' -f1-3 /proc/loadavg >"$dir/loadavg-$op.txt"
      targets=()
      if [[ $op == exec ]]; then targets=("${specrun_targets[@]}"); fi
      run_specrun "$dir/specrun-$op.json" "${targets[@]}" --ops "$op" --concurrency "$level"
      python3 bench/references/sdk_loop.py --ops "$op" --concurrency "$level" --duration "$duration" \
        --warmup "$warmup" "${reference_targets[@]}" >"$dir/sdk-$op.jsonl"
      if [[ $op != ping ]]; then
        bash bench/references/cli_loop.sh --ops "$op" --concurrency "$level" --duration "$duration" \
          --warmup "$warmup" "${reference_targets[@]}" --work-dir "$dir/cli-$op" >"$dir/cli-$op.jsonl"
      fi
    done
  done

  [[ ,$ops, == *,ping,* ]] || continue
  dir=$out/run-$run/transport
  mkdir -p -- "$dir"
  echo "run $run of $runs, ping transports at 1 worker"
  run_specrun "$dir/specrun-pooled.json" --ops ping --concurrency 1 --transport pooled
  run_specrun "$dir/specrun-unpooled.json" --ops ping --concurrency 1 --transport unpooled
  python3 bench/references/sdk_loop.py --ops ping --concurrency 1 --duration "$duration" --warmup "$warmup" \
    >"$dir/sdk-ping.jsonl"
done

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
echo "elapsed: $(($(date +%s) - started)) s" | tee -a "$out/machine.txt"
echo
python3 bench/references/engine_table.py "$out" --markdown "$out/table.md" | tee "$out/table.txt"
echo
echo "results in $out"
