"""Shared test helpers: small criteria folders written on the fly, and the repository paths.

Test modules import this as ``helpers``: pytest puts ``tests/`` on ``sys.path`` (the folder has
no ``__init__.py``), so the tests run against the installed ``matcher``, not the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import matcher
from matcher.core.outcome import Verdict
from matcher.criteria.compiler import CompiledTrial
from matcher.evaluation.results import TrialResult

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

#: The installed ``matcher`` command, beside the Python running the tests.
MATCHER = shutil.which("matcher", path=str(Path(sys.executable).parent)) or "matcher"


def run_matcher(
    *args: str, stdin: str | None = None, cwd: Path = REPO, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed command, without the variables that change its output."""
    unset = ("MATCHER_DEBUG", "MATCHER_CTGOV_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [MATCHER, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


#: A valid trial; tests replace parts of it to break it in one way each.
BASE_TRIAL = """\
id: NCT00000001
title: Test trial
status: recruiting
sponsor: Test sponsor
registry_url: https://clinicaltrials.gov/study/NCT00000001
last_reviewed: 2025-01-01
inclusion:
  - id: adult
    description: Adult.
    source: test inclusion 1
    rule:
      age: {min: 18}
"""

TEST_CONCEPTS = {
    "test_drugs": """\
name: test_drugs
kind: medication
title: test drugs
description: Two made-up drugs for tests.
source: tests
names: [testazepam, examplamine]
""",
    "test_condition": """\
name: test_condition
kind: condition
title: test condition
description: A made-up condition for tests.
source: tests
codes:
  icd10cm: {Z99.9: Test condition}
""",
}


class TrialFolder:
    """A temporary criteria folder with its own ``concepts/``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "concepts").mkdir()
        for name, text in TEST_CONCEPTS.items():
            (root / "concepts" / f"{name}.yaml").write_text(text, encoding="utf-8")

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path


def reachable_verdicts(trial: CompiledTrial) -> set[Verdict]:
    """Every verdict, but ``eligible`` for a trial with an inclusion that can never pass on its
    own: one with a rule and a review note (met, it is a flag to confirm) or a pending one."""
    held = any(
        c.kind == "inclusion" and c.review is not None and (c.rule is not None or c.pending)
        for c in trial.criteria
    )
    return set(Verdict) - {Verdict.ELIGIBLE} if held else set(Verdict)


def one_criterion_trial(
    folder: TrialFolder, rule: str, *, kind: str = "inclusion", extra: str = ""
) -> CompiledTrial:
    """A trial of one criterion ``c`` with ``rule`` (YAML text), loaded from ``folder``; ``extra``
    adds keys to the criterion (indented YAML lines)."""
    head = BASE_TRIAL.split("inclusion:\n", maxsplit=1)[0]
    body = textwrap.indent(rule.strip("\n"), " " * 6)
    text = (
        f"{head}{kind}:\n  - id: c\n    description: The criterion.\n    source: test\n"
        f"    rule:\n{body}\n{extra}"
    )
    (trial,) = matcher.load_trials(folder.write("NCT00000001.yaml", text))
    return trial


def check_both(trial: CompiledTrial, patient: dict[str, Any], as_of: date) -> TrialResult:
    """The python engine's result for ``patient`` (plain data, ``id`` added), after checking that
    the durable engine gives the same one."""
    model = matcher.Patient.model_validate({"id": "p", **patient})
    python = matcher.check(model, [trial], as_of=as_of)
    durable = matcher.check(model, [trial], as_of=as_of, engine="durable")
    assert python.trials == durable.trials
    return python.trials[0]
