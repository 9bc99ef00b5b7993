#!/usr/bin/env bash
# Benchmark specrun against serverspec on the same checks in 4 containers.
#
# Usage: bash bench/serverspec.sh [--runs N] [--no-sequential]
#
# Writes the workload with bench/workload.py, starts 4 containers of the
# fixture image (no network, label specrun.bench=serverspec-<run id>) and
# times, in each of N runs (default 5):
#   specrun             one specrun process that tests all 4 containers
#   serverspec-parallel one rspec process per container, all 4 at once
#   serverspec-serial   the same 4 rspec processes one after another
#                       (skipped with --no-sequential)
# The order of the tools is reversed every other run. One untimed warm-up
# of specrun and of serverspec-parallel runs first. Every timed run must
# exit 0, or the script stops with the failing log.
#
# Every run uses one copy of target/release/specrun, made at the start.
# Prints the wall time of every run, the medians, the ratio of the
# serverspec medians to the specrun median and the peak RSS that
# `/usr/bin/time -v` reports for the specrun and rspec processes. Logs go to
# bench/out/logs. The containers are removed on exit, on Ctrl-C and on
# SIGTERM.
#
# Needs docker, python3 and Debian's packages ruby-serverspec,
# ruby-docker-api and time; builds target/release/specrun with cargo when
# it is missing.
set -euo pipefail

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname -- "$BENCH_DIR")
readonly BENCH_DIR REPO_DIR
readonly OUT_DIR=$BENCH_DIR/out
readonly LOG_DIR=$OUT_DIR/logs
readonly SERVERSPEC_DIR=$OUT_DIR/serverspec
readonly WORKLOAD=$OUT_DIR/workload.yml
readonly BUILT_SPECRUN=$REPO_DIR/target/release/specrun
readonly IMAGE=specrun-fixture/debian:bookworm
readonly CONTAINER_COUNT=4
readonly GNU_TIME=/usr/bin/time

# specrun and the docker CLI read DOCKER_HOST, so it names the local engine
# socket here. spec_helper.rb sets the same socket for serverspec.
export DOCKER_HOST=unix:///var/run/docker.sock
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_URL

RUNS=5
SEQUENTIAL=true
RUN_ID=$$-$(date +%s)
readonly CONTAINER_LABEL=specrun.bench=serverspec-$RUN_ID
CONTAINERS=()
# rspec processes started in the background, killed on exit.
BACKGROUND_PIDS=()
# Lines of "tool run wall_ms peak_rss_kb", one per timed run.
RESULTS_FILE=
# Copy of BUILT_SPECRUN that every run uses, so that a rebuild during the
# benchmark does not mix two binaries.
SPECRUN=

usage() {
  echo "usage: bash bench/serverspec.sh [--runs N] [--no-sequential]"
}

fail() {
  echo "serverspec.sh: $*" >&2
  exit 1
}

parse_arguments() {
  while (( $# > 0 )); do
    case $1 in
      --runs)
        [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || fail "--runs needs a positive integer, got '${2:-}'"
        RUNS=$2
        shift 2
        ;;
      --no-sequential)
        SEQUENTIAL=false
        shift
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        usage >&2
        fail "unknown argument '$1'"
        ;;
    esac
  done
}

cleanup() {
  local pid
  # Each rspec runs in its own process group (see start_rspec), so this
  # ends rspec and the time process that waits for it.
  for pid in "${BACKGROUND_PIDS[@]}"; do
    kill -- "-$pid" "$pid" 2>/dev/null || true
  done
  docker ps --all --quiet --filter "label=$CONTAINER_LABEL" | xargs --no-run-if-empty docker rm --force >/dev/null
  if [[ -n $SPECRUN ]]; then
    rm -f "$SPECRUN"
  fi
}

check_requirements() {
  local tool
  for tool in docker python3 rspec ruby; do
    command -v "$tool" >/dev/null || fail "$tool not found; install Debian's packages ruby-serverspec ruby-docker-api"
  done
  [[ -x $GNU_TIME ]] || fail "$GNU_TIME not found; install Debian's time package"
  ruby -e "require 'serverspec'; require 'docker'" 2>/dev/null ||
    fail "ruby cannot load serverspec and docker-api; install Debian's packages ruby-serverspec ruby-docker-api"
  docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "image $IMAGE not found; run bash fixtures/build.sh first"
  if [[ ! -x $BUILT_SPECRUN ]]; then
    echo "building $BUILT_SPECRUN"
    (cd "$REPO_DIR" && cargo build --release --locked)
  fi
}

print_machine() {
  echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cores:      $(nproc)"
  echo "memory:     $(free -m | awk '/^Mem:/ { print $2 " MiB" }')"
  echo "kernel:     $(uname -r)"
  echo "load:       $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min averages before the runs)"
  echo "engine:     Docker $(docker version --format '{{.Server.Version}}') (API $(docker version --format '{{.Server.APIVersion}}'))," \
    "storage driver $(docker info --format '{{.Driver}}')"
  echo "specrun:    $("$SPECRUN" --version), built $(date -u -r "$BUILT_SPECRUN" '+%Y-%m-%d %H:%M UTC')," \
    "sha256 $(sha256sum "$SPECRUN" | cut -c 1-12), HEAD $(git -C "$REPO_DIR" rev-parse --short HEAD)," \
    "$(git -C "$REPO_DIR" status --porcelain -- src Cargo.toml Cargo.lock | wc -l) files under src/ and Cargo.* differ from HEAD"
  echo "serverspec: $(dpkg-query --show --showformat '${Version}' ruby-serverspec)," \
    "specinfra $(dpkg-query --show --showformat '${Version}' ruby-specinfra)," \
    "docker-api $(dpkg-query --show --showformat '${Version}' ruby-docker-api)," \
    "$(ruby --version | cut -d ' ' -f 1-2)"
}

start_containers() {
  local index name
  for (( index = 1; index <= CONTAINER_COUNT; index++ )); do
    name=specrun-bench-$RUN_ID-$index
    docker run --detach --interactive --network none --label "$CONTAINER_LABEL" --name "$name" "$IMAGE" >/dev/null
    CONTAINERS+=("$name")
  done
  for name in "${CONTAINERS[@]}"; do
    [[ $(docker inspect --format '{{.State.Running}}' "$name") == true ]] || fail "container $name is not running"
  done
}

now_ms() {
  echo $(( $(date +%s%N) / 1000000 ))
}

# Print the peak RSS in kB from the `/usr/bin/time -v` output in FILE.
peak_rss_kb() {
  awk -F ': ' '/Maximum resident set size/ { print $2 }' "$1"
}

# Print a failure banner with the end of LOG, without the lines of passed
# specrun checks, and exit.
report_failure() {
  local what=$1 status=$2 log=$3
  {
    echo
    echo "=================================================================="
    echo "FAILED: $what exited with status $status; end of $log without PASS lines:"
    echo "=================================================================="
    grep --invert-match --extended-regexp '^[[:space:]]+PASS ' "$log" | tail -n 60
  } >&2
  exit 1
}

record() {
  local tool=$1 run=$2 wall_ms=$3 rss_kb=$4
  echo "$tool $run $wall_ms $rss_kb" >>"$RESULTS_FILE"
  awk -v tool="$tool" -v ms="$wall_ms" -v kb="$rss_kb" \
    'BEGIN { printf "  %-20s %8.2f s   peak RSS %7.1f MiB\n", tool, ms / 1000, kb / 1024 }'
}

# Time one specrun process over all containers. RUN is the run number, or
# "warmup" for an untimed run.
run_specrun() {
  local run=$1 log=$LOG_DIR/specrun-$1.log time_file=$LOG_DIR/specrun-$1.time
  local arguments=() name start_ms end_ms status=0
  for name in "${CONTAINERS[@]}"; do
    arguments+=(--container "$name")
  done

  start_ms=$(now_ms)
  "$GNU_TIME" -v -o "$time_file" "$SPECRUN" "$WORKLOAD" "${arguments[@]}" >"$log" 2>&1 || status=$?
  end_ms=$(now_ms)
  (( status == 0 )) || report_failure "specrun (run $run)" "$status" "$log"
  if [[ $run != warmup ]]; then
    record specrun "$run" $(( end_ms - start_ms )) "$(peak_rss_kb "$time_file")"
  fi
}

# Start rspec for CONTAINER in the background, logging to LOG_PREFIX.log
# and LOG_PREFIX.time. A background subshell of a script is not a process
# group leader, so setsid starts a new session in place, without a fork.
# The id of the new process group is then the pid in BACKGROUND_PIDS.
start_rspec() {
  local container=$1 log_prefix=$2
  (
    cd "$SERVERSPEC_DIR"
    BENCH_CONTAINER=$container exec setsid --wait "$GNU_TIME" -v -o "$log_prefix.time" \
      rspec spec/workload_spec.rb >"$log_prefix.log" 2>&1
  ) &
  BACKGROUND_PIDS+=($!)
}

# Print the largest peak RSS in kB over the .time files of LOG_PREFIXES.
max_rss_kb() {
  local prefix max=0 rss
  for prefix in "$@"; do
    rss=$(peak_rss_kb "$prefix.time")
    if (( rss > max )); then
      max=$rss
    fi
  done
  echo "$max"
}

# Time one rspec process per container, all at once.
run_serverspec_parallel() {
  local run=$1 index pid start_ms end_ms status
  local prefixes=() pids=()
  start_ms=$(now_ms)
  for (( index = 0; index < CONTAINER_COUNT; index++ )); do
    prefixes+=("$LOG_DIR/serverspec-parallel-$run-$(( index + 1 ))")
    start_rspec "${CONTAINERS[index]}" "${prefixes[index]}"
    pids+=("${BACKGROUND_PIDS[-1]}")
  done
  for (( index = 0; index < CONTAINER_COUNT; index++ )); do
    status=0
    wait "${pids[index]}" || status=$?
    (( status == 0 )) || report_failure "serverspec-parallel rspec for ${CONTAINERS[index]} (run $run)" \
      "$status" "${prefixes[index]}.log"
  done
  end_ms=$(now_ms)
  BACKGROUND_PIDS=()
  if [[ $run != warmup ]]; then
    record serverspec-parallel "$run" $(( end_ms - start_ms )) "$(max_rss_kb "${prefixes[@]}")"
  fi
}

# Time one rspec process per container, one after another.
run_serverspec_sequential() {
  local run=$1 index start_ms end_ms status prefix
  local prefixes=()
  start_ms=$(now_ms)
  for (( index = 0; index < CONTAINER_COUNT; index++ )); do
    prefix=$LOG_DIR/serverspec-serial-$run-$(( index + 1 ))
    prefixes+=("$prefix")
    start_rspec "${CONTAINERS[index]}" "$prefix"
    status=0
    wait "${BACKGROUND_PIDS[-1]}" || status=$?
    BACKGROUND_PIDS=()
    (( status == 0 )) || report_failure "serverspec-serial rspec for ${CONTAINERS[index]} (run $run)" \
      "$status" "$prefix.log"
  done
  end_ms=$(now_ms)
  record serverspec-serial "$run" $(( end_ms - start_ms )) "$(max_rss_kb "${prefixes[@]}")"
}

# Print the medians and ratios from RESULTS_FILE.
summarize() {
  python3 - "$RESULTS_FILE" <<'EOF'
import statistics
import sys

wall_seconds, rss_mib = {}, {}
with open(sys.argv[1]) as results:
    for line in results:
        tool, _run, wall_ms, rss_kb = line.split()
        wall_seconds.setdefault(tool, []).append(int(wall_ms) / 1000)
        rss_mib.setdefault(tool, []).append(int(rss_kb) / 1024)

print(f"{'tool':<20} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7} {'max peak RSS MiB':>17}")
for tool, times in wall_seconds.items():
    print(f"{tool:<20} {len(times):>4} {statistics.median(times):>9.2f} {min(times):>7.2f} "
          f"{max(times):>7.2f} {max(rss_mib[tool]):>17.1f}")
specrun_median = statistics.median(wall_seconds["specrun"])
for tool in ("serverspec-parallel", "serverspec-serial"):
    if tool in wall_seconds:
        ratio = statistics.median(wall_seconds[tool]) / specrun_median
        print(f"ratio {tool} / specrun (medians): {ratio:.1f}x")
EOF
}

main() {
  local run
  parse_arguments "$@"
  check_requirements

  trap cleanup EXIT
  # Exit on these signals too, so that the EXIT trap removes the containers.
  trap 'exit 130' INT
  trap 'exit 143' TERM

  mkdir -p "$LOG_DIR"
  RESULTS_FILE=$LOG_DIR/results-$RUN_ID.txt
  : >"$RESULTS_FILE"
  SPECRUN=$OUT_DIR/specrun-$RUN_ID
  cp "$BUILT_SPECRUN" "$SPECRUN"

  print_machine
  echo "workload:   $(python3 "$BENCH_DIR/workload.py" --image "$IMAGE" --out-dir "$OUT_DIR")"
  start_containers
  echo "containers: ${CONTAINERS[*]}"
  echo "specrun:    $SPECRUN $WORKLOAD --container ... (${#CONTAINERS[@]} containers)"
  echo "serverspec: rspec spec/workload_spec.rb in $SERVERSPEC_DIR, once per container"
  echo

  echo "warm-up (untimed)"
  run_specrun warmup
  run_serverspec_parallel warmup

  for (( run = 1; run <= RUNS; run++ )); do
    echo "run $run of $RUNS"
    if (( run % 2 == 1 )); then
      run_specrun "$run"
      run_serverspec_parallel "$run"
      [[ $SEQUENTIAL == false ]] || run_serverspec_sequential "$run"
    else
      [[ $SEQUENTIAL == false ]] || run_serverspec_sequential "$run"
      run_serverspec_parallel "$run"
      run_specrun "$run"
    fi
  done

  echo
  echo "load after the runs: $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min averages)"
  summarize
  echo "all runs passed; logs in $LOG_DIR"
}

main "$@"
