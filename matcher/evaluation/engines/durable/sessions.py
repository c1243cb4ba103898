"""Sessions: compiled rulesets in the C core, and the life of one session in them.

A ruleset is created from a definition (``rules.definition``), primed, and then runs one session
per batch of facts (``Sessions.run``): the facts are asserted, every firing is drained as a
message, and the session is deleted before any message is read. A ruleset that fails is retired
(deleted in the C core) and compiled again by the engine on next use.

**Traps** (durable-rules 2.0.28; tests in ``tests/test_durable.py``):

* *uninitialised sessions*: ``delete_state`` frees the two buffers of a session's current action,
  which the C core never initialises when it creates a session (``createStateNode``) and sets only
  when an action starts; a fresh slot of its session pool may hold any bytes. So every ruleset is
  *primed* when it is created (``prime``): a session holding only the sentinel is run to its end
  and deleted, which leaves those two pointers null in the pool's slot. A ruleset never has more
  than one live session, and the pool reuses the slot it freed last, so every later session
  starts from that primed slot and can be deleted safely whether or not an action started;
* *sessions*: each session is deleted in ``finally``, so a ruleset never has more than one live
  session (the cap is 1,024), and any failure of the C core then retires the ruleset with
  ``delete_ruleset``. A failed session is deleted first, because ``delete_ruleset`` frees the
  ruleset's session pool but not the buffers of the sessions in it (about a megabyte for a trial
  of this catalog): without that, every failure leaked them. Only two sessions are left
  undeleted, with their ruleset retired: one whose assertion ran out of memory (the C core may
  have half-created it, with pointers not yet set) and a priming session in which no action
  started (its slot was never primed);
* *return codes*: the "observed" (a duplicate fact) and "deferred" codes of ``assert_facts`` are
  ``EngineError`` all the same, after the session is drained and deleted;
* *handles*: a retired ruleset is never deleted twice (``retire``).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from matcher.core.errors import EngineError
from matcher.criteria.compiler import Leaf
from matcher.evaluation.engines.durable.encoding import Fact, payload
from matcher.evaluation.engines.durable.native import (
    NOT_HANDLED,
    OBSERVED,
    OK,
    Native,
    describe,
)
from matcher.evaluation.engines.durable.rules import Found, Target, collect

__all__ = ["Ruleset", "Sessions"]

_NAMES: Final = itertools.count()


@dataclass(eq=False)
class Ruleset:
    """One durable-rules ruleset: up to ``rules.MAX_LEAVES`` leaves of one trial, by slot."""

    handle: int
    leaves: tuple[Leaf, ...]
    targets: dict[str, Target]
    retired: bool = False
    #: True once a session has run to its end in this ruleset (see "uninitialised sessions").
    primed: bool = False


class Sessions:
    """Rulesets and their sessions in one C core. Not thread-safe: the engine holds its lock
    around every call."""

    def __init__(self, native: Native) -> None:
        self.native = native
        self._ids = itertools.count()

    def create(
        self, trial: str, leaves: tuple[Leaf, ...], text: str, targets: dict[str, Target]
    ) -> Ruleset:
        """A new, primed ruleset of trial ``trial`` from the definition ``text``."""
        try:
            handle = self.native.create_ruleset(f"matcher{next(_NAMES)}", text)
        except Exception as exc:
            raise EngineError(
                f"the durable-rules engine could not compile trial {trial}: {exc}"
            ) from exc
        ruleset = Ruleset(handle, leaves, targets)
        try:
            self.prime(trial, ruleset)
        except BaseException:
            self.retire([ruleset])
            raise
        return ruleset

    def prime(self, trial: str, ruleset: Ruleset) -> None:
        """Run a session holding only the sentinel to its end (see "uninitialised sessions")."""
        collect(ruleset.targets, self.run(trial, ruleset, []), Found(0))
        ruleset.primed = True

    def retire(self, rulesets: Iterable[Ruleset]) -> None:
        """Delete ``rulesets`` in the C core, each at most once."""
        for ruleset in rulesets:
            if ruleset.retired:  # deleted already: a handle is never freed twice
                continue
            ruleset.retired = True
            with contextlib.suppress(Exception):  # a failure leaves nothing else to free
                self.native.delete_ruleset(ruleset.handle)

    def run(self, trial: str, ruleset: Ruleset, batch: Sequence[Fact]) -> list[str]:
        """Assert ``batch`` in a fresh session, collect every firing, delete the session.

        Only C calls happen while the session is open; the firings are read afterwards."""
        native, handle = self.native, ruleset.handle
        sid = f"s{next(self._ids)}"
        text = payload(batch, sid)
        messages: list[str] = []
        # Whether the session can be deleted: not before its assertion reached the C core, nor
        # after it ran out of memory there (the session may be half-created); in an unprimed
        # ruleset only once an action started.
        deletable = started = closed = False
        failure: Exception | None = None
        try:
            deletable = True
            try:
                code, offset = native.assert_facts(handle, text)
            except MemoryError:
                deletable = False
                raise
            message = native.start_action_for_state(handle, offset)
            started = message is not None
            while message is not None:
                messages.append(message)
                message = native.complete_and_start_action(handle, offset)
            if code not in (OK, NOT_HANDLED):
                kind = "a duplicate fact" if code == OBSERVED else "a deferred fact"
                failure = EngineError(f"durable-rules reported {kind} (return code {code})")
        except Exception as exc:
            failure = exc
        finally:
            closed = self._close(ruleset, sid, deletable and (started or ruleset.primed))
            if not closed or failure is not None:
                self.retire([ruleset])  # compiled again on next use
        if failure is not None or not closed:
            why = f": {describe(failure)}" if failure else ""
            raise EngineError(
                f"the durable-rules engine failed on trial {trial}{why}; its rules will be "
                "compiled again for the next evaluation"
            ) from failure
        return messages

    def _close(self, ruleset: Ruleset, sid: str, safe: bool) -> bool:
        """Delete session ``sid``; False when that is not ``safe`` (see "uninitialised sessions"
        and "sessions" above: the session is then left to its retired ruleset) or failed."""
        if not safe:
            return False
        try:
            self.native.delete_state(ruleset.handle, sid)
        except Exception:
            return False
        return True
