#!/usr/bin/env python3
"""Print the side-by-side table of an engine.sh run: specrun --bench against the docker SDK and CLI.

engine.sh leaves this layout under its output directory:

    run-R/level-L/specrun-OP.json   `specrun --bench --format json` report
    run-R/level-L/sdk-OP.jsonl      sdk_loop.py line
    run-R/level-L/cli-OP.jsonl      cli_loop.sh line (no ping: the CLI has no ping command)
    run-R/level-L/loadavg-OP.txt    /proc/loadavg when the operation's three tools started
    run-R/transport/specrun-pooled.json, specrun-unpooled.json, sdk-ping.jsonl

With several runs, ops/s and p50 are medians over the runs. A ratio is the
median of the per-run ratios, each between tools that ran within seconds of
each other at the same level, so a change of load between runs cancels out.
Each target is judged on that ratio and also shows in how many runs it held.
The targets are:

    exec, version, info   specrun ops/s >= SDK ops/s at every level
    exec                  specrun ops/s >= 2 x CLI ops/s
    ping                  specrun ops/s >= 5 x SDK ops/s

Usage: engine_table.py OUT_DIR [--markdown FILE]
Standard library only.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

OPERATIONS = ("exec", "version", "info", "ping")
TOOLS = ("specrun", "sdk", "cli")


class Figure:
    """One tool's ops/s and p50 latency for one operation and level, by run number."""

    def __init__(self) -> None:
        self.ops_per_second: Dict[int, float] = {}
        self.p50_ms: Dict[int, float] = {}
        self.errors = 0

    def add(self, run: int, ops_per_second: float, p50_ms: Optional[float], errors: int) -> None:
        self.ops_per_second[run] = ops_per_second
        if p50_ms is not None:
            self.p50_ms[run] = p50_ms
        self.errors += errors

    def median_ops(self) -> Optional[float]:
        return statistics.median(self.ops_per_second.values()) if self.ops_per_second else None

    def median_p50(self) -> Optional[float]:
        return statistics.median(self.p50_ms.values()) if self.p50_ms else None


def run_ratios(mine: Optional[Figure], other: Optional[Figure]) -> List[float]:
    """Return mine / other ops/s for each run that measured both, skipping runs where other is 0."""
    if mine is None or other is None:
        return []
    return [
        mine.ops_per_second[run] / other.ops_per_second[run]
        for run in sorted(mine.ops_per_second.keys() & other.ops_per_second.keys())
        if other.ops_per_second[run] > 0
    ]


def median_ratio(mine: Optional[Figure], other: Optional[Figure]) -> Optional[float]:
    ratios = run_ratios(mine, other)
    return statistics.median(ratios) if ratios else None


def read_specrun(path: Path) -> Optional[Tuple[float, Optional[float], int]]:
    """Return (ops/s, p50 ms, errors) of the single level in a specrun JSON report."""
    report = json.loads(path.read_text())
    levels = [level for operation in report["operations"] for level in operation["levels"]]
    if len(levels) != 1:
        return None
    level = levels[0]
    latency = level.get("latency_ms") or {}
    return level["ops_per_second"], latency.get("p50"), level["errors"]


def read_reference(path: Path) -> Optional[Tuple[float, Optional[float], int]]:
    """Return (ops/s, p50 ms, errors) of the JSON line of sdk_loop.py or cli_loop.sh."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    record = json.loads(lines[0])
    latency = record.get("latency_ms") or {}
    return record["ops_per_second"], latency.get("p50"), record["errors"]


def read_figure(path: Path) -> Optional[Tuple[float, Optional[float], int]]:
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        return read_specrun(path) if path.suffix == ".json" else read_reference(path)
    except (ValueError, KeyError) as error:
        print(f"engine_table.py: skipping {path}: {error}", file=sys.stderr)
        return None


def collect(out_dir: Path):
    """Gather every run's figures by (level, op, tool), the transport figures and load averages."""
    figures: Dict[Tuple[int, str, str], Figure] = {}
    transport: Dict[str, Figure] = {}
    loads: List[float] = []
    run_dirs = sorted(out_dir.glob("run-*"), key=lambda path: int(path.name.split("-")[1]))
    for run_dir in run_dirs:
        run = int(run_dir.name.split("-")[1])
        for level_dir in run_dir.glob("level-*"):
            level = int(level_dir.name.split("-")[1])
            for operation in OPERATIONS:
                for tool in TOOLS:
                    suffix = ".json" if tool == "specrun" else ".jsonl"
                    figure = read_figure(level_dir / f"{tool}-{operation}{suffix}")
                    if figure is not None:
                        figures.setdefault((level, operation, tool), Figure()).add(run, *figure)
            for loadavg in level_dir.glob("loadavg-*.txt"):
                loads.append(float(loadavg.read_text().split()[0]))
        for name in ("specrun-pooled.json", "specrun-unpooled.json", "sdk-ping.jsonl"):
            figure = read_figure(run_dir / "transport" / name)
            if figure is not None:
                transport.setdefault(name.split(".")[0], Figure()).add(run, *figure)
    return len(run_dirs), figures, transport, loads




def verdicts(operation: str, specrun: Optional[Figure], sdk: Optional[Figure], cli: Optional[Figure]) -> List[str]:
    """Return the PASS or MISS verdict of each target that applies to the operation."""
    targets = []
    if operation in ("exec", "version", "info"):
        targets.append(("SDK", 1.0, sdk))
    if operation == "exec":
        targets.append(("2xCLI", 2.0, cli))
    if operation == "ping":
        targets.append(("5xSDK", 5.0, sdk))

    results = []
    for name, factor, other in targets:
        ratios = run_ratios(specrun, other)
        if not ratios:
            results.append(f">={name} n/a")
            continue
        verdict = "PASS" if statistics.median(ratios) >= factor else "MISS"
        passed = sum(1 for value in ratios if value >= factor)
        results.append(f">={name} {verdict} ({passed}/{len(ratios)} runs)")
    return results


def number(value: Optional[float], digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table_rows(figures: Dict[Tuple[int, str, str], Figure]) -> List[List[str]]:
    rows = []
    levels = sorted({level for level, _, _ in figures})
    for operation in OPERATIONS:
        for level in levels:
            specrun, sdk, cli = (figures.get((level, operation, tool)) for tool in TOOLS)
            if specrun is None and sdk is None and cli is None:
                continue
            ops = [figure.median_ops() if figure else None for figure in (specrun, sdk, cli)]
            p50 = [figure.median_p50() if figure else None for figure in (specrun, sdk, cli)]
            errors = [figure.errors if figure else 0 for figure in (specrun, sdk, cli)]
            rows.append([
                str(level),
                operation,
                number(ops[0]),
                number(ops[1]),
                number(ops[2]),
                number(median_ratio(specrun, sdk), 2),
                number(median_ratio(specrun, cli), 2),
                number(p50[0], 2),
                number(p50[1], 2),
                number(p50[2], 2),
                "/".join(str(count) for count in errors),
                "; ".join(verdicts(operation, specrun, sdk, cli)),
            ])
    return rows


HEADER = [
    "level", "op", "specrun ops/s", "SDK ops/s", "CLI ops/s", "specrun/SDK", "specrun/CLI",
    "specrun p50 ms", "SDK p50 ms", "CLI p50 ms", "errors s/S/C", "targets",
]
TRANSPORT_HEADER = ["client (ping, 1 worker)", "ops/s", "p50 ms", "vs SDK"]


def transport_rows(transport: Dict[str, Figure]) -> List[List[str]]:
    sdk = transport.get("sdk-ping")
    labels = {
        "specrun-pooled": "specrun --transport pooled",
        "specrun-unpooled": "specrun --transport unpooled",
        "sdk-ping": "docker SDK",
    }
    rows = []
    for key, label in labels.items():
        figure = transport.get(key)
        if figure is None:
            continue
        rows.append([label, number(figure.median_ops()), number(figure.median_p50(), 3),
                     number(median_ratio(figure, sdk), 2)])
    return rows


def format_text(header: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(header[index]), *(len(row[index]) for row in rows)) for index in range(len(header))]
    lines = ["  ".join(cell.rjust(width) if index < len(header) - 1 else cell
                       for index, (cell, width) in enumerate(zip(line, widths)))
             for line in [header, *rows]]
    return "\n".join(line.rstrip() for line in lines)


def format_markdown(header: List[str], rows: List[List[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header[:-1]) + "|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Print the side-by-side table of an engine.sh run.")
    parser.add_argument("out_dir", type=Path, help="output directory of engine.sh")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown to this file")
    args = parser.parse_args(argv)

    runs, figures, transport, loads = collect(args.out_dir)
    if not figures:
        print(f"engine_table.py: no results found under {args.out_dir}", file=sys.stderr)
        return 1
    rows = table_rows(figures)
    ping_rows = transport_rows(transport)
    kind = "medians of" if runs > 1 else "from"
    summary = (f"{kind} {runs} run(s); ratios are medians of per-run ratios; "
               "errors are counted over all runs as specrun/SDK/CLI")
    if loads:
        summary += (f"; 1-minute load average when each step started: min {min(loads):.2f}, "
                    f"median {statistics.median(loads):.2f}, max {max(loads):.2f}")

    print(summary)
    print(format_text(HEADER, rows))
    if ping_rows:
        print()
        print(format_text(TRANSPORT_HEADER, ping_rows))
    misses = sum(row[-1].count("MISS") for row in rows)
    passes = sum(row[-1].count("PASS") for row in rows)
    print()
    print(f"targets: {passes} PASS, {misses} MISS")

    if args.markdown:
        parts = [summary, "", format_markdown(HEADER, rows)]
        if ping_rows:
            parts += ["", format_markdown(TRANSPORT_HEADER, ping_rows)]
        parts += ["", f"targets: {passes} PASS, {misses} MISS"]
        args.markdown.write_text("\n".join(parts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
