#!/usr/bin/env bash
# Measures the Docker engine through the docker CLI, the classic way that `specrun --bench`
# replaces: N shell loops that run `docker exec C true`, `docker version` or `docker info`
# back to back. Each loop runs for the warm-up plus the measured window and records every
# call's end time, latency and exit status. loopstats.py then counts the calls that completed
# inside the window, as specrun does, and prints one JSON line per operation and level.
#
# Every call goes to the engine at unix:///var/run/docker.sock, whatever DOCKER_HOST or the
# current docker context select. Exec calls go to the --container names in turn, each loop
# starting at a different one.
#
# Usage: bash bench/references/cli_loop.sh [--ops exec,version,info] [--concurrency 1,2,4]
#          [--duration 5s] [--warmup 1s] [--container NAME ...] [--work-dir DIR]
set -euo pipefail
export LC_ALL=C
export DOCKER_HOST=unix:///var/run/docker.sock
unset DOCKER_CONTEXT

references_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly references_dir

usage() {
  sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# Prints a duration such as 500ms, 5s, 1.5s or 2m in microseconds; a bare number is seconds.
to_microseconds() {
  local text=$1
  if [[ ! $text =~ ^([0-9]+)(\.([0-9]{1,6}))?(ms|s|m)?$ ]]; then
    echo "cli_loop.sh: invalid duration '$text': write it as 500ms, 5s or 2m" >&2
    exit 2
  fi
  local whole=${BASH_REMATCH[1]} fraction=${BASH_REMATCH[3]} unit=${BASH_REMATCH[4]:-s}
  fraction=$(printf '%-6s' "$fraction")
  fraction=${fraction// /0}
  local microseconds=$((10#$whole * 1000000 + 10#$fraction))
  case $unit in
    ms) echo $((microseconds / 1000)) ;;
    s) echo "$microseconds" ;;
    m) echo $((microseconds * 60)) ;;
  esac
}

ops=exec,version,info
levels=1,2,4,8,16
duration=5s
warmup=1s
containers=()
work_dir=
while (($#)); do
  case $1 in
    --ops) ops=$2; shift 2 ;;
    --concurrency) levels=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --container) containers+=("$2"); shift 2 ;;
    --work-dir) work_dir=$2; shift 2 ;;
    -h | --help) usage ;;
    *) echo "cli_loop.sh: unknown option '$1'" >&2; usage ;;
  esac
done

duration_us=$(to_microseconds "$duration")
warmup_us=$(to_microseconds "$warmup")
((duration_us > 0)) || { echo "cli_loop.sh: --duration must be greater than 0" >&2; exit 2; }
IFS=, read -r -a op_list <<<"$ops"
IFS=, read -r -a level_list <<<"$levels"
for op in "${op_list[@]}"; do
  case $op in
    exec) ((${#containers[@]})) || { echo "cli_loop.sh: --ops exec needs --container NAME" >&2; exit 2; } ;;
    version | info) ;;
    *) echo "cli_loop.sh: invalid operation '$op': choose from exec, version, info" >&2; exit 2 ;;
  esac
done
for level in "${level_list[@]}"; do
  [[ $level =~ ^[1-9][0-9]*$ ]] || { echo "cli_loop.sh: invalid concurrency '$level': write counts such as 1,2,4" >&2; exit 2; }
done

if [[ -z $work_dir ]]; then
  work_dir=$(mktemp -d)
  remove_work_dir=1
else
  mkdir -p -- "$work_dir"
  remove_work_dir=0
fi

worker_pids=()
stop_workers() {
  if ((${#worker_pids[@]})); then
    kill "${worker_pids[@]}" 2>/dev/null || true
  fi
  worker_pids=()
}
cleanup() {
  stop_workers
  if ((remove_work_dir)); then
    rm -rf -- "$work_dir"
  fi
}
# Background loops of a non-interactive shell ignore SIGINT, so the trap ends them by pid.
# Then the script ends itself with the same signal, so that a calling shell stops too.
stop_on() {
  cleanup
  trap - "$1" EXIT
  kill -s "$1" $$
}
trap 'stop_on INT' INT
trap 'stop_on TERM' TERM
trap cleanup EXIT

# Runs one loop until the deadline and writes "FINISHED_US LATENCY_US EXIT_STATUS" per call.
run_loop() {
  local op=$1 index=$2 deadline=$3
  local call=0 started finished status container
  while :; do
    started=${EPOCHREALTIME/./}
    ((started < deadline)) || break
    case $op in
      exec)
        container=${containers[$(((index + call) % ${#containers[@]}))]}
        docker exec "$container" true >/dev/null && status=0 || status=$?
        ;;
      version) docker version >/dev/null && status=0 || status=$? ;;
      info) docker info >/dev/null && status=0 || status=$? ;;
    esac
    finished=${EPOCHREALTIME/./}
    printf '%s %s %s\n' "$finished" "$((finished - started))" "$status"
    call=$((call + 1))
  done
}

for op in "${op_list[@]}"; do
  for level in "${level_list[@]}"; do
    level_dir=$work_dir/$op-$level
    rm -rf -- "$level_dir"
    mkdir -p -- "$level_dir"
    began=${EPOCHREALTIME/./}
    measure_from=$((began + warmup_us))
    deadline=$((measure_from + duration_us))
    for ((index = 0; index < level; index++)); do
      run_loop "$op" "$index" "$deadline" >"$level_dir/loop-$index.tsv" 2>"$level_dir/loop-$index.err" &
      worker_pids+=($!)
    done
    wait "${worker_pids[@]}"
    worker_pids=()

    stderr_args=()
    for file in "$level_dir"/loop-*.err; do stderr_args+=(--stderr "$file"); done
    container_list=
    [[ $op == exec ]] && container_list=$(IFS=,; echo "${containers[*]}")
    python3 "$references_dir/loopstats.py" --tool cli --op "$op" --concurrency "$level" \
      --duration-s "$(awk -v us="$duration_us" 'BEGIN { print us / 1e6 }')" \
      --warmup-s "$(awk -v us="$warmup_us" 'BEGIN { print us / 1e6 }')" \
      --measure-from-us "$measure_from" --deadline-us "$deadline" --containers "$container_list" \
      "${stderr_args[@]}" "$level_dir"/loop-*.tsv
  done
done
