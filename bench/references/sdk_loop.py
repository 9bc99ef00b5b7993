#!/usr/bin/env python3
"""Measure the Docker engine through the Python docker SDK, as a reference for `specrun --bench`.

For each operation and concurrency level, N threads each own one
docker.DockerClient on the Unix socket /var/run/docker.sock and run the
operation in a closed loop: a warm-up whose samples are discarded, then the
measured window. The operations are the ones specrun measures:

    exec     container.exec_run("true"): create, start (attached, output read) and inspect
    version  client.version(), GET /version
    info     client.info(), GET /info
    ping     client.ping(), GET /_ping

Each level prints one JSON line on stdout (fields in loopstats.py). Exec calls
go to the --container names in turn, starting at a different one per thread.

The SDK runs from a virtual environment in bench/out/venv. When that is
missing, the script creates it, installs the SDK from PyPI and runs itself
again with the environment's interpreter.

Usage:
    python3 bench/references/sdk_loop.py --ops exec,version --concurrency 1,2,4 \
        --duration 5s --warmup 1s --container NAME [--container NAME ...]
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

REFERENCES_DIR = Path(__file__).resolve().parent
VENV_DIR = REFERENCES_DIR.parent / "out" / "venv"
SDK_REQUIREMENT = "docker==7.2.0"
DOCKER_SOCKET = "/var/run/docker.sock"
OPERATIONS = ("exec", "version", "info", "ping")

# Seconds one SDK call may take before it fails. specrun waits 60 s for calls still in
# flight when a level ends, so a stuck call costs both tools about the same.
CALL_TIMEOUT_S = 60

sys.path.insert(0, str(REFERENCES_DIR))
import loopstats  # noqa: E402  (found through the path entry above)


def run_in_venv() -> None:
    """Create bench/out/venv with the SDK when missing, then re-run this script inside it."""
    venv_python = VENV_DIR / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV_DIR.resolve():
        return
    if not venv_python.exists():
        print(f"creating {VENV_DIR} and installing {SDK_REQUIREMENT}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
        subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", SDK_REQUIREMENT], check=True)
    os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])


def import_sdk():
    """Import the docker SDK, installing it into the running virtual environment when missing."""
    try:
        import docker
    except ImportError:
        print(f"installing {SDK_REQUIREMENT} into {sys.prefix}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", SDK_REQUIREMENT], check=True)
        import docker
    return docker


def parse_duration(text: str) -> float:
    """Parse a duration such as 500ms, 5s, 1.5s or 2m into seconds; a bare number is seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: write it as 500ms, 5s or 2m")
    value = float(match.group(1))
    unit = match.group(2) or "s"
    return value * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


def parse_levels(text: str) -> List[int]:
    """Parse comma-separated worker counts such as 1,2,4,8 into a sorted list without duplicates."""
    try:
        levels = sorted({int(item) for item in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid concurrency {text!r}: write worker counts such as 1,2,4,8") from None
    if levels[0] < 1:
        raise argparse.ArgumentTypeError(f"invalid concurrency {text!r}: every level must be at least 1")
    return levels


def parse_operations(text: str) -> List[str]:
    operations = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [operation for operation in operations if operation not in OPERATIONS]
    if unknown or not operations:
        raise argparse.ArgumentTypeError(f"invalid operations {text!r}: choose from {','.join(OPERATIONS)}")
    return operations


class ExitStatusError(Exception):
    """An exec of `true` that ended with a status other than 0."""


def operation_call(client, operation: str, containers: List, offset: int) -> Callable[[], None]:
    """Return a function that runs `operation` once through `client` and raises on failure."""
    if operation == "version":
        return client.version
    if operation == "info":
        return client.info
    if operation == "ping":
        return client.ping

    calls = [offset]

    def exec_true() -> None:
        container = containers[calls[0] % len(containers)]
        calls[0] += 1
        result = container.exec_run("true")
        if result.exit_code != 0:
            raise ExitStatusError(f"`true` in {container.name} ended with exit status {result.exit_code}")

    return exec_true


def run_worker(call: Callable[[], None], errors_to_catch: tuple, window: Dict[str, float], start: threading.Barrier,
               samples: List[tuple]) -> None:
    """Run `call` in a closed loop until the deadline, appending (finished, latency_s, error) to `samples`."""
    start.wait()
    deadline = window["deadline"]
    while True:
        started = time.monotonic()
        if started >= deadline:
            return
        error = None
        try:
            call()
        except errors_to_catch as failure:
            error = f"{type(failure).__name__}: {failure}"
        finished = time.monotonic()
        samples.append((finished, finished - started, error))


def measure_level(docker, operation: str, concurrency: int, duration_s: float, warmup_s: float,
                  container_names: List[str]) -> dict:
    """Run one operation at one concurrency level and return its JSON record."""
    import requests

    clients = [
        docker.DockerClient(base_url=f"unix://{DOCKER_SOCKET}", version="auto", timeout=CALL_TIMEOUT_S)
        for _ in range(concurrency)
    ]
    errors_to_catch = (docker.errors.DockerException, requests.exceptions.RequestException, OSError,
                       ExitStatusError)
    window: Dict[str, float] = {}
    start = threading.Barrier(concurrency + 1)
    per_thread_samples: List[List[tuple]] = [[] for _ in range(concurrency)]
    threads = []
    for index, client in enumerate(clients):
        containers = [client.containers.get(name) for name in container_names] if operation == "exec" else []
        call = operation_call(client, operation, containers, index)
        thread = threading.Thread(
            target=run_worker,
            args=(call, errors_to_catch, window, start, per_thread_samples[index]),
            name=f"{operation}-{index}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)

    began = time.monotonic()
    window["measure_from"] = began + warmup_s
    window["deadline"] = began + warmup_s + duration_s
    start.wait()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()

    latencies_ms: List[float] = []
    error_messages: Dict[str, int] = {}
    warmup_errors = 0
    for samples in per_thread_samples:
        for finished, latency_s, error in samples:
            if error is None:
                if window["measure_from"] <= finished <= window["deadline"]:
                    latencies_ms.append(latency_s * 1000)
            elif finished < window["measure_from"]:
                warmup_errors += 1
            else:
                error_messages[error] = error_messages.get(error, 0) + 1

    return loopstats.level_record(
        tool="sdk",
        op=operation,
        concurrency=concurrency,
        duration_s=duration_s,
        warmup_s=warmup_s,
        containers=container_names if operation == "exec" else [],
        latencies_ms=latencies_ms,
        error_messages=error_messages,
        warmup_errors=warmup_errors,
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=f"Closed-loop reference measurement of the Docker engine at {DOCKER_SOCKET} "
        "through the Python docker SDK; one JSON line per operation and level."
    )
    parser.add_argument("--ops", type=parse_operations, default=["exec", "version", "info"],
                        help=f"operations to measure, comma-separated from {','.join(OPERATIONS)} (default: exec,version,info)")
    parser.add_argument("--concurrency", type=parse_levels, default=[1, 2, 4, 8, 16],
                        help="threads per level, comma-separated (default: 1,2,4,8,16)")
    parser.add_argument("--duration", type=parse_duration, default=5.0,
                        help="measured time per operation and level, such as 5s (default: 5s)")
    parser.add_argument("--warmup", type=parse_duration, default=1.0,
                        help="time before the measured window whose samples are discarded, such as 1s (default: 1s)")
    parser.add_argument("--container", action="append", default=[], metavar="NAME",
                        help="running container for exec calls; repeat to spread the calls over several")
    args = parser.parse_args(argv)
    if args.duration <= 0:
        parser.error("--duration must be greater than 0")
    if "exec" in args.ops and not args.container:
        parser.error("--ops exec needs --container NAME of a running container")

    run_in_venv()
    docker = import_sdk()
    try:
        for operation in args.ops:
            for concurrency in args.concurrency:
                record = measure_level(docker, operation, concurrency, args.duration, args.warmup, args.container)
                print(json.dumps(record), flush=True)
    except KeyboardInterrupt:
        # End with SIGINT itself rather than an exit status, so that a calling shell stops too.
        print("sdk_loop.py: interrupted", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
