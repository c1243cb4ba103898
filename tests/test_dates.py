"""The calendar rule, ages and partial dates."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic_core import PydanticCustomError

from matcher.core.dates import Duration, PartialDate, TimeUnit, age_on


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        ("1 year", date(2026, 11, 21), date(2025, 11, 21)),
        ("1 year", date(2024, 2, 29), date(2023, 2, 28)),
        ("1 month", date(2026, 3, 31), date(2026, 2, 28)),
        ("3 months", date(2026, 5, 31), date(2026, 2, 28)),
        ("12 weeks", date(2026, 11, 21), date(2026, 8, 29)),
        ("30 days", date(2026, 11, 21), date(2026, 10, 22)),
        ("0 days", date(2026, 11, 21), date(2026, 11, 21)),
    ],
)
def test_before_follows_the_calendar_rule(text: str, start: date, expected: date) -> None:
    assert Duration.parse(text).before(start) == expected


def test_after_clamps_to_the_end_of_the_month() -> None:
    assert Duration.parse("1 month").after(date(2026, 1, 31)) == date(2026, 2, 28)
    assert Duration.parse("1 year").after(date(2024, 2, 29)) == date(2025, 2, 28)


def test_duration_text_round_trip() -> None:
    assert str(Duration.parse("1 years")) == "1 year"
    assert str(Duration.parse(" 3 Months ")) == "3 months"
    assert Duration.parse("2 weeks") == Duration(2, TimeUnit.WEEKS)


@pytest.mark.parametrize("text", ["1 yr", "one year", "1.5 years", "", "3"])
def test_malformed_durations(text: str) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        Duration.parse(text)
    assert caught.value.type == "invalid_duration"


def test_negative_duration() -> None:
    with pytest.raises(PydanticCustomError) as caught:
        Duration.parse("-1 year")
    assert caught.value.type == "negative_duration"


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2008, 11, 21), date(2026, 11, 21), 18),
        (date(2008, 11, 22), date(2026, 11, 21), 17),
        (date(1956, 11, 21), date(2026, 11, 21), 70),
        (date(1955, 11, 22), date(2026, 11, 21), 70),
        (date(1955, 11, 21), date(2026, 11, 21), 71),
        # born on 29 February: a year older on 28 February in common years (the calendar rule)
        (date(2008, 2, 29), date(2026, 2, 27), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
    ],
)
def test_age_on(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age


@pytest.mark.parametrize(
    ("text", "first", "last", "shown"),
    [
        ("2024", date(2024, 1, 1), date(2024, 12, 31), "2024"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
        ("2024-02-10", date(2024, 2, 10), date(2024, 2, 10), "2024-02-10"),
        ("2024-02-10T23:30:00-05:00", date(2024, 2, 10), date(2024, 2, 10), "2024-02-10"),
        ("2024-02-10T08:00:00Z", date(2024, 2, 10), date(2024, 2, 10), "2024-02-10"),
    ],
)
def test_partial_dates(text: str, first: date, last: date, shown: str) -> None:
    value = PartialDate.parse(text)
    assert (value.first, value.last, str(value)) == (first, last, shown)


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13", "0000", "20260101", "2026-1-1", "soon"])
def test_impossible_dates(text: str) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        PartialDate.parse(text)
    assert caught.value.type == "invalid_date"
