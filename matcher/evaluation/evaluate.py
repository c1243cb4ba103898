"""From leaf outcomes to criterion outcomes, trial verdicts, scores and the ranking.

Engines only decide leaves (``matcher.evaluation.engines``); everything here is shared, so both
engines give identical results for identical leaf outcomes.

**Criterion.** A rule's leaves combine with the three-valued logic of ``matcher.core.outcome``. A
criterion with only a ``review`` note is ``review`` (a screening question); one with a rule *and*
a note is ``review`` when the rule is met (a flag: the note says what to confirm) and the rule's
outcome otherwise. A ``pending`` criterion is ``review`` unless its proposed rule decides against
the patient (or cannot decide). ``CriterionResult.review_kind`` says which (``ReviewKind``).

A criterion with ``applies_to`` passes (inclusion met, exclusion not met) for a patient that the
``applies_to`` rule rules out, with the reason "does not apply: ..."; otherwise it is evaluated as
above (an unknown ``applies_to`` does not excuse anyone).

**Verdict.** ``ineligible`` if any inclusion is ``not_met`` or any exclusion is ``met``;
``eligible`` if every inclusion is ``met`` and every exclusion ``not_met``, screening questions
aside (they are listed in ``to_confirm`` and do not block); otherwise ``undetermined``, which
includes every trial with a flag or a pending item. A patient recorded as deceased on or before
the as-of date is ineligible everywhere (the implicit criterion ``alive``).

**Score.** The favourable share -- criteria with a rule decided in the patient's favour (inclusion
met, exclusion not met; a flag on an inclusion and a passing proposed rule count, a flag on an
exclusion does not) over criteria with a rule -- placed in the verdict's band of ``SCORE_BANDS``,
rounded to 4 decimals; 0.0 for a patient who has died. Every eligible trial thus scores above
every undetermined one, and every undetermined one above every ineligible one.

**Rank.** Eligible first, then undetermined, then ineligible; within each, trials open to
enrolment (recruiting, not yet recruiting, enrolling by invitation) before closed ones, then
higher score first; ties by trial id.

**Eligible from.** When every criterion that makes a trial ineligible would stop doing so by time
alone (a birthday, the last dose of a drug sliding out of "the past year", a diagnosis becoming
old enough), ``eligible_from`` is the first day all of them have; ongoing medications are assumed
stopped on the as-of day and listed in ``must_stop``. The date is kept only if the trial, evaluated
again as of that day with the same record, is not ineligible then (``_confirm_eligible_from``).
The verdict on that day may still be ``undetermined`` if other facts are missing. A criterion of
a concept the reader skipped a record of gives no day at all (``leaves.leaf_result``): the
skipped record may be a later dose or onset, so the trial stays ineligible without a date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import chain, compress
from operator import attrgetter, itemgetter
from typing import Any, Final, Literal, assert_never

from matcher.core.dates import age_on
from matcher.core.errors import Diagnostic, PatientError
from matcher.core.outcome import (
    MET,
    NOT_MET,
    REVIEW,
    UNKNOWN,
    Outcome,
    ReviewKind,
    Verdict,
    counted,
    negate,
)
from matcher.criteria.compiler import (
    COMPOSITES,
    AllNode,
    AnyNode,
    AtLeastNode,
    CompiledCriterion,
    CompiledTrial,
    CriterionKind,
    Node,
    NotNode,
    catalog_digest,
)
from matcher.evaluation.coverage import data_quality
from matcher.evaluation.engines import Engine, decide
from matcher.evaluation.facts import PatientFacts
from matcher.evaluation.leaves import LeafResult
from matcher.evaluation.plan import Plan, plan
from matcher.evaluation.results import (
    CheckResult,
    CriterionResult,
    MissingFact,
    RecordRef,
    ReviewItem,
    TrialResult,
)
from matcher.patient.model import Patient

__all__ = ["Explain", "check_facts", "evaluate_trials", "explained_count", "prepare", "rank"]

#: Oldest age accepted: a birth date giving more is taken as a data error.
MAX_AGE: Final = 150


def prepare(patient: Patient, as_of: date) -> PatientFacts:
    """Check the patient against the as-of date and build its facts."""
    problem = None
    if patient.birth_date is not None:
        if patient.birth_date.first > as_of:
            problem = "birth date is after the as-of date"
        elif age_on(patient.birth_date.last, as_of) > MAX_AGE:
            problem = f"birth date gives an age over {MAX_AGE} on the as-of date"
    if problem is not None:
        file, path, line, column = patient.origin_of("birth_date")
        raise PatientError([Diagnostic("invalid-patient", problem, file, line, column, path)])
    return PatientFacts.build(patient, as_of)


def _combine(
    node: Node, leaves: Mapping[int, LeafResult], memo: dict[int, Any], words: bool
) -> LeafResult:
    """The result of a rule tree; with ``words`` false only its outcome and the day it changes
    (the verdict path: no reasons, evidence or missing facts are merged)."""
    if not isinstance(node, COMPOSITES):
        return leaves[node.key]
    found: LeafResult | None = memo.get(id(node))
    if found is None:
        found = memo[id(node)] = _combine_new(node, leaves, memo, words)
    return found


def _combine_new(
    node: NotNode | AllNode | AnyNode | AtLeastNode,
    leaves: Mapping[int, LeafResult],
    memo: dict[int, Any],
    words: bool,
) -> LeafResult:
    if isinstance(node, NotNode):
        child = _combine(node.child, leaves, memo, words)
        return child._replace(outcome=negate(child.outcome))
    parts = [_combine(child, leaves, memo, words) for child in node.children]
    # all, any and at_least are one rule: "at least ``needed`` of the children are met".
    if isinstance(node, AllNode):
        needed = len(parts)
    elif isinstance(node, AnyNode):
        needed = 1
    elif isinstance(node, AtLeastNode):
        needed = node.count
    else:  # pragma: no cover - a new composite must say how it combines
        assert_never(node)
    met: list[LeafResult] = []
    unknown: list[LeafResult] = []
    failed: list[LeafResult] = []
    for part in parts:
        outcome = part.outcome
        (met if outcome is MET else unknown if outcome is UNKNOWN else failed).append(part)
    outcome = counted(len(met), len(unknown), needed)
    if outcome is MET:
        deciding = met
        # It stops being met once all but needed - 1 of the met children have stopped.
        changes = len(met) - needed + 1
    elif outcome is NOT_MET:
        deciding = failed
        # It stops being not met once enough failing children could be met again.
        changes = needed - len(met) - len(unknown)
    else:
        deciding, changes = unknown, 0
    # When does the outcome change by time alone: on the day the ``changes``-th of the deciding
    # children changes, if that many of them change with time (min for "all met", max for "all
    # not met", the mirror for "any").
    leaves_on = None
    must_stop: tuple[str, ...] = ()
    dated = [p for p in deciding if p.leaves_on is not None] if changes else []
    if dated and len(dated) >= changes:
        if changes > 1:
            dated.sort(key=lambda p: p.leaves_on or date.max)
        else:
            dated = [min(dated, key=lambda p: p.leaves_on or date.max)]
        leaves_on = dated[changes - 1].leaves_on
        must_stop = tuple(dict.fromkeys(s for p in dated[:changes] for s in p.must_stop))
    if not words:
        return LeafResult(outcome, "", leaves_on=leaves_on, must_stop=must_stop)
    # (map, attrgetter and chain rather than generators: a few thousand nodes per explained check)
    reason = "; ".join(dict.fromkeys(map(_REASON, deciding)))
    if isinstance(node, AtLeastNode):
        reason = f"{_tally(outcome, len(met), len(unknown), len(parts), needed)}: {reason}"
    # Only unknown children carry missing facts, and the deciding children of an unknown
    # outcome are the unknown ones.
    missing = _unique(map(_MISSING, deciding)) if outcome is UNKNOWN else ()
    return LeafResult(
        outcome,
        reason,
        _unique(map(_EVIDENCE, deciding)),
        missing,
        leaves_on,
        must_stop,
        _unique(map(_RECORDS, deciding)),
    )


_REASON: Final = attrgetter("reason")
_EVIDENCE: Final = attrgetter("evidence")
_MISSING: Final = attrgetter("missing")
_RECORDS: Final = attrgetter("records")


def _unique(groups: Iterable[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The items of ``groups`` in order, each once."""
    return tuple(dict.fromkeys(chain.from_iterable(groups)))


def _tally(outcome: Outcome, met: int, unknown: int, total: int, needed: int) -> str:
    """``2 of 3 hold (at least 2 needed)``: how a counted combination came out."""
    if outcome is MET:
        return f"{met} of {total} hold (at least {needed} needed)"
    if outcome is NOT_MET:
        return f"at most {met + unknown} of {total} can hold (at least {needed} needed)"
    return f"{met} of {total} hold and {unknown} cannot be told (at least {needed} needed)"


# How one criterion result counts in its trial's verdict and score, computed once per patient,
# in rising order of what it does to the verdict: the worst code of a trial decides it (a block
# makes it ineligible; a hold or an undecided criterion, undetermined). Only criteria with a rule
# count towards the score ("ruled"); a "hold" is a review item that keeps the trial from eligible
# (a flag raised by a record, or a pending item), favourable when its rule passed. Whether time
# alone lifts a block is asked only of blocked trials (``_Table.timing``).
_PASS, _PASS_UNRULED, _SCREEN, _HOLD_FAVOURABLE, _HOLD, _UNDECIDED, _BLOCK = range(7)
_MISSING_FACTS: Final = attrgetter("missing_facts")
_FIRST: Final = itemgetter(0)
_SECOND: Final = itemgetter(1)
_THIRD: Final = itemgetter(2)
#: Score bands: a trial's score is ``low + (high - low) * favourable share`` in its verdict's band,
#: so every eligible trial scores above every undetermined one, and that above every ineligible.
SCORE_BANDS: Final = {
    Verdict.ELIGIBLE: (0.75, 1.0),
    Verdict.UNDETERMINED: (0.25, 0.74),
    Verdict.INELIGIBLE: (0.0, 0.24),
}
#: The order of review items: what a record raised first, what nobody encoded next, then the
#: questions every patient is asked.
_REVIEW_ORDER: Final = {ReviewKind.FLAG: 0, ReviewKind.PENDING: 1, ReviewKind.SCREENING: 2}


class _Table:
    """The results of every distinct criterion for one patient.

    ``fill`` decides every criterion's outcome with the trials' ``Plan`` (no result objects) and
    turns it into a verdict code (``_PASS`` ... ``_BLOCK``): enough for verdicts, scores and the
    ranking. ``timing`` gives a blocking criterion's ``leaves_on`` and ``must_stop`` (for
    eligible-from dates), built when a trial asks. ``explain`` then builds the full results
    (reasons, evidence, records, missing facts, review items) of the criteria of the trials whose
    explanation is asked for, each shared criterion once. Trials are sliced out of these tables
    with precomputed getters, so that a thousand trials cost a few thousand C-level lookups
    rather than twenty thousand Python steps.
    """

    __slots__ = ("codes", "confirm", "explained", "leaves", "listed", "memo", "plan", "timings")

    def __init__(self, leaves: Mapping[int, LeafResult], trials: Sequence[CompiledTrial]) -> None:
        self.leaves = leaves
        self.plan = plan(trials)
        #: Verdict codes in ``plan.criteria`` order, and by criterion key (``_explain`` reads
        #: them so). A block is ``_BLOCK`` whether time lifts it or not: see ``timing``.
        self.listed: list[int] = []
        self.codes: dict[int, int] = {}
        #: ``leaves_on`` and ``must_stop`` of the blocking criteria asked so far, by position.
        self.timings: dict[int, CriterionResult | LeafResult] = {}
        self.memo: dict[int, Any] = {}
        #: Full results of the criteria explained so far.
        self.explained: dict[int, CriterionResult] = {}
        #: Per explained criterion: (order of its review kind, text, item) for a review item.
        self.confirm: dict[int, tuple[int, str, ReviewItem] | None] = {}

    def fill(self) -> None:
        plan = self.plan
        state = plan.outcomes(self.leaves) or [UNKNOWN]  # (no leaves: rule-less criteria only)
        self.listed = listed = [
            excused if scope >= 0 and state[scope] is NOT_MET else table[state[rule]]
            for rule, scope, table, excused in _code_tables(plan)
        ]
        self.codes = dict(zip((c.key for c in plan.criteria), listed, strict=True))

    def timing(self, position: int) -> CriterionResult | LeafResult:
        """The bare result of the criterion at ``position`` of the plan: its outcome, and the day
        time alone changes it (``leaves_on``, ``must_stop``)."""
        found = self.timings.get(position)
        if found is None:
            criterion = self.plan.criteria[position]
            if criterion.leaf_key >= 0 and criterion.review is None:
                found = self.leaves[criterion.leaf_key]  # no review: the leaf decides
            else:
                found = _criterion_new(criterion, self.leaves, self.memo, False)
            self.timings[position] = found
        return found

    def explain(self, criteria: Iterable[CompiledCriterion], memo: dict[int, Any]) -> None:
        explained, confirm = self.explained, self.confirm
        for criterion in criteria:
            key = criterion.key
            if key in explained:
                continue
            result = explained[key] = _criterion_new(criterion, self.leaves, memo, True)
            confirm[key] = _review_item(criterion, result) if result.outcome is REVIEW else None

    def slice(self, trial: CompiledTrial, table: dict[int, Any]) -> tuple[Any, ...]:
        if trial.pick is not None:
            picked: tuple[Any, ...] = trial.pick(table)
            return picked
        return tuple(table[key] for key in trial.criterion_keys)


def _code(criterion: CompiledCriterion, outcome: Outcome | None) -> int:
    """How a criterion whose rule came out ``outcome`` (``None``: it has no rule) counts in its
    trial's verdict and score (see ``_criterion_new`` for the outcome of a criterion)."""
    inclusion = criterion.kind == "inclusion"
    if outcome is None:
        return _HOLD if criterion.pending else _SCREEN
    if criterion.review is not None:
        if criterion.pending:
            # A proposed rule may decide against the patient, never for them.
            against = NOT_MET if inclusion else MET
            if outcome is not against and outcome is not UNKNOWN:
                return _HOLD_FAVOURABLE  # the rule passed; a person must still confirm
        elif outcome is MET:
            return _HOLD_FAVOURABLE if inclusion else _HOLD  # a flag
    if outcome is UNKNOWN:
        return _UNDECIDED
    return _PASS if (outcome is MET) is inclusion else _BLOCK


def _code_tables(plan: Plan) -> list[tuple[int, int, Mapping[Outcome, int], int]]:
    """Per criterion of ``plan``: its rule's slot, its ``applies_to``'s slot (``-1``: none), its
    code by the rule's outcome, and its code when ``applies_to`` excuses the patient. Made once
    per plan."""
    found: list[tuple[int, int, Mapping[Outcome, int], int]] | None = plan.derived.get("codes")
    if found is None:
        found = []
        for criterion, rule, scope in zip(
            plan.criteria, plan.rule_slots, plan.scope_slots, strict=True
        ):
            if rule < 0:  # no rule: one code whatever slot 0 holds
                table = dict.fromkeys((MET, NOT_MET, UNKNOWN), _code(criterion, None))
            else:
                table = {o: _code(criterion, o) for o in (MET, NOT_MET, UNKNOWN)}
            excused = _PASS if criterion.rule is not None else _PASS_UNRULED
            found.append((max(rule, 0), scope, table, excused))
        plan.derived["codes"] = found
    return found


def _criterion_new(
    criterion: CompiledCriterion,
    leaves: Mapping[int, LeafResult],
    memo: dict[int, Any],
    words: bool,
) -> CriterionResult:
    """One criterion's result; ``missing`` stays empty unless the outcome is unknown. Without
    ``words``, a bare result: outcome, review kind, ``leaves_on`` and ``must_stop`` only."""
    base: tuple[str, CriterionKind, str, str] = (
        criterion.id,
        criterion.kind,
        criterion.description,
        criterion.source,
    )
    if criterion.leaf_key >= 0:  # one bare leaf: the common case, no tree to walk
        result = leaves[criterion.leaf_key]
    else:
        if criterion.applies_to is not None:
            scope = _combine(criterion.applies_to, leaves, memo, words)
            if scope.outcome is NOT_MET:
                passing = MET if criterion.kind == "inclusion" else NOT_MET
                if not words:
                    return CriterionResult(*base, passing, "", ())
                return CriterionResult(
                    *base,
                    passing,
                    f"does not apply: {scope.reason}",
                    scope.evidence,
                    records=scope.records,
                )
        if criterion.rule is None:
            kind = ReviewKind.PENDING if criterion.pending else ReviewKind.SCREENING
            reason = f"not encoded yet: {criterion.review}" if criterion.pending else ""
            return CriterionResult(
                *base, REVIEW, reason or criterion.review or "", (), review_kind=kind
            )
        result = _combine(criterion.rule, leaves, memo, words)
    if criterion.review is not None:
        if criterion.pending:
            # A proposed rule may decide against the patient, never for them.
            against = NOT_MET if criterion.kind == "inclusion" else MET
            if result.outcome is not against and result.outcome is not UNKNOWN:
                reason = ""
                if words:
                    reason = (
                        f"{result.reason}; the rule is only a proposal, to confirm: "
                        f"{criterion.review}"
                    )
                return CriterionResult(
                    *base,
                    REVIEW,
                    reason,
                    result.evidence,
                    review_kind=ReviewKind.PENDING,
                    records=result.records,
                )
        elif result.outcome is MET:
            return CriterionResult(
                *base,
                REVIEW,
                f"{result.reason}; to confirm: {criterion.review}" if words else "",
                result.evidence,
                review_kind=ReviewKind.FLAG,
                records=result.records,
            )
    if not words:
        return CriterionResult(
            *base, result.outcome, "", (), leaves_on=result.leaves_on, must_stop=result.must_stop
        )
    missing = result.missing
    return CriterionResult(
        *base,
        result.outcome,
        result.reason,
        result.evidence,
        tuple(dict.fromkeys(map(_TEXT, missing))) if missing else (),
        result.leaves_on,
        result.must_stop,
        records=result.records,
        missing_facts=missing,
    )


def _alive(facts: PatientFacts) -> CriterionResult | None:
    """The implicit criterion: reported only when the patient may not be alive on the as-of day."""
    if not facts.deceased:
        return None
    base: tuple[str, CriterionKind, str, str] = (
        "alive",
        "inclusion",
        "Alive on the as-of date",
        "matcher (implicit)",
    )
    died = facts.deceased_date
    cited = (RecordRef("deceased_date", date=str(died) if died else None, value=True),)
    if died is None:
        return CriterionResult(
            *base, NOT_MET, "patient recorded as deceased", ("recorded as deceased",), records=cited
        )
    if died.last <= facts.as_of:
        return CriterionResult(
            *base, NOT_MET, f"patient died on {died}", (f"died {died}",), records=cited
        )
    if died.first <= facts.as_of:
        needed = MissingFact("death_date", "full date of death", records=("deceased_date",))
        return CriterionResult(
            *base,
            UNKNOWN,
            f"patient died in {died}, possibly after the as-of date",
            (f"died {died}",),
            (needed.text,),
            records=cited,
            missing_facts=(needed,),
        )
    return None


def evaluate_trials(
    trials: Sequence[CompiledTrial],
    facts: PatientFacts,
    leaves: Mapping[int, LeafResult],
    *,
    explain: bool = True,
) -> list[TrialResult]:
    """Verdict, score, missing facts and review items of each trial, each shared criterion built
    once (the trials' ``Plan`` lists them); with ``explain`` false, verdicts, scores and
    eligible-from dates only (see ``_Table``).
    """
    table = _Table(leaves, trials)
    table.fill()
    alive = _alive(facts) if facts.deceased else None
    results = _trial_results(trials, table, alive)
    if explain:
        _explain(results, {t.id: t for t in trials}, table, alive)
    return results


def _trial_results(
    trials: Sequence[CompiledTrial], table: _Table, alive: CriterionResult | None
) -> list[TrialResult]:
    """Each trial's verdict, score and eligible-from date, without its explanation."""
    plan, listed, timing = table.plan, table.listed, table.timing
    results = []
    dead = alive is not None and alive.outcome is NOT_MET
    dying = alive is not None and alive.outcome is UNKNOWN
    for trial, pick, positions in zip(trials, plan.picks, plan.positions, strict=True):
        codes = pick(listed)
        worst = max(codes) if codes else _PASS  # the codes rise with what they do to a verdict
        eligible_from = None
        must_stop: tuple[str, ...] = ()
        if dead or worst == _BLOCK:
            verdict = Verdict.INELIGIBLE
            if alive is None:
                # Every blocking criterion passes with time: the trial opens on the last of those
                # days (``check_facts`` then checks that nothing else blocks on that day).
                # Asked in order, up to the first block that time does not lift.
                blocking: list[CriterionResult | LeafResult] = []
                for position in compress(positions, map(_BLOCK.__eq__, codes)):
                    timed = timing(position)
                    if timed.leaves_on is None:
                        blocking.clear()
                        break
                    blocking.append(timed)
                if blocking:
                    eligible_from = max(r.leaves_on for r in blocking if r.leaves_on is not None)
                    must_stop = tuple(dict.fromkeys(s for r in blocking for s in r.must_stop))
        elif dying or worst >= _HOLD_FAVOURABLE:
            verdict = Verdict.UNDETERMINED
        else:
            verdict = Verdict.ELIGIBLE
        if dead:
            score = 0.0
        else:
            favourable = codes.count(_PASS) + codes.count(_HOLD_FAVOURABLE)
            share = favourable / trial.ruled if trial.ruled else 1.0
            low, high = SCORE_BANDS[verdict]
            score = round(low + (high - low) * share, 4)
        results.append(
            TrialResult(
                trial.id,
                trial.title,
                trial.status,
                verdict,
                score,
                eligible_from,
                must_stop,
                (),
                (),
                (),
                (),
                (),
                trial.last_reviewed,
                False,
            )
        )
    return results


def _explain(
    results: list[TrialResult],
    trials: Mapping[str, CompiledTrial],
    table: _Table,
    alive: CriterionResult | None,
    wanted: int | None = None,
) -> None:
    """Add their criteria, missing facts and review items to the first ``wanted`` results (all
    when ``None``), in place."""
    memo: dict[int, Any] = {}
    every = wanted is None or wanted >= len(results)
    if every:  # each distinct criterion once, rather than every trial's list
        table.explain(table.plan.criteria, memo)
    for i, result in enumerate(results if every else results[:wanted]):
        trial = trials[result.trial]
        if not every:
            table.explain(trial.criteria, memo)
        criteria: tuple[CriterionResult, ...] = table.slice(trial, table.explained)
        codes: tuple[int, ...] = table.slice(trial, table.codes)
        confirm: tuple[str, ...] = ()
        reviews: tuple[ReviewItem, ...] = ()
        if _HOLD in codes or _HOLD_FAVOURABLE in codes or _SCREEN in codes:
            items = sorted(filter(None, table.slice(trial, table.confirm)), key=_FIRST)
            confirm = tuple(map(_SECOND, items))
            reviews = tuple(map(_THIRD, items))
        if alive is not None:
            criteria = (alive, *criteria)
        needed: tuple[MissingFact, ...] = ()
        if _UNDECIDED in codes or (alive is not None and alive.outcome is UNKNOWN):
            # Only unknown results carry missing facts (see ``_criterion_new``).
            needed = tuple(dict.fromkeys(chain.from_iterable(map(_MISSING_FACTS, criteria))))
        # ``result._replace(criteria=..., explained=True)``, without its keyword handling.
        results[i] = _MAKE_RESULT(
            (
                *result[:_EXPLAINED_FROM],
                criteria,
                tuple(dict.fromkeys(map(_TEXT, needed))),
                confirm,
                reviews,
                needed,
                result.last_reviewed,
                True,
            )
        )


#: ``TrialResult`` fields up to ``criteria`` are the verdict's; ``_explain`` fills the rest.
_EXPLAINED_FROM: Final = TrialResult._fields.index("criteria")
assert TrialResult._fields[_EXPLAINED_FROM:] == (
    "criteria",
    "missing",
    "to_confirm",
    "reviews",
    "missing_facts",
    "last_reviewed",
    "explained",
), "_explain builds TrialResult by position: list a new field there"
_MAKE_RESULT: Final = TrialResult._make
_TEXT: Final = attrgetter("text")


def _review_item(
    criterion: CompiledCriterion, result: CriterionResult
) -> tuple[int, str, ReviewItem]:
    """A review result's place in the "to confirm" list, its text and its data."""
    kind = result.review_kind
    assert kind is not None
    item = ReviewItem(
        result.id,
        kind,
        kind is not ReviewKind.SCREENING,
        criterion.review or "",
        result.evidence,
        result.records,
    )
    return _REVIEW_ORDER[kind], _confirm_text(result), item


def _confirm_text(result: CriterionResult) -> str:
    """``id: description``, plus the records that raised the question for a rule-plus-review."""
    text = f"{result.id}: {result.description.rstrip('.')}"
    if result.review_kind is ReviewKind.PENDING and not result.evidence:
        text += " (not encoded yet)"
    return f"{text} ({'; '.join(result.evidence)})" if result.evidence else text


_VERDICT_ORDER: Final = {Verdict.ELIGIBLE: 0, Verdict.UNDETERMINED: 1, Verdict.INELIGIBLE: 2}
_OPEN: Final = frozenset(
    {"recruiting", "not_yet_recruiting", "enrolling_by_invitation", "available"}
)


def rank(results: Iterable[TrialResult]) -> tuple[TrialResult, ...]:
    """By verdict, open before closed, higher score first, then by trial id."""
    return tuple(
        sorted(
            results,
            key=lambda r: (_VERDICT_ORDER[r.verdict], r.status not in _OPEN, -r.score, r.trial),
        )
    )


#: Which trials of a check get their explanation: all, none, or the first N in rank order.
Explain = Literal["all", "none"] | int


def explained_count(explain: Explain, trials: int) -> int:
    """How many of ``trials`` ranked results an ``explain`` setting explains."""
    if explain == "all":
        return trials
    if explain == "none":
        return 0
    return min(explain, trials)


def check_facts(
    facts: PatientFacts,
    trials: Sequence[CompiledTrial],
    engine: Engine,
    criteria: Iterable[CompiledCriterion] | None = None,
    *,
    explain: Explain = "all",
    digest: str | None = None,
) -> CheckResult:
    """Run ``engine`` over ``trials`` for prepared ``facts`` (``criteria``: see
    ``evaluate_trials``): verdicts, scores and eligible-from dates of every trial, ranked, then
    the explanation of the trials ``explain`` asks for (see ``Explain``). ``digest``: the
    ``catalog_digest`` of ``trials`` when the caller has it (a ``Catalog`` does)."""
    every = explain == "all"  # then one pass decides and words every leaf
    leaves = decide(engine, trials, facts, words=every)
    table = _Table(leaves, trials)
    table.fill()
    alive = _alive(facts) if facts.deceased else None
    results = _trial_results(trials, table, alive)
    _confirm_eligible_from(results, trials, facts, engine)
    ranked = list(rank(results))
    wanted = explained_count(explain, len(ranked))
    if wanted:
        by_id = {t.id: t for t in trials}
        if not every:  # word the leaves of the trials explained (only those)
            table.leaves = decide(
                engine, [by_id[r.trial] for r in ranked[:wanted]], facts, words=True
            )
        _explain(ranked, by_id, table, alive, wanted)
    notes = data_quality(facts.patient, facts.as_of) if facts.patient is not None else ()
    return CheckResult(
        facts.patient_id,
        facts.as_of,
        engine.name,
        tuple(ranked),
        notes,
        catalog_digest=digest if digest is not None else catalog_digest(trials),
    )


#: How many later days ``_confirm_eligible_from`` tries before it gives up on a date.
_MAX_LATER_DAYS: Final = 8


def _confirm_eligible_from(
    results: list[TrialResult],
    trials: Sequence[CompiledTrial],
    facts: PatientFacts,
    engine: Engine,
) -> None:
    """Keep each ``eligible_from`` only if its trial is not ineligible on that day (in place).

    The candidate day lifts every block of today, but by then other criteria may fail with time
    (a 70-year-old ages out of 18-70, a recent-event window closes). Each trial is evaluated again
    as of its day, with the same record and its ``must_stop`` medications ended today; if it is
    ineligible then, the next candidate is that evaluation's own date, and so on. When no day
    works, there is no date. Trials waiting for the same day with the same medications stopped
    are evaluated together, so shared criteria are decided once per day.
    """
    waiting = {
        i: (r.eligible_from, dict.fromkeys(r.must_stop))
        for i, r in enumerate(results)
        if r.eligible_from is not None
    }
    for _ in range(_MAX_LATER_DAYS):
        if not waiting:
            return
        groups: dict[tuple[date, frozenset[str]], list[int]] = {}
        for i, (day, stopped) in waiting.items():
            assert day is not None
            groups.setdefault((day, frozenset(stopped)), []).append(i)
        for (day, _), members in groups.items():
            stopped = waiting[members[0]][1]
            later = facts.later(day, stopped)
            group = [trials[i] for i in members]
            bare = decide(engine, group, later, words=False)
            again_all = evaluate_trials(group, later, bare, explain=False)
            for i, again in zip(members, again_all, strict=True):
                if again.verdict is not Verdict.INELIGIBLE:
                    results[i] = results[i]._replace(eligible_from=day, must_stop=tuple(stopped))
                    del waiting[i]
                elif again.eligible_from is None or again.eligible_from <= day:
                    del waiting[i]
                    results[i] = results[i]._replace(eligible_from=None, must_stop=())
                else:
                    waiting[i] = (
                        again.eligible_from,
                        {**stopped, **dict.fromkeys(again.must_stop)},
                    )
    for i in waiting:
        results[i] = results[i]._replace(eligible_from=None, must_stop=())
