"""The durable-rules engine: each trial's leaf rules compiled into durable-rules (Rete) rulesets,
an independent second implementation checked against the python engine.

The rules find the records that match each leaf -- the ``matcher.evaluation.leaves.Matches``
contract: ``definite`` and ``possible`` records, and for observations those ``in_range`` and
``comparable`` -- and the shared ``matcher.evaluation.leaves.leaf_result`` turns them into
outcome, reason and evidence, so both engines explain a leaf with the same words by
construction. ``tests/test_engines_differential.py`` checks on thousands of generated patients
that both engines find the same records and give the same results.

One module per part, each with the traps of durable-rules 2.0.28 it avoids written beside the
code that avoids them (every trap has its test in ``tests/test_durable.py``):

    native    the typed adapter over the C core ``durable_rules_engine``, the only import of
              durable-rules; availability (no build for Python 3.13 or later)
    encoding  a patient's facts on an as-of date as flat typed facts (windows, records, patient
              values), fact ids, batches of at most ``MAX_FACTS``, the sentinel
    rules     each leaf's rules (positive joins only), the caps of a ruleset, and reading the
              firings back into ``Matches``
    sessions  rulesets in the C core: priming, one session per batch, deleted in ``finally``,
              retired on failure
    engine    ``DurableEngine``: the cache of compiled trials, one evaluation at a time per
              process (a lock), ``durable_engine()``

A rule kind's durable encoding is the case of its leaf in ``encoding.window``,
``encoding.leaf_facts``, ``rules.leaf_rules`` and ``rules.Found.matches``: each dispatch is an
exhaustive ``match`` ending in ``assert_never``, so a new kind is a type error (mypy) and an
``AssertionError`` at run time until all four handle it (``tests/test_rule_kinds.py``).
"""

from matcher.evaluation.engines.durable.engine import DurableEngine, durable_engine

__all__ = ["DurableEngine", "durable_engine"]
