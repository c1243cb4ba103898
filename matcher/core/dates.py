"""Durations, partial dates and the one calendar rule.

**The calendar rule.** Days and weeks are exact (a week is 7 days). Months and years move the
calendar: the same day of the month, N months or years away; when that day does not exist the
last day of that month is used (2026-03-31 minus 1 month is 2026-02-28; 2024-02-29 plus 1 year
is 2025-02-28). Ages follow the same rule: a person's age on a date is the number of whole years
N such that birth date plus N years is on or before that date.

**Windows.** "Within the last N" as of date D is the closed interval [D - N, D]; "at least N ago"
means on or before D - N. A date with only a year or a month (``2024``, ``2024-05``) stands for
every day of that period; a criterion is decided only when every possible day gives the same
answer, otherwise it is ``unknown``.

**Date-times and time zones.** A date-time (``2013-04-21T22:26:37+05:00``, as FHIR writes them) is
kept as the calendar date written in it, whatever its offset: ``2013-04-21T23:30:00-08:00`` is
2013-04-21, although it was already 04-22 in UTC. The as-of date is a calendar date with no zone,
and the local date is the one the record's author saw and the clinician reads; converting to UTC
would move evening records to the next day. The time itself must be possible (hours 00-23, minutes
and seconds 00-59, a leap second 60, offsets within -14:00..+14:00 as FHIR allows) but is not used.

**Digits.** Dates and durations are written with ASCII digits only: Arabic-Indic or full-width
digits are refused, not read (Python's regular expressions and ``int()`` take any script's).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

__all__ = [
    "DURATION_PATTERN",
    "Duration",
    "PartialDate",
    "TimeUnit",
    "add_months",
    "age_on",
]


class TimeUnit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"


_UNIT_WORDS: Final = {
    "day": TimeUnit.DAYS,
    "days": TimeUnit.DAYS,
    "week": TimeUnit.WEEKS,
    "weeks": TimeUnit.WEEKS,
    "month": TimeUnit.MONTHS,
    "months": TimeUnit.MONTHS,
    "year": TimeUnit.YEARS,
    "years": TimeUnit.YEARS,
}
DURATION_PATTERN: Final = r"^\s*-?\d+\s+(day|days|week|weeks|month|months|year|years)\s*$"
_DURATION_RE: Final = re.compile(r"^\s*(-?[0-9]+)\s+([a-z]+)\s*$", re.ASCII)
#: The longest span of each unit: 200 years (criteria look back a lifetime at most).
MAX_SPAN_YEARS: Final = 200
_MAX_AMOUNT: Final = {
    TimeUnit.DAYS: MAX_SPAN_YEARS * 366,
    TimeUnit.WEEKS: MAX_SPAN_YEARS * 366 // 7,
    TimeUnit.MONTHS: MAX_SPAN_YEARS * 12,
    TimeUnit.YEARS: MAX_SPAN_YEARS,
}


def add_months(day: date, months: int) -> date:
    """Move ``day`` by whole months, clamping to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


@dataclass(frozen=True, slots=True)
class Duration:
    """A non-negative span such as ``3 months``; written in YAML as ``"<n> <unit>"``."""

    amount: int
    unit: TimeUnit

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION_RE.match(text.lower())
        if match is None or match.group(2) not in _UNIT_WORDS:
            raise PydanticCustomError(
                "invalid_duration",
                "expected a duration such as '30 days', '12 weeks', '3 months' or '1 year'",
            )
        amount = int(match.group(1))
        unit = _UNIT_WORDS[match.group(2)]
        if amount < 0:
            raise PydanticCustomError("negative_duration", "a duration cannot be negative")
        if amount > _MAX_AMOUNT[unit]:
            raise PydanticCustomError(
                "invalid_duration", f"a duration cannot be longer than {MAX_SPAN_YEARS} years"
            )
        return cls(amount, unit)

    def before(self, day: date) -> date:
        """``day`` minus this duration (the start of "the last N" as of ``day``)."""
        return self._shift(day, -1)

    def after(self, day: date) -> date:
        """``day`` plus this duration."""
        return self._shift(day, 1)

    def _shift(self, day: date, sign: int) -> date:
        try:
            if self.unit is TimeUnit.DAYS:
                return date.fromordinal(day.toordinal() + sign * self.amount)
            if self.unit is TimeUnit.WEEKS:
                return date.fromordinal(day.toordinal() + sign * 7 * self.amount)
            factor = 12 if self.unit is TimeUnit.YEARS else 1
            return add_months(day, sign * factor * self.amount)
        except (OverflowError, ValueError):
            return date.min if sign < 0 else date.max

    def __str__(self) -> str:
        word = self.unit.value
        return f"{self.amount} {word[:-1] if self.amount == 1 else word}"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        def validate(value: Any) -> Duration:
            if isinstance(value, Duration):
                return value
            if isinstance(value, str):
                return cls.parse(value)
            raise PydanticCustomError(
                "invalid_duration",
                "expected a duration such as '3 months' (a number and a unit), got {kind}",
                {"kind": type(value).__name__},
            )

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.to_string_ser_schema()
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["30 days", "12 weeks", "3 months", "1 year"],
        }


def age_on(birth: date, day: date) -> int:
    """Whole years from ``birth`` to ``day`` under the calendar rule (negative if not born)."""
    years = day.year - birth.year
    if add_months(birth, 12 * years) > day:
        years -= 1
    return years


_DATE_RE: Final = re.compile(
    r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$",
    re.ASCII,
)


def _possible_time(match: re.Match[str]) -> bool:
    """Hours 00-23, minutes 00-59, seconds 00-60 (a leap second), offset -14:00..+14:00."""
    hour, minute, second, zone = match.group(4, 5, 6, 7)
    if hour is None:
        return True
    if int(hour) > 23 or int(minute) > 59 or (second is not None and int(second) > 60):
        return False
    if zone is None or zone == "Z":
        return True
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    return minutes <= 59 and (hours < 14 or (hours == 14 and minutes == 0))


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar date that may be known only to the year or month (FHIR allows both).

    A date-time is kept as its calendar date as written, whatever its time zone (see the module
    docstring). A bare year may be a number (YAML reads ``birth_date: 1981`` as one).
    """

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _DATE_RE.match(text.strip())
        if match is None:
            raise PydanticCustomError(
                "invalid_date",
                "expected a date as YYYY-MM-DD (or YYYY-MM, YYYY)",
            )
        if not _possible_time(match):
            raise PydanticCustomError(
                "invalid_date",
                "not a real time of day: hours are 00-23, minutes 00-59, and a time zone "
                "is at most 14 hours from UTC",
            )
        year = int(match.group(1))
        month = int(match.group(2)) if match.group(2) else None
        day = int(match.group(3)) if match.group(3) else None
        try:
            date(year or 1, month or 1, day or 1)
            if year == 0:
                raise ValueError("year 0 does not exist")
        except ValueError as exc:
            raise PydanticCustomError(
                "invalid_date", "not a real date: {why}", {"why": str(exc)}
            ) from None
        return cls(year, month, day)

    @classmethod
    def of(cls, day: date) -> PartialDate:
        return cls(day.year, day.month, day.day)

    @property
    def first(self) -> date:
        """The earliest day this date can stand for."""
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last(self) -> date:
        """The latest day this date can stand for."""
        if self.day is not None and self.month is not None:
            return date(self.year, self.month, self.day)
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def __str__(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        def validate(value: Any) -> PartialDate:
            if isinstance(value, PartialDate):
                return value
            if isinstance(value, datetime):
                return cls.of(value.date())
            if isinstance(value, date):
                return cls.of(value)
            if isinstance(value, str):
                return cls.parse(value)
            if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
                return cls(value)  # a year written as a bare number
            raise PydanticCustomError(
                "invalid_date",
                "expected a date as YYYY-MM-DD (or YYYY-MM, YYYY), got {kind}",
                {"kind": type(value).__name__},
            )

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.to_string_ser_schema()
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": r"^\d{4}(-\d{2}(-\d{2}(T.*)?)?)?$",
            "examples": ["2024-05-17", "2024-05", "2024"],
        }
