"""Service benchmark: ``matcher serve`` with the bundled catalog, the MITRE sample request, and many
concurrent clients on loopback. Prints a table of requests/s and latency percentiles, then the
targets (issue 15: >= 300 requests/s on 2 workers, p99 <= 50 ms at 50 concurrent clients), each
met or missed.

Two loads per route. *Closed loop*: each of the 50 clients sends its next request as soon as
its answer is in, so the server is always saturated and, by Little's law, the mean latency is
50 / throughput: a p99 of 50 ms at 50 closed-loop clients needs more than 1,000 requests/s,
whatever the service does per request. *Open loop*: the 50 clients together send the target's
300 requests/s on a fixed schedule (each one request every 1/6 s) and latency counts from when
a request was due: the latency at the load the throughput target implies.

On a shared machine run it alone (for example under ``flock``): the
load average at the start and at the end is printed, and "server CPU / request" (the workers'
CPU time over the requests answered) does not depend on how busy the machine is, unlike
requests/s; "capacity" is the two cores divided by it.

    python tests/benchmarks/service_bench.py                 # 2 workers, 50 clients, 20 s each
    python tests/benchmarks/service_bench.py --seconds 5     # a quick run

The load generator is a few lines of asyncio speaking HTTP/1.1 with keep-alive on raw sockets,
so that the client takes little of the 2 cores the workers need (a full HTTP client library
would take more CPU than the server). Every answer is checked: status 200 and the same bytes as
the first answer, whose verdicts equal the library's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "data" / "fhir" / "mitre" / "patient_data.json"
MATCHER = str(Path(sys.executable).parent / "matcher")
AS_OF = "2026-11-21"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bodies() -> dict[str, bytes]:
    bundle = json.loads(SAMPLE.read_text(encoding="utf-8"))
    check = json.dumps({"patient": bundle, "as_of": AS_OF}).encode()
    parameters = {"name": "asOf", "valueDate": AS_OF}
    bundle["entry"].append({"resource": {"resourceType": "Parameters", "parameter": [parameters]}})
    return {"/getClinicalTrial": json.dumps(bundle).encode(), "/check": check}


class Server:
    def __init__(self, workers: int, log: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = [MATCHER, "serve", "--port", str(self.port), "--workers", str(self.workers)]
        command += ["--log-level", "warning"]  # the access log costs time: measure the service
        with self.log.open("wb") as stderr:
            self.process = subprocess.Popen(command, stderr=stderr, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"the server did not start: {self.log.read_text()}")

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


async def one_client(
    port: int,
    request: bytes,
    stop: float,
    latencies: list[float],
    answers: dict[bytes, int],
    interval: float | None = None,
    offset: float = 0.0,
) -> int:
    """Send ``request`` over one keep-alive connection until ``stop``.

    Closed loop (``interval`` None): the next request goes as soon as the answer is in. Open
    loop: requests are due every ``interval`` seconds from ``offset``, and latency counts from
    when a request was due, so that a slow answer also delays (and is charged to) the next ones.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    due = time.perf_counter() + offset
    try:
        while time.monotonic() < stop:
            if interval is not None:
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            started = due if interval is not None else time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
            answers[body] = answers.get(body, 0) + 1
            if interval is not None:
                due += interval
    finally:
        writer.close()
    return errors


async def load(
    port: int, path: str, body: bytes, clients: int, seconds: float, rate: float | None = None
) -> tuple[list[float], int, dict[bytes, int], float]:
    """``clients`` connections for ``seconds``: closed loop, or open loop at ``rate`` requests/s
    in all (spread evenly over the clients)."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    answers: dict[bytes, int] = {}
    started = time.monotonic()
    stop = started + seconds
    interval = clients / rate if rate else None
    errors = await asyncio.gather(
        *(
            one_client(
                port, request, stop, latencies, answers, interval, (i / rate) if rate else 0.0
            )
            for i in range(clients)
        )
    )
    return latencies, sum(errors), answers, time.monotonic() - started


def library_verdicts() -> list[tuple[str, str, float]]:
    import matcher

    bundle = json.loads(SAMPLE.read_text(encoding="utf-8"))
    result = matcher.check(
        matcher.patient_from_data(bundle), matcher.load_trials(), as_of=date.fromisoformat(AS_OF)
    )
    return [(t.trial, t.verdict.value, t.score) for t in result.trials]


def answer_verdicts(path: str, body: bytes) -> list[tuple[str, str, float]]:
    data: Any = json.loads(body)
    if path == "/check":
        return [(t["trial"], t["verdict"], t["score"]) for t in data["trials"]]
    out = []
    for entry in data["entry"]:
        study = entry["resource"]
        [result] = [e for e in study["extension"] if e["url"].endswith("trial-match-result")]
        verdict = next(p["valueCode"] for p in result["extension"] if p["url"] == "verdict")
        out.append((study["id"], verdict, entry["search"]["score"]))
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its descendants, from /proc (Linux)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except OSError:
        pass
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(
    server: Server, path: str, body: bytes, clients: int, seconds: float, rate: float | None
) -> tuple[Any, ...]:
    assert server.process is not None
    cpu_before = cpu_seconds(server.process.pid)
    client_before = time.process_time()
    latencies, errors, answers, elapsed = asyncio.run(
        load(server.port, path, body, clients, seconds, rate)
    )
    cpu = (cpu_seconds(server.process.pid) - cpu_before) / len(latencies)
    client_cpu = (time.process_time() - client_before) / len(latencies)
    distinct = len(answers)
    right = distinct == 1 and answer_verdicts(path, next(iter(answers))) == EXPECTED
    return Row(
        path=path,
        rate=rate,
        requests=len(latencies),
        per_second=len(latencies) / elapsed,
        p50=statistics.median(latencies),
        p99=percentile(latencies, 0.99),
        worst=max(latencies),
        cpu=cpu,
        client_cpu=client_cpu,
        errors=errors,
        right=right,
        distinct=distinct,
    )


@dataclass(frozen=True)
class Row:
    path: str
    rate: float | None
    requests: int
    per_second: float
    p50: float
    p99: float
    worst: float
    cpu: float
    client_cpu: float
    errors: int
    right: bool
    distinct: int

    def cells(self) -> tuple[str, ...]:
        return (
            "closed loop" if self.rate is None else f"open loop, {self.rate:g}/s",
            f"`POST {self.path}`",
            f"{self.requests:,}",
            f"{self.per_second:,.0f}",
            f"{self.p50 * 1000:.1f} ms",
            f"{self.p99 * 1000:.1f} ms",
            f"{self.worst * 1000:.1f} ms",
            f"{self.cpu * 1000:.2f} ms",
            f"{(os.cpu_count() or 1) / self.cpu:,.0f}/s",
            f"{self.client_cpu * 1000:.2f} ms",
            str(self.errors),
            "yes" if self.right else f"NO ({self.distinct} distinct)",
        )


def targets(rows: list[Row], clients: int, rate: float) -> list[tuple[str, ...]]:
    """One line per target and route: what was measured, met or missed."""
    out = []
    for path in dict.fromkeys(r.path for r in rows):
        closed = next(r for r in rows if r.path == path and r.rate is None)
        opened = next((r for r in rows if r.path == path and r.rate is not None), None)
        out.append(
            (
                f"`POST {path}`: >= 300 requests/s (closed loop)",
                f"{closed.per_second:,.0f}/s",
                "met" if closed.per_second >= 300 else "missed",
            )
        )
        out.append(
            (
                f"`POST {path}`: p99 <= 50 ms at {clients} closed-loop clients",
                f"{closed.p99 * 1000:.0f} ms (Little: mean {clients / closed.per_second * 1000:.0f}"
                " ms)",
                "met" if closed.p99 <= 0.050 else "missed",
            )
        )
        if opened is not None:
            out.append(
                (
                    f"`POST {path}`: p99 <= 50 ms at {rate:g} requests/s offered (open loop)",
                    f"{opened.p99 * 1000:.0f} ms at {opened.per_second:,.0f}/s answered",
                    "met" if opened.p99 <= 0.050 and opened.per_second >= 0.97 * rate else "missed",
                )
            )
    return out


EXPECTED: list[tuple[str, str, float]] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=300.0, help="open-loop requests/s")
    parser.add_argument("--warm-up", type=float, default=3.0)
    args = parser.parse_args()

    EXPECTED.extend(library_verdicts())
    load_before = os.getloadavg()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, Server(args.workers, Path(tmp) / "log") as server:
        for path, body in bodies().items():
            asyncio.run(load(server.port, path, body, args.clients, args.warm_up))
            rows.append(measure(server, path, body, args.clients, args.seconds, None))
            rows.append(measure(server, path, body, args.clients, args.seconds, args.rate))

    load_after = os.getloadavg()
    print(
        f"matcher service benchmark, {date.today()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores: {args.workers} workers, {args.clients} clients, "
        f"{args.seconds:g} s per row, bundled catalog, MITRE sample; load average "
        f"{load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end\n"
    )
    heads = (
        "load",
        "route",
        "requests",
        "requests/s",
        "p50",
        "p99",
        "max",
        "server CPU / request",
        "capacity",
        "client CPU / request",
        "errors",
        "= library",
    )
    print("| " + " | ".join(heads) + " |")
    print("|" + "---|" * len(heads))
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")
    print("\n| target | measured | |\n|---|---|---|")
    for line in targets(rows, args.clients, args.rate):
        print("| " + " | ".join(line) + " |")


if __name__ == "__main__":
    main()
