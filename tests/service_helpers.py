"""A real ``matcher serve`` on loopback for the service tests: started, waited for, stopped.

The server runs as a child process (the installed console script), on a free port picked by the
operating system; its stderr (uvicorn's and matcher's logs, the access log) goes to a file the
test can read.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from helpers import DATA

MATCHER = str(Path(sys.executable).parent / "matcher")
MITRE_SAMPLE = DATA / "fhir" / "mitre" / "patient_data.json"
#: Golden answers of the service (regenerate with MATCHER_UPDATE_GOLDEN=1, then read the diff).
GOLDEN = DATA / "service"
UPDATE = os.environ.get("MATCHER_UPDATE_GOLDEN") == "1"
ACCESS_LOGGER = "matcher.service.access"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def diagnostics(code: str, message: str, path: str = "") -> dict[str, Any]:
    """A refusal as the service writes it: one diagnostic about the request body."""
    return {
        "diagnostics": [
            {
                "code": code,
                "message": message,
                "file": "request body",
                "line": 0,
                "column": 0,
                "path": path,
            }
        ]
    }


def golden(name: str, data: Any, base_url: str) -> None:
    """``data`` equals the golden file ``name`` (the server's own URL written as http://BASE)."""
    text = json.dumps(data, indent=2, ensure_ascii=False).replace(base_url, "http://BASE") + "\n"
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def mitre_sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MITRE_SAMPLE.read_text(encoding="utf-8"))
    return data


def with_parameters(bundle: dict[str, Any], **values: str) -> dict[str, Any]:
    """A copy of ``bundle`` with a Parameters entry holding ``values`` as valueString/valueDate."""
    out = copy.deepcopy(bundle)
    parameters = [
        {"name": name, "valueDate" if name == "asOf" else "valueString": value}
        for name, value in values.items()
    ]
    out["entry"].append({"resource": {"resourceType": "Parameters", "parameter": parameters}})
    return out


class Server:
    """``matcher serve`` in a child process; use as a context manager."""

    def __init__(
        self, log: Path, args: Sequence[str] = (), env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = [MATCHER, "serve", "--port", str(self.port), *self.args]
        with self.log.open("wb") as stderr:
            self.process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=stderr, env=self.env
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"matcher serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"matcher serve did not start: {self.log.read_text()}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def logs(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def access_lines(self, done: Callable[[list[str]], bool], timeout: float = 30.0) -> list[str]:
        """The access-log lines written so far, once ``done(lines)`` holds (or after ``timeout``
        seconds; the caller's assertions then say what is missing).

        The server writes a request's line after it has sent the answer, so a client that has
        its answer may read the log before the line is there, and may read the last line half
        written: only lines ended by a newline are returned, and the log is read again until
        ``done`` holds.
        """
        deadline = time.monotonic() + timeout
        while True:
            text = self.logs()
            whole = text[: text.rfind("\n") + 1]
            lines = [line for line in whole.splitlines() if ACCESS_LOGGER + ":" in line]
            if done(lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)
