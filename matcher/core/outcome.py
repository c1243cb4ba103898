"""Three-valued logic, written once and used by every engine.

``unknown`` means "the data cannot tell". The connectives follow Kleene's strong logic, as CQL
does: a definite answer wins where it settles the question regardless of the unknown part.

==========  ==========  ===========  ==========
a           b           a and b      a or b
==========  ==========  ===========  ==========
met         unknown     unknown      met
not_met     unknown     not_met      unknown
unknown     unknown     unknown      unknown
==========  ==========  ===========  ==========

and ``not unknown`` is ``unknown``. A counted combination ("at least N of these") follows the
same rule: met when N are met, not met when fewer than N can still be met (the met ones plus the
unknown ones), unknown otherwise; ``and`` is "at least all", ``or`` is "at least one".
``review`` never enters this logic: it is a property of a whole criterion, decided outside the
rule tree.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = [
    "MET",
    "NOT_MET",
    "REVIEW",
    "UNKNOWN",
    "Outcome",
    "ReviewKind",
    "Verdict",
    "all_of",
    "any_of",
    "at_least",
    "counted",
    "negate",
]


class Outcome(StrEnum):
    """What one criterion came to for one patient."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    REVIEW = "review"


class Verdict(StrEnum):
    ELIGIBLE = "eligible"
    UNDETERMINED = "undetermined"
    INELIGIBLE = "ineligible"


class ReviewKind(StrEnum):
    """Why a criterion is ``review``, which decides whether it keeps a trial from ``eligible``.

    * ``flag``: the criterion's rule is met by the patient's own record and its note says what to
      confirm (a heart attack last week against "acute cardiovascular disease"). Blocks.
    * ``pending``: the registry text is not encoded yet (``pending: true``), or only by a proposed
      rule that would pass. Blocks: nobody has checked it.
    * ``screening``: a question put to every patient at the screening visit (consent,
      allergies, willingness), not raised by any record. Does not block.
    """

    FLAG = "flag"
    PENDING = "pending"
    SCREENING = "screening"


MET = Outcome.MET
NOT_MET = Outcome.NOT_MET
UNKNOWN = Outcome.UNKNOWN
#: Not part of the logic: the outcome of a criterion a person must decide.
REVIEW = Outcome.REVIEW


def all_of(outcomes: Iterable[Outcome]) -> Outcome:
    """Conjunction: not_met if any is not_met, else unknown if any is unknown, else met."""
    result = MET
    for outcome in outcomes:
        if outcome is NOT_MET:
            return NOT_MET
        if outcome is UNKNOWN:
            result = UNKNOWN
    return result


def any_of(outcomes: Iterable[Outcome]) -> Outcome:
    """Disjunction: met if any is met, else unknown if any is unknown, else not_met."""
    result = NOT_MET
    for outcome in outcomes:
        if outcome is MET:
            return MET
        if outcome is UNKNOWN:
            result = UNKNOWN
    return result


def at_least(outcomes: Iterable[Outcome], count: int) -> Outcome:
    """``count`` or more hold: met if ``count`` are met, not met if fewer than ``count`` are met
    or unknown, else unknown."""
    met = unknown = 0
    for outcome in outcomes:
        if outcome is MET:
            met += 1
        elif outcome is UNKNOWN:
            unknown += 1
    return counted(met, unknown, count)


def counted(met: int, unknown: int, count: int) -> Outcome:
    """``at_least`` from the number of met and of unknown outcomes."""
    if met >= count:
        return MET
    return NOT_MET if met + unknown < count else UNKNOWN


def negate(outcome: Outcome) -> Outcome:
    """Negation: swaps met and not_met; unknown stays unknown."""
    if outcome is MET:
        return NOT_MET
    if outcome is NOT_MET:
        return MET
    return outcome
