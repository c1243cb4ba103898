"""The guardrails of the durable-rules engine (``matcher.evaluation.engines.durable``), one test or
more each.

durable-rules 2.0.28 has traps that give wrong answers or crash the process instead of raising
(each module of the engine lists the traps it avoids). These tests pin the defences: no Host and
no threads, sessions always deleted, order-independent rules, strictly typed facts, no silent
duplicates, caps respected, failures raised as ``EngineError``, one evaluation at a time, and a
clear error where the engine cannot run. Whether its answers are right is
``tests/test_engines_differential.py``'s job.
"""

from __future__ import annotations

import gc
import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from typing import Any

import pytest
from helpers import BASE_TRIAL, DATA, TrialFolder
from hypothesis import given
from hypothesis import strategies as st
from test_engines_differential import comparable, generate

import matcher
from matcher.cli import main
from matcher.core.errors import EngineError
from matcher.criteria.compiler import Catalog
from matcher.evaluation.engines import get_engine
from matcher.evaluation.engines.durable import (
    DurableEngine,
    durable_engine,
    encoding,
    native,
    rules,
)
from matcher.evaluation.engines.durable import engine as core
from matcher.evaluation.engines.durable.native import Native
from matcher.evaluation.engines.durable.sessions import Sessions
from matcher.evaluation.engines.python import PYTHON_ENGINE
from matcher.evaluation.evaluate import check_facts, prepare

AS_OF = date(2026, 11, 21)
VETERAN = DATA / "patients" / "veteran.yaml"
CRPS = DATA / "patients" / "crps_clonazepam.yaml"


def fnv1_32(text: str) -> int:
    """The C core's ``fnv1Hash32``: it keys facts (by id), sessions and field names with it."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


class Spy(Native):
    """The real C module, with every call counted and any call made to fail on demand."""

    def __init__(self) -> None:
        super().__init__(native.import_native())
        self.calls: list[str] = []
        self.payloads: list[list[dict[str, Any]]] = []
        self.definitions: list[dict[str, Any]] = []
        self.live = 0
        self.most_live = 0
        self.fail: dict[str, Exception] = {}
        self.code: int | None = None

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise self.fail.pop(name)

    def create_ruleset(self, name: str, definition: str) -> int:
        self._call("create_ruleset")
        self.definitions.append(json.loads(definition))
        return super().create_ruleset(name, definition)

    def delete_ruleset(self, handle: int) -> None:
        self.calls.append("delete_ruleset")
        super().delete_ruleset(handle)

    def assert_facts(self, handle: int, facts: str) -> tuple[int, int]:
        self._call("assert_facts")
        self.payloads.append(json.loads(facts))
        self.live += 1
        self.most_live = max(self.most_live, self.live)
        code, offset = super().assert_facts(handle, facts)
        return (code if self.code is None else self.code), offset

    def start_action_for_state(self, handle: int, offset: int) -> str | None:
        self._call("start_action_for_state")
        return super().start_action_for_state(handle, offset)

    def complete_and_start_action(self, handle: int, offset: int) -> str | None:
        self._call("complete_and_start_action")
        return super().complete_and_start_action(handle, offset)

    def delete_state(self, handle: int, sid: str) -> None:
        self._call("delete_state")
        super().delete_state(handle, sid)
        self.live -= 1

    def count(self, name: str) -> int:
        return self.calls.count(name)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return matcher.load_trials()


@pytest.fixture
def spy() -> Spy:
    return Spy()


@pytest.fixture
def engine(spy: Spy) -> Iterator[DurableEngine]:
    """A separate engine over the spied C module (it shares the module lock)."""
    engine = DurableEngine(spy)
    yield engine
    engine.close()


def results(
    engine: DurableEngine, catalog: Catalog, patient: matcher.Patient, as_of: date = AS_OF
) -> Any:
    """The whole result of ``engine`` (its name aside), as in the differential test."""
    facts = prepare(patient, as_of)
    return comparable(check_facts(facts, catalog.trials, engine, catalog.criteria))


# --- the engine and its availability -------------------------------------------------------------


def test_one_engine_per_process_named_durable() -> None:
    engine = durable_engine()
    assert engine is durable_engine()
    assert engine.name == "durable"
    assert get_engine("durable") is engine


@pytest.mark.parametrize("cause", ["import", "python 3.13"])
def test_unavailable_engine_is_an_engine_error(
    monkeypatch: pytest.MonkeyPatch, catalog: Catalog, cause: str
) -> None:
    patient = matcher.load_patient(VETERAN)
    monkeypatch.setattr(core, "_ENGINE", None)
    if cause == "import":
        monkeypatch.setitem(sys.modules, "durable_rules_engine", None)  # import raises
    else:
        monkeypatch.setattr(sys, "version_info", (3, 13, 0, "final", 0))
    with pytest.raises(EngineError) as raised:
        durable_engine()
    assert str(raised.value).startswith(
        "the durable-rules engine is not available on this Python ("
    )
    with pytest.raises(EngineError):
        matcher.check(patient, catalog, as_of=AS_OF, engine="durable")


def test_unavailable_engine_exits_with_status_5(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(core, "_ENGINE", None)
    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)
    status = main(["check", str(VETERAN), "--as-of", "2026-11-21", "--engine", "durable"])
    err = capsys.readouterr().err
    assert status == 5
    assert "the durable-rules engine is not available on this Python (" in err
    assert "Traceback" not in err


# --- no Host, no threads -------------------------------------------------------------------------


def test_no_host_and_no_threads_in_a_fresh_process() -> None:
    script = f"""
import sys, threading, datetime, matcher
catalog = matcher.load_trials()
patient = matcher.load_patient({str(CRPS)!r})
before = threading.active_count()
for _ in range(200):
    matcher.check(patient, catalog, as_of=datetime.date(2026, 11, 21), engine="durable")
print(before, threading.active_count(), sorted(m for m in sys.modules if m.startswith("durable")))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    # The durable package (Host, timers, Python actions) is never imported: only the C module.
    assert done.stdout.split(maxsplit=2) == ["1", "1", "['durable_rules_engine']\n"]


def test_no_threads_started_by_many_evaluations(catalog: Catalog) -> None:
    before = set(threading.enumerate())
    patient = matcher.load_patient(CRPS)
    for _ in range(300):
        matcher.check(patient, catalog, as_of=AS_OF, engine="durable")
    assert set(threading.enumerate()) == before


# --- sessions ------------------------------------------------------------------------------------


def test_every_session_is_deleted(engine: DurableEngine, spy: Spy, catalog: Catalog) -> None:
    for patient, as_of in generate(catalog, 60, seed=5):
        results(engine, catalog, patient, as_of)
    sessions = spy.count("assert_facts")
    assert sessions > 100
    assert spy.count("delete_state") == sessions
    assert spy.most_live == 1


def test_more_evaluations_than_the_session_cap(engine: DurableEngine, catalog: Catalog) -> None:
    # durable-rules holds 1,024 live sessions per ruleset: without deleting each session, the
    # 1,025th evaluation of a trial would fail.
    trial = catalog.get("NCT06414356")
    assert trial is not None
    facts = prepare(matcher.load_patient(VETERAN), AS_OF)
    first = engine.decide([trial], facts)
    for _ in range(1100):
        assert engine.decide([trial], facts) == first


@pytest.mark.parametrize("call", ["start_action_for_state", "complete_and_start_action"])
def test_session_deleted_when_the_c_core_fails_mid_session(
    engine: DurableEngine, spy: Spy, catalog: Catalog, call: str
) -> None:
    patient = matcher.load_patient(CRPS)
    expected = results(engine, catalog, patient)
    spy.fail[call] = native.import_native().error("Could not start action, error code: 101")
    with pytest.raises(EngineError, match=r"^the durable-rules engine failed on trial NCT"):
        results(engine, catalog, patient)
    # The failed session is deleted, whether an action started or not (its ruleset was primed),
    # then its ruleset is retired.
    assert spy.calls[-2:] == ["delete_state", "delete_ruleset"]
    assert spy.count("delete_state") == spy.count("assert_facts")
    assert spy.live == 0
    # The failed ruleset is compiled again and the next evaluation is right.
    assert results(engine, catalog, patient) == expected


def test_every_ruleset_is_primed_by_a_session_of_the_sentinel_alone(
    engine: DurableEngine, spy: Spy, catalog: Catalog
) -> None:
    trial = catalog.get("NCT06414356")
    assert trial is not None
    engine.decide([trial], prepare(matcher.load_patient(CRPS), AS_OF))
    assert spy.count("create_ruleset") == 1
    first = spy.calls.index("create_ruleset")
    assert spy.calls[first : first + 5] == [
        "create_ruleset",
        "assert_facts",
        "start_action_for_state",
        "complete_and_start_action",
        "delete_state",
    ]
    assert [fact["t"] for fact in spy.payloads[0]] == ["go"]


def test_a_priming_session_that_starts_no_action_retires_its_ruleset(
    engine: DurableEngine, spy: Spy, catalog: Catalog
) -> None:
    trial = catalog.get("NCT06414356")
    assert trial is not None
    facts = prepare(matcher.load_patient(CRPS), AS_OF)
    spy.fail["start_action_for_state"] = native.import_native().error("error code: 101")
    with pytest.raises(EngineError, match=r"^the durable-rules engine failed on trial NCT06414356"):
        engine.decide([trial], facts)
    # Its slot was never primed: the session is left alone (deleting it could free stray
    # pointers) and the ruleset is retired.
    assert spy.calls[-1] == "delete_ruleset"
    assert spy.count("delete_state") == 0
    assert engine.decide([trial], facts) == PYTHON_ENGINE.decide([trial], facts)


class FailingSessions(Spy):
    """Every session with patient facts fails when its first action would start (the primings,
    which hold only the sentinel, run normally)."""

    def create_ruleset(self, name: str, definition: str) -> int:
        self.definitions.clear()  # keeps memory flat: only the C core's is measured
        self.payloads.clear()
        return super().create_ruleset(name, definition)

    def start_action_for_state(self, handle: int, offset: int) -> str | None:
        if len(self.payloads[-1]) > 1:
            self.calls.append("start_action_for_state")
            raise native.import_native().error("Could not start action, error code: 101")
        return super().start_action_for_state(handle, offset)


def _resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")  # pragma: no cover


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc (Linux)")
def test_failed_sessions_leak_no_memory(catalog: Catalog) -> None:
    # Each failed session used to be left in its retired ruleset, and delete_ruleset does not
    # free a session's buffers: about a megabyte per failure for this trial.
    spy = FailingSessions()
    engine = DurableEngine(spy)
    trial = catalog.get("NCT06414356")
    assert trial is not None
    facts = prepare(matcher.load_patient(CRPS), AS_OF)

    def fail(times: int) -> None:
        for _ in range(times):
            with pytest.raises(EngineError, match="error code: 101"):
                engine.decide([trial], facts)

    try:
        fail(20)
        gc.collect()
        before = _resident_mb()
        fail(200)
        gc.collect()
        grown = _resident_mb() - before
        assert spy.live == 0  # every failed session was deleted
        assert spy.count("create_ruleset") == 220  # each failure retired the ruleset
        assert grown < 40, f"200 failed sessions grew the process by {grown:.0f} MB"
    finally:
        engine.close()


def test_an_assertion_that_fails_retires_the_ruleset(
    engine: DurableEngine, spy: Spy, catalog: Catalog
) -> None:
    patient = matcher.load_patient(CRPS)
    expected = results(engine, catalog, patient)
    compiled = spy.count("create_ruleset")
    spy.fail["assert_facts"] = MemoryError()
    with pytest.raises(EngineError, match="MemoryError"):
        results(engine, catalog, patient)
    assert spy.calls[-2:] == ["assert_facts", "delete_ruleset"]
    assert results(engine, catalog, patient) == expected
    assert spy.count("create_ruleset") == compiled + 1  # the failed trial, compiled again


# --- order, types, duplicates --------------------------------------------------------------------


def test_rules_use_neither_negation_nor_any_nor_ids(
    engine: DurableEngine, spy: Spy, catalog: Catalog
) -> None:
    results(engine, catalog, matcher.load_patient(VETERAN))
    assert len(spy.definitions) == len(catalog)
    fields: set[str] = set()
    for definition in spy.definitions:
        for rule in definition.values():
            assert list(rule) == ["all"]  # never "any"
            for pattern in rule["all"]:
                ((alias, body),) = pattern.items()
                assert alias in {"w", "r", "m"}  # never "x$not"
                for test in body.get("$and", [body]):
                    ((name, value),) = test.items()
                    fields.update(value if name.startswith("$") else [name])
    assert fields <= set(FIELDS)  # never "id" or "sid"


def test_assertion_order_does_not_matter(
    engine: DurableEngine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    patients = generate(catalog, 150, seed=7)
    expected = [results(engine, catalog, *p) for p in patients]
    batches = encoding.batches
    rng = random.Random(3)

    def shuffled(groups: Any) -> list[list[dict[str, Any]]]:
        out = batches(groups)
        for batch in out:
            rng.shuffle(batch)
        return out

    monkeypatch.setattr(encoding, "batches", shuffled)
    assert [results(engine, catalog, *p) for p in patients] == expected


def test_only_ints_bools_and_strings_are_asserted(
    engine: DurableEngine, spy: Spy, catalog: Catalog
) -> None:
    for patient, as_of in generate(catalog, 200, seed=11):
        results(engine, catalog, patient, as_of)
    kinds = {type(v) for payload in spy.payloads for fact in payload for v in fact.values()}
    assert kinds == {int, bool, str}
    names = {name for payload in spy.payloads for fact in payload for name in fact}
    assert names == set(FIELDS) | {"id", "sid"}


@pytest.mark.parametrize("value", [4.5, None, float("nan"), 2**63, date(2026, 1, 1)])
def test_a_fact_of_another_type_never_reaches_the_c_core(
    engine: DurableEngine,
    spy: Spy,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    value: Any,
) -> None:
    original = encoding.leaf_facts

    def corrupt(leaf: Any, slot: int, facts: Any) -> list[dict[str, Any]]:
        return [{**fact, "bad": value} for fact in original(leaf, slot, facts)]

    monkeypatch.setattr(encoding, "leaf_facts", corrupt)
    with pytest.raises(EngineError, match="field 'bad' is not an int, a bool or a string"):
        results(engine, catalog, matcher.load_patient(VETERAN))
    # Only the primings of the rulesets (the sentinel alone) reached the C core.
    assert [len(payload) for payload in spy.payloads] == [1] * spy.count("create_ruleset")


DOUBLES = st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, 4.0, 7.0, 50.0, 5e-324])


@given(DOUBLES, DOUBLES)
def test_observation_values_are_asserted_as_ints_of_the_same_order(a: float, b: float) -> None:
    key = encoding.ordered_int
    assert (a < b, a == b) == (key(a) < key(b), key(a) == key(b))
    assert -(2**63) <= key(a) < 2**63


# Bounds come from criteria files, which refuse infinity and NaN.
BOUNDS = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**70), 2**70)


@given(DOUBLES, BOUNDS | st.sampled_from([0.0, -0.0, 4.0, 7.0, 50.0, 5e-324]), st.booleans())
def test_bounds_become_the_nearest_passing_double(
    value: float, bound: float, inclusive: bool
) -> None:
    key = encoding.ordered_int
    low = encoding.lowest_passing(bound, inclusive)
    high = encoding.highest_passing(bound, inclusive)
    assert (value >= bound if inclusive else value > bound) == (key(value) >= key(low))
    assert (value <= bound if inclusive else value < bound) == (key(value) <= key(high))


#: Every field name of the facts (and so of the rules' tests).
FIELDS = ("t", "k", "i", "d", "s", "c", "lo", "hi", "vs", "vb", "ok", "ol", "oh", "al", "ah")
FIELDS += ("sl", "sh", "el", "eh", "dl", "dh", "v")


def test_the_fnv_hash_here_is_the_c_cores() -> None:
    # The hashes of ``id`` and ``sid`` in durable-rules' state.h; and two ids with one hash
    # really are one fact to the C core.
    assert (fnv1_32("id"), fnv1_32("sid")) == (926444256, 3593476751)
    assert fnv1_32("f6059") == fnv1_32("f264602")
    c_core = Native(native.import_native())
    handle = c_core.create_ruleset("fnv", json.dumps({"r": {"all": [{"m": {"t": "x"}}]}}))
    facts = [{"t": "x", "v": n, "id": i, "sid": "a"} for n, i in enumerate(("f6059", "f264602"))]
    code, offset = c_core.assert_facts(handle, json.dumps(facts))
    fired = 0
    message = c_core.start_action_for_state(handle, offset)
    while message is not None:
        fired += 1
        message = c_core.complete_and_start_action(handle, offset)
    c_core.delete_state(handle, "a")
    c_core.delete_ruleset(handle)
    assert (code, fired) == (2, 1)  # "observed": the second fact was dropped


def test_fact_ids_and_field_names_never_collide() -> None:
    # Facts are stored under the 32-bit hash of their id: the ids a session can use are
    # pairwise distinct under it, so no fact is ever dropped as a duplicate. Field names are
    # looked up by hash too.
    ids = {fnv1_32(f"f{n}") for n in range(encoding.MAX_FACTS)}
    assert len(ids) == encoding.MAX_FACTS
    names = {fnv1_32(name) for name in (*FIELDS, "id", "sid")}
    assert len(names) == len(FIELDS) + 2


def test_a_duplicate_reported_by_the_c_core_is_an_engine_error(
    engine: DurableEngine, spy: Spy, catalog: Catalog
) -> None:
    patient = matcher.load_patient(VETERAN)
    expected = results(engine, catalog, patient)
    spy.code = 2
    with pytest.raises(EngineError, match=r"a duplicate fact \(return code 2\)"):
        results(engine, catalog, patient)
    assert spy.live == 0  # the session was drained and deleted all the same
    spy.code = None
    assert results(engine, catalog, patient) == expected


def test_a_lost_sentinel_is_an_engine_error(
    engine: DurableEngine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch the C parser truncates loses its last fact, the sentinel.
    session = Sessions.run

    def truncating(self: Sessions, trial: Any, ruleset: Any, batch: Any) -> list[str]:
        return [m for m in session(self, trial, ruleset, batch) if '"go"' not in m]

    monkeypatch.setattr(Sessions, "run", truncating)
    with pytest.raises(EngineError, match="sentinel fired 0 times"):
        results(engine, catalog, matcher.load_patient(VETERAN))


# --- failures in callbacks -----------------------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyError("r"), ValueError("x")])
def test_an_exception_while_handling_a_firing_is_an_engine_error(
    engine: DurableEngine,
    spy: Spy,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    def failing(*args: Any) -> None:
        raise error

    monkeypatch.setattr(rules, "on_firing", failing)
    with pytest.raises(EngineError, match="while reading its fired rules") as raised:
        results(engine, catalog, matcher.load_patient(VETERAN))
    assert raised.value.__cause__ is error
    assert spy.live == 0  # firings are handled after the session is deleted


def test_a_ruleset_that_fails_to_compile_is_an_engine_error(
    engine: DurableEngine, spy: Spy, catalog: Catalog
) -> None:
    spy.fail["create_ruleset"] = native.import_native().error("error code: 106")
    with pytest.raises(EngineError, match=r"could not compile trial NCT\d+: error code: 106"):
        results(engine, catalog, matcher.load_patient(VETERAN))


def test_an_internal_failure_exits_with_status_5(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(rules, "on_firing", failing)
    status = main(["check", str(VETERAN), "--as-of", "2026-11-21", "--engine", "durable"])
    err = capsys.readouterr().err
    assert status == 5
    assert "the durable-rules engine failed on trial NCT" in err
    assert "Traceback" not in err


# --- one evaluation at a time; processes for parallel work ---------------------------------------


def test_threads_queue_for_the_module_lock(
    engine: DurableEngine, spy: Spy, catalog: Catalog
) -> None:
    patients = generate(catalog, 24, seed=13)
    expected = [results(engine, catalog, *p) for p in patients]
    got: dict[int, Any] = {}

    def work(start: int) -> None:
        for n in range(start, len(patients), 6):
            got[n] = results(engine, catalog, *patients[n])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [got[n] for n in range(len(patients))] == expected
    assert spy.most_live == 1  # never two sessions open at once, in any ruleset


def check_in_another_process(number: int) -> dict[str, Any]:
    catalog = matcher.load_trials()
    patient, as_of = generate(catalog, number + 1, seed=17)[number]
    return comparable(matcher.check(patient, catalog, as_of=as_of, engine="durable"))


def test_processes_evaluate_in_parallel(catalog: Catalog) -> None:
    expected = [
        comparable(matcher.check(p, catalog, as_of=a)) for p, a in generate(catalog, 6, seed=17)
    ]
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        assert list(pool.map(check_in_another_process, range(6))) == expected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_inherit_a_held_lock(catalog: Catalog) -> None:
    if threading.active_count() > 1:
        pytest.skip("forking a process with threads")
    patient = matcher.load_patient(VETERAN)
    with core._LOCK:  # held by this thread while forking
        pid = os.fork()
        if pid == 0:  # the child
            signal.alarm(30)  # a lock inherited held would block for ever
            try:
                matcher.check(patient, catalog, as_of=AS_OF, engine="durable")
            except BaseException:
                os._exit(1)
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# --- caps and caching ----------------------------------------------------------------------------


def test_a_trial_over_the_caps_is_split_into_several_rulesets(
    engine: DurableEngine, spy: Spy, folder: TrialFolder
) -> None:
    criteria = "".join(
        f"  - {{id: c{i}, description: d, source: s, rule: {rule}}}\n"
        for i, rule in enumerate(
            [f"{{age: {{min: {n % 90}, max: {150 - n // 90}}}}}" for n in range(450)]
            + [
                f"{{medication: {{concept: benzodiazepines, within: {n + 1} days}}}}"
                for n in range(450)
            ]
        )
    )
    folder.write("NCT00000001.yaml", BASE_TRIAL.split("inclusion:")[0] + "inclusion:\n" + criteria)
    trials = matcher.load_trials(folder.root)
    patient = matcher.Patient.model_validate(
        {
            "id": "p",
            "birth_date": "1980-06",
            "medications": [
                {"display": "clonazepam 1 MG", "start": "2026-01-01", "end": f"2026-{m:02d}-15"}
                for m in range(1, 12)
            ],
        }
    )
    facts = prepare(patient, AS_OF)
    python = PYTHON_ENGINE.decide(trials.trials, facts)
    assert engine.decide(trials.trials, facts) == python
    # 900 leaves (450 ages of 3 rules, 450 medications of 2), 400 to a ruleset, and the sentinel.
    assert [len(d) for d in spy.definitions] == [1201, 851, 201]
    assert engine.rulesets == 3


def test_the_cap_check_refuses_a_definition_that_would_hang() -> None:
    definition = {
        f"r{n}": {"all": [{"m": {"$and": [{"t": "a"}, {"k": n}]}}]} for n in range(rules.MAX_LEAVES)
    }
    rules.check_caps(definition)
    definition |= {
        f"x{n}": {"all": [{"m": {"$and": [{"t": "a"}, {"k": -n - 1}]}}]} for n in range(200)
    }
    with pytest.raises(EngineError, match="alpha node would hold 600 tests"):
        rules.check_caps(definition)
    with pytest.raises(EngineError, match="repeats the condition"):
        rules.check_caps({"a": definition["r1"], "b": definition["r1"]})


def test_many_records_are_spread_over_several_sessions(
    engine: DurableEngine, spy: Spy, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    patients = generate(catalog, 100, seed=19)
    expected = [results(engine, catalog, *p) for p in patients]
    sessions = spy.count("assert_facts")
    monkeypatch.setattr(encoding, "MAX_FACTS", 4)
    assert [results(engine, catalog, *p) for p in patients] == expected
    assert spy.count("assert_facts") > 3 * sessions
    assert max(len(payload) for payload in spy.payloads[sessions:]) == 4


def test_each_trial_is_compiled_once_and_released_with_it(spy: Spy) -> None:
    engine = DurableEngine(spy)
    trials = matcher.load_trials()
    for patient, as_of in generate(trials, 30, seed=23):
        check_facts(prepare(patient, as_of), trials.trials, engine)
    assert spy.count("create_ruleset") == len(trials) == engine.rulesets
    del trials
    gc.collect()
    assert engine.rulesets == 0
    assert spy.count("delete_ruleset") == 5
