"""The native adapter: the few functions of durable-rules' C core this engine calls, typed.

This is the only module that imports durable-rules, and it imports only its C core,
``durable_rules_engine`` (the module ships no stubs; ``Native`` gives its calls types). The
engine drives it synchronously.

**Traps** (durable-rules 2.0.28; tests in ``tests/test_durable.py``):

* *threads and callbacks*: ``durable.engine.Host`` starts timer threads and runs Python actions
  inside the C core. Neither is used: no Python code runs inside the C core, and firings are read
  as messages after a session is closed (``sessions``). A fresh process that evaluates starts no
  thread (``test_no_host_and_no_threads_in_a_fresh_process``);
* *thread safety*: the C core is not thread-safe; the engine holds a module lock around every
  call (``engine``);
* *availability*: durable-rules 2.0.28 does not build on Python 3.13 or later. There, or when its
  C module cannot be imported, ``load`` raises ``EngineError`` (exit status 5 in the CLI);
* *errors*: every call may raise the module's ``error`` or ``MemoryError``; their messages hold
  return codes, never fact values (``describe``).
"""

from __future__ import annotations

import platform
import sys
from typing import Any, Final

from matcher.core.errors import EngineError

__all__ = ["NOT_HANDLED", "OBSERVED", "OK", "Native", "describe", "import_native", "load"]

#: durable-rules return codes of ``assert_facts``.
OK: Final = 0
NOT_HANDLED: Final = 1
OBSERVED: Final = 2


class Native:
    """The functions of the C module ``durable_rules_engine`` this engine calls, typed. Every
    call may raise the module's ``error`` or ``MemoryError``."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def create_ruleset(self, name: str, definition: str) -> int:
        return int(self._module.create_ruleset(name, definition))

    def delete_ruleset(self, handle: int) -> None:
        self._module.delete_ruleset(handle)

    def assert_facts(self, handle: int, facts: str) -> tuple[int, int]:
        code, offset = self._module.assert_facts(handle, facts)
        return int(code), int(offset)

    def start_action_for_state(self, handle: int, offset: int) -> str | None:
        """The first fired rule's message (``{rule: {alias: fact}}``), or ``None``."""
        found = self._module.start_action_for_state(handle, offset)
        return None if found is None else str(found[1])

    def complete_and_start_action(self, handle: int, offset: int) -> str | None:
        found = self._module.complete_and_start_action(handle, offset)
        return None if found is None else str(found)

    def delete_state(self, handle: int, sid: str) -> None:
        self._module.delete_state(handle, sid)


def import_native() -> Any:
    import durable_rules_engine  # type: ignore[import-not-found]

    return durable_rules_engine


def load() -> Native:
    """The C core, or ``EngineError`` on Python 3.13 or later and when it cannot be imported."""
    if sys.version_info >= (3, 13):
        raise EngineError(
            f"the durable-rules engine is not available on this Python ({platform.python_version()}"
            "; durable-rules 2.0.28 supports Python 3.12 at most): use --engine python"
        )
    try:
        module = import_native()
    except ImportError as exc:
        raise EngineError(
            "the durable-rules engine is not available on this Python "
            f"(durable_rules_engine cannot be imported: {exc}): use --engine python"
        ) from exc
    return Native(module)


def describe(exc: BaseException) -> str:
    """``MemoryError`` or ``KeyError: 'r'``: the C module's messages hold codes, never data."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
