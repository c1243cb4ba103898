"""NCT06414356's rules written by hand in plain Python: the floor any engine pays.

Same three-valued semantics as the catalog file (criteria/NCT06414356.yaml) for the data the
benchmark generates (full dates only), but no evidence, no reasons, no missing-fact texts: it
returns the verdict alone. The benchmark checks that it agrees with the engine on every patient.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from functools import cache

import matcher
from matcher.core.dates import Duration, age_on
from matcher.patient.model import Condition, Medication, Patient

MET, NOT_MET, UNKNOWN = 1, 0, 2
_NOT_USE = ("cancelled", "not_taken", "intended", "entered_in_error")
WORDS = re.compile(r"[^a-z0-9]+")


@cache
def _sets() -> dict[str, tuple[dict[str, frozenset[str]], re.Pattern[str] | None, bool]]:
    """Concept name -> (codes by system, one regex of its names, is-medication)."""
    library = matcher.load_trials().concepts
    out = {}
    for name, concept in library.sets.items():
        medication = concept.kind.value == "medication"
        pattern = None
        if concept.names:
            words = sorted(" ".join(n) for n in concept.names)
            body = "|".join(re.escape(w) for w in words)
            # medications: a name anywhere, as whole words; conditions: the whole display
            pattern = re.compile(rf"(?:^| )(?:{body})(?: |$)" if medication else rf"^(?:{body})$")
        out[name] = (dict(concept.codes), pattern, medication)
    return out


def _key(record: Condition | Medication) -> tuple[tuple[tuple[str, str], ...], str]:
    """The record's codes (canonical) and its display as lower-case words joined by spaces."""
    codes = [(record.system, record.code)] if record.system and record.code else []
    codes += [(c.system, c.code) for c in record.codes]
    text = " ".join(w for w in WORDS.split(record.display.lower()) if w) if record.display else ""
    return tuple(codes), text


_KEYS: dict[int, tuple[tuple[tuple[str, str], ...], str]] = {}


def _in(name: str, record: Condition | Medication) -> bool:
    codes, pattern, _ = _sets()[name]
    found = _KEYS.get(id(record))
    if found is None:
        found = _KEYS[id(record)] = _key(record)
    for system, code in found[0]:
        pool = codes.get(system)
        if pool:
            if system == "icd10cm":
                if any(code[:n] in pool for n in range(3, len(code) + 1)):
                    return True
            elif code in pool:
                return True
    return bool(pattern is not None and found[1] and pattern.search(found[1]))


def _condition(
    p: Patient, name: str, today: int, *, present: bool, at_least: int | None = None
) -> int:
    result = NOT_MET
    for c in p.conditions:
        if c.verification_status in ("refuted", "entered_in_error") or not _in(name, c):
            continue
        onset = c.onset.first.toordinal() if c.onset else None
        if onset is not None and onset > today:
            continue
        if present:
            if c.abatement is not None:
                if c.abatement.first.toordinal() <= today:
                    continue
            elif c.clinical_status in ("inactive", "remission", "resolved"):
                continue
        if at_least is not None:
            if onset is None:
                result = UNKNOWN
                continue
            if onset > at_least:
                continue
        if c.verification_status in ("unconfirmed", "provisional", "differential"):
            result = UNKNOWN
            continue
        return MET
    return result


def _taken(p: Patient, name: str, today: int) -> Iterator[tuple[Medication, int | None]]:
    """The patient's records of drug ``name`` that count as use and did not start after today,
    with their start day number (``None`` when not recorded)."""
    for m in p.medications:
        if m.status in _NOT_USE or not _in(name, m):
            continue
        start = m.start.first.toordinal() if m.start else None
        if start is None or start <= today:
            yield m, start


def _current(p: Patient, name: str, today: int) -> int:
    result = NOT_MET
    for m, start in _taken(p, name, today):
        if m.end is not None:
            if m.end.first.toordinal() >= today:
                return MET
            continue
        if m.status in ("completed", "stopped"):
            if start == today:
                return MET
            continue
        if m.status in ("on_hold", "unknown"):
            if start == today:
                return MET
            result = UNKNOWN
            continue
        return MET
    return result


def _used_since(p: Patient, name: str, today: int, since: int) -> int:
    result = NOT_MET
    for m, start in _taken(p, name, today):
        if m.end is not None:
            end = m.end.first.toordinal()
        elif m.status in ("completed", "stopped"):
            if start is not None and start >= since:
                return MET
            result = UNKNOWN
            continue
        elif m.status in ("on_hold", "unknown"):
            if start is not None and start >= since:
                return MET
            result = UNKNOWN
            continue
        else:
            return MET
        if end >= since:
            return MET
    return result


def _latest_pain(p: Patient, today: int, since: int) -> int:
    best: tuple[int, set[bool]] | None = None
    for o in p.observations:
        if not any(c.system == "loinc" and c.code == "72514-3" for c in o.codings):
            continue
        if o.date is None or o.value is None:
            return UNKNOWN
        when = o.date.first.toordinal()
        if when < since or when > today:
            continue
        ok = 4 <= o.value <= 7
        if best is None or when > best[0]:
            best = (when, {ok})
        elif when == best[0]:
            best[1].add(ok)
    if best is None or len(best[1]) > 1:
        return UNKNOWN
    return MET if best[1] == {True} else NOT_MET


def nct06414356(p: Patient, as_of: date) -> str:
    """The verdict of NCT06414356 for ``p`` as of ``as_of``: eligible/ineligible/undetermined."""
    _KEYS.clear()  # record keys are computed once per call
    today = as_of.toordinal()
    inclusions: list[int] = []
    exclusions: list[int] = []
    if p.birth_date is None:
        inclusions.append(UNKNOWN)
    else:
        age = age_on(p.birth_date.first, as_of)
        inclusions.append(MET if 18 <= age <= 70 else NOT_MET)
    three_months = Duration.parse("3 months").before(as_of).toordinal()
    inclusions.append(
        _condition(p, "chronic_neuropathic_pain", today, present=True, at_least=three_months)
    )
    inclusions.append(UNKNOWN if p.sex is None else MET)
    military = p.attributes.get("military_status")
    inclusions.append(
        UNKNOWN
        if military is None
        else MET
        if military in ("active_duty", "veteran", "retired")
        else NOT_MET
    )
    year = Duration.parse("1 year").before(as_of).toordinal()
    ketamine = _used_since(p, "ketamine", today, year)
    inclusions.append({MET: NOT_MET, NOT_MET: MET, UNKNOWN: UNKNOWN}[ketamine])
    inclusions.append(_latest_pain(p, today, Duration.parse("30 days").before(as_of).toordinal()))
    for name, present in (
        ("cognitive_dysfunction", True),
        ("psychosis", False),
        ("neurocognitive_disorder", True),
        ("traumatic_brain_injury", False),
        ("hyperthyroidism", True),
        ("renal_impairment", True),
        ("substance_use_disorder", True),
        ("hypertension", True),
    ):
        exclusions.append(_condition(p, name, today, present=present))
    # Rule-plus-review exclusions: met turns into a review item, which does not block.
    for name, present in (
        ("acute_cardiovascular_disease", True),
        ("hypertension", True),
        ("thyroid_disease", True),
        ("liver_disease", True),
        ("renal_disease", True),
        ("myocardial_infarction", False),
        ("vascular_disease", True),
    ):
        outcome = _condition(p, name, today, present=present)
        exclusions.append(NOT_MET if outcome == MET else outcome)
    exclusions.append(_pregnant_or_lactating(p, as_of, today))
    for name in ("xanthines", "vasopressin_analogues", "benzodiazepines"):
        exclusions.append(_current(p, name, today))
    outcome = _current(p, "sympathomimetics", today)
    exclusions.append(NOT_MET if outcome == MET else outcome)
    if NOT_MET in inclusions or MET in exclusions:
        return "ineligible"
    if UNKNOWN in inclusions or UNKNOWN in exclusions:
        return "undetermined"
    return "eligible"


def _pregnant_or_lactating(p: Patient, as_of: date, today: int) -> int:
    if _condition(p, "pregnancy", today, present=True) == MET:
        return MET
    if _condition(p, "lactation", today, present=True) == MET:
        return MET
    since = Duration.parse("30 days").before(as_of).toordinal()
    outcomes = []
    for status, positive in (
        (p.pregnancy, p.pregnancy.pregnant if p.pregnancy else False),
        (p.lactation, p.lactation.lactating if p.lactation else False),
    ):
        if (
            status is not None
            and status.date is not None
            and (since <= status.date.first.toordinal() <= today)
        ):
            outcomes.append(MET if positive else NOT_MET)
        elif p.sex == "male":
            outcomes.append(NOT_MET)
        elif (
            p.sex == "female"
            and p.birth_date is not None
            and not (12 <= age_on(p.birth_date.first, as_of) <= 55)
        ):
            outcomes.append(NOT_MET)
        else:
            outcomes.append(UNKNOWN)
    if MET in outcomes:
        return MET
    return UNKNOWN if UNKNOWN in outcomes else NOT_MET
