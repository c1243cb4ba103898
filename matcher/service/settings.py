"""The service's settings: one frozen value, built from options or from the environment.

``matcher serve`` turns its options into environment variables (``MATCHER_SERVICE_*``) before it
starts uvicorn, because uvicorn's worker processes build the app from an import string and share
nothing else with the parent; ``Settings.from_environment()`` reads them back in each worker.

API keys never come from the command line (other users of the machine can read process
arguments): they come from ``MATCHER_API_KEYS`` (comma-separated) or from a file named by
``--api-keys-file`` / ``MATCHER_API_KEYS_FILE`` (one key per line, ``#`` comments).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from matcher.core.errors import Diagnostic, InputError

__all__ = ["DEFAULT_INLINE_BELOW", "DEFAULT_MAX_BODY", "DEFAULT_TIMEOUT", "Settings"]

#: The request body cap: 10 MB, as the MITRE matching service's body parser.
DEFAULT_MAX_BODY = 10 * 1024 * 1024
#: Seconds a request may take before the service answers 503 (``timeout``).
DEFAULT_TIMEOUT = 30.0

#: Bodies below 1 MB are checked without a thread hand-off (see ``matcher.service.app``).
DEFAULT_INLINE_BELOW = 1024 * 1024

_PREFIX = "MATCHER_SERVICE_"


@dataclass(frozen=True, slots=True)
class Settings:
    """How one service instance behaves. Every field has a safe default: loopback-only use,
    no CORS, the bundled catalog."""

    #: Criteria files or folders; empty means the bundled catalog.
    criteria: tuple[Path, ...] = ()
    #: Accepted API keys / bearer tokens; empty means no authentication.
    api_keys: frozenset[str] = frozenset()
    #: Origins allowed by CORS; empty means no CORS headers at all.
    cors_origins: tuple[str, ...] = ()
    max_body: int = DEFAULT_MAX_BODY
    timeout: float = DEFAULT_TIMEOUT
    #: Bodies smaller than this are checked on the event loop (fast, but not under the timeout);
    #: larger ones in a worker thread under the timeout. 0: every check in a thread.
    inline_below: int = DEFAULT_INLINE_BELOW
    #: Set by ``matcher serve --workers N`` (N > 1): an admin reload then also asks uvicorn's
    #: supervisor (the parent process) to replace every worker.
    supervised: bool = False

    def to_environment(self) -> dict[str, str]:
        """The settings as ``MATCHER_SERVICE_*`` variables, for worker processes."""
        env = {
            f"{_PREFIX}CRITERIA": os.pathsep.join(str(p) for p in self.criteria),
            f"{_PREFIX}CORS_ORIGINS": ",".join(self.cors_origins),
            f"{_PREFIX}MAX_BODY": str(self.max_body),
            f"{_PREFIX}TIMEOUT": repr(self.timeout),
            f"{_PREFIX}INLINE_BELOW": str(self.inline_below),
            f"{_PREFIX}SUPERVISED": "1" if self.supervised else "",
        }
        if self.api_keys:
            env[f"{_PREFIX}API_KEYS"] = ",".join(sorted(self.api_keys))
        return env

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``MATCHER_SERVICE_*`` (and ``MATCHER_API_KEYS[_FILE]``) variables.

        Raises ``InputError`` for a value that cannot be read (the variable is named, never the
        value: it may be a key).
        """
        env = os.environ if env is None else env
        keys = set(_split(env.get(f"{_PREFIX}API_KEYS", "")))
        keys.update(_split(env.get("MATCHER_API_KEYS", "")))
        key_file = env.get("MATCHER_API_KEYS_FILE")
        if key_file:
            keys.update(read_key_file(Path(key_file)))
        criteria = tuple(Path(p) for p in env.get(f"{_PREFIX}CRITERIA", "").split(os.pathsep) if p)
        return cls(
            criteria=criteria,
            api_keys=frozenset(keys),
            cors_origins=tuple(_split(env.get(f"{_PREFIX}CORS_ORIGINS", ""))),
            max_body=_number(env, "MAX_BODY", int, DEFAULT_MAX_BODY),
            timeout=_number(env, "TIMEOUT", float, DEFAULT_TIMEOUT),
            inline_below=_number(env, "INLINE_BELOW", int, DEFAULT_INLINE_BELOW, zero=True),
            supervised=bool(env.get(f"{_PREFIX}SUPERVISED")),
        )


def read_key_file(path: Path) -> list[str]:
    """API keys from a file: one per line; blank lines and ``#`` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InputError(
            Diagnostic("file-unreadable", "cannot read the API key file", str(path))
        ) from None
    keys = [line.strip() for line in text.splitlines()]
    return [key for key in keys if key and not key.startswith("#")]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


_Number = TypeVar("_Number", int, float)


def _number(
    env: Mapping[str, str],
    name: str,
    kind: type[_Number],
    default: _Number,
    *,
    zero: bool = False,
) -> _Number:
    text = env.get(f"{_PREFIX}{name}")
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = kind(0)
    if not (math.isfinite(value) and (value > 0 or (zero and text.strip() == "0"))):
        raise InputError(
            Diagnostic("invalid-value", "expected a positive number", f"${_PREFIX}{name}")
        )
    return value
