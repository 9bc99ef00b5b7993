#!/usr/bin/env python3
"""Summarize one closed-loop level of a reference client as one JSON line.

sdk_loop.py imports this module, and cli_loop.sh runs it on the files that its
shell loops wrote. Both count samples the way `specrun --bench` does in
src/bench/workload.rs. A successful call counts when it completed inside the
measured window [measure_from, deadline]. A failed call that completed after
the warm-up counts as an error of the level. Throughput is the count divided
by the window's length. Percentiles use the nearest-rank method, as
src/bench/stats.rs does.

The JSON line has these fields: tool, op, concurrency, duration_s, warmup_s,
containers, operations, errors, warmup_errors, ops_per_second, latency_ms
(p50, p95, p99, mean, max; null without samples) and error_messages (the five
most frequent, each with its count).

Command line (used by cli_loop.sh):

    loopstats.py --tool cli --op exec --concurrency 4 --duration-s 5 \
        --warmup-s 1 --measure-from-us T --deadline-us T [--containers A,B] \
        [--stderr FILE ...] WORKER_FILE ...

Each line of a worker file is "FINISHED_US LATENCY_US EXIT_STATUS", with
FINISHED_US on the same clock as --measure-from-us and --deadline-us.
Standard library only.
"""

import argparse
import collections
import json
import math
import sys
from typing import Dict, Iterable, List, Optional, Sequence

MAX_ERROR_MESSAGES = 5


def percentile(sorted_values: Sequence[float], percent: int) -> float:
    """Return the nearest-rank percentile: the sample at 1-based rank ceil(percent * n / 100)."""
    rank = math.ceil(percent * len(sorted_values) / 100)
    return sorted_values[max(rank, 1) - 1]


def latency_summary(latencies_ms: Iterable[float]) -> Optional[Dict[str, float]]:
    """Return p50, p95, p99, mean and max in milliseconds, or None without samples."""
    ordered = sorted(latencies_ms)
    if not ordered:
        return None
    summary = {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "mean": sum(ordered) / len(ordered),
        "max": ordered[-1],
    }
    return {name: round(value, 3) for name, value in summary.items()}


def level_record(
    *,
    tool: str,
    op: str,
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    containers: List[str],
    latencies_ms: List[float],
    error_messages: Dict[str, int],
    warmup_errors: int,
) -> dict:
    """Build the JSON record of one level from the samples inside the measured window."""
    ranked = sorted(error_messages.items(), key=lambda item: (-item[1], item[0]))
    return {
        "tool": tool,
        "op": op,
        "concurrency": concurrency,
        "duration_s": duration_s,
        "warmup_s": warmup_s,
        "containers": containers,
        "operations": len(latencies_ms),
        "errors": sum(error_messages.values()),
        "warmup_errors": warmup_errors,
        "ops_per_second": len(latencies_ms) / duration_s,
        "latency_ms": latency_summary(latencies_ms),
        "error_messages": [
            {"message": message, "count": count} for message, count in ranked[:MAX_ERROR_MESSAGES]
        ],
    }


def read_stderr_messages(paths: Iterable[str]) -> collections.Counter:
    """Count the distinct non-empty lines that failed CLI calls wrote to stderr."""
    counts: collections.Counter = collections.Counter()
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                line = line.strip()
                if line:
                    counts[line] += 1
    return counts


def summarize_worker_files(args: argparse.Namespace) -> dict:
    latencies_ms: List[float] = []
    errors_by_status: collections.Counter = collections.Counter()
    warmup_errors = 0
    for path in args.worker_files:
        with open(path, encoding="utf-8") as stream:
            for line_number, line in enumerate(stream, start=1):
                fields = line.split()
                if len(fields) != 3:
                    raise SystemExit(f"{path}:{line_number}: expected 'FINISHED_US LATENCY_US EXIT_STATUS', got {line!r}")
                finished_us, latency_us, status = (int(field) for field in fields)
                if status == 0:
                    if args.measure_from_us <= finished_us <= args.deadline_us:
                        latencies_ms.append(latency_us / 1000)
                elif finished_us < args.measure_from_us:
                    warmup_errors += 1
                else:
                    errors_by_status[status] += 1

    # The shell loops do not tie a stderr line to its call, so every error carries its exit
    # status and the most frequent stderr line of the level.
    stderr_lines = read_stderr_messages(args.stderr or [])
    common_line = stderr_lines.most_common(1)[0][0] if stderr_lines else "no output on stderr"
    error_messages = {
        f"docker exited with status {status}; most frequent stderr line: {common_line}": count
        for status, count in errors_by_status.items()
    }
    return level_record(
        tool=args.tool,
        op=args.op,
        concurrency=args.concurrency,
        duration_s=args.duration_s,
        warmup_s=args.warmup_s,
        containers=[name for name in args.containers.split(",") if name],
        latencies_ms=latencies_ms,
        error_messages=error_messages,
        warmup_errors=warmup_errors,
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Summarize a closed-loop level from worker files as one JSON line.")
    parser.add_argument("--tool", required=True, help="name written in the record, such as cli")
    parser.add_argument("--op", required=True, help="operation name, such as exec")
    parser.add_argument("--concurrency", type=int, required=True, help="number of parallel loops")
    parser.add_argument("--duration-s", type=float, required=True, help="length of the measured window in seconds")
    parser.add_argument("--warmup-s", type=float, required=True, help="length of the warm-up in seconds")
    parser.add_argument("--measure-from-us", type=int, required=True, help="start of the measured window in microseconds")
    parser.add_argument("--deadline-us", type=int, required=True, help="end of the measured window in microseconds")
    parser.add_argument("--containers", default="", help="comma-separated containers the exec calls ran in")
    parser.add_argument("--stderr", action="append", help="stderr file of a loop; repeat for each loop")
    parser.add_argument("worker_files", nargs="+", help="one file per loop with FINISHED_US LATENCY_US EXIT_STATUS lines")
    args = parser.parse_args(argv)
    if args.duration_s <= 0:
        parser.error(f"--duration-s must be positive, got {args.duration_s}")
    print(json.dumps(summarize_worker_files(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
