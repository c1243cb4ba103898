"""Three-valued logic: the full truth tables."""

from __future__ import annotations

import itertools

import pytest

from matcher.core.outcome import MET, NOT_MET, UNKNOWN, Outcome, all_of, any_of, negate

VALUES = (MET, NOT_MET, UNKNOWN)

AND = {
    (MET, MET): MET, (MET, NOT_MET): NOT_MET, (MET, UNKNOWN): UNKNOWN,
    (NOT_MET, MET): NOT_MET, (NOT_MET, NOT_MET): NOT_MET, (NOT_MET, UNKNOWN): NOT_MET,
    (UNKNOWN, MET): UNKNOWN, (UNKNOWN, NOT_MET): NOT_MET, (UNKNOWN, UNKNOWN): UNKNOWN,
}  # fmt: skip
OR = {
    (MET, MET): MET, (MET, NOT_MET): MET, (MET, UNKNOWN): MET,
    (NOT_MET, MET): MET, (NOT_MET, NOT_MET): NOT_MET, (NOT_MET, UNKNOWN): UNKNOWN,
    (UNKNOWN, MET): MET, (UNKNOWN, NOT_MET): UNKNOWN, (UNKNOWN, UNKNOWN): UNKNOWN,
}  # fmt: skip


@pytest.mark.parametrize(("a", "b"), list(itertools.product(VALUES, VALUES)))
def test_and_or_tables(a: Outcome, b: Outcome) -> None:
    assert (all_of([a, b]), any_of([a, b])) == (AND[a, b], OR[a, b])


def test_not() -> None:
    assert [negate(v) for v in VALUES] == [NOT_MET, MET, UNKNOWN]


def test_empty_and_longer_sequences() -> None:
    assert (all_of([]), any_of([])) == (MET, NOT_MET)
    assert all_of([MET, UNKNOWN, NOT_MET]) is NOT_MET
    assert any_of([NOT_MET, UNKNOWN, MET]) is MET
