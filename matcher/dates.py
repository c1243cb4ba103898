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
_DURATION_RE: Final = re.compile(r"^\s*(-?\d+)\s+([a-z]+)\s*$")


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
        if amount < 0:
            raise PydanticCustomError("negative_duration", "a duration cannot be negative")
        if amount > 200 * 366:
            raise PydanticCustomError(
                "invalid_duration", "a duration cannot be longer than 200 years"
            )
        return cls(amount, _UNIT_WORDS[match.group(2)])

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
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar date that may be known only to the year or month (FHIR allows both).

    A date-time is kept as its calendar date as written (the local date of the record).
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
