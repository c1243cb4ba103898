"""The README stays true: its quickstart output is the real output, and its code runs."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers import REPO

import matcher

README = (REPO / "README.md").read_text(encoding="utf-8")
MATCHER = str(Path(sys.executable).parent / "matcher")


def test_quickstart_output_is_the_real_output() -> None:
    block = README.split("<!-- quickstart-output -->\n```text\n")[1].split("```\n")[0]
    command = re.search(r"\.venv/bin/(matcher check [^\n`]+)", README)
    assert command is not None
    args = command.group(1).split()[1:]
    done = subprocess.run([MATCHER, *args], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.startswith(block)


@pytest.mark.parametrize("index", range(3))
def test_python_examples_run(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(blocks) == 3
    monkeypatch.chdir(REPO)
    exec(compile(blocks[index], f"README.md python block {index + 1}", "exec"), {})


def test_public_api() -> None:
    assert sorted(matcher.__all__) == [
        "Catalog",
        "CheckResult",
        "CompiledTrial",
        "Condition",
        "CriteriaError",
        "CriterionResult",
        "Diagnostic",
        "Engine",
        "EngineError",
        "InputError",
        "LactationStatus",
        "MatcherError",
        "Medication",
        "MissingFact",
        "Observation",
        "Outcome",
        "Patient",
        "PatientError",
        "PregnancyStatus",
        "RecordRef",
        "ReviewItem",
        "ReviewKind",
        "TrialResult",
        "Verdict",
        "check",
        "get_engine",
        "load_patient",
        "load_trials",
        "patient_from_data",
        "patient_from_text",
        "screen",
    ]
    for name in matcher.__all__:
        assert getattr(matcher, name) is not None


def test_the_version_in_results_is_the_package_version() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert matcher.__version__ == declared["project"]["version"]
    patient = matcher.Patient(id="p")
    result = matcher.check(patient, matcher.load_trials(), as_of=datetime.date(2026, 11, 21))
    assert result.as_dict()["matcher_version"] == matcher.__version__


def test_service_endpoint_table_lists_every_route() -> None:
    from matcher.service import Settings, create_app

    block = README.split("<!-- service-endpoints -->\n")[1].split("<!-- /service-endpoints -->")[0]
    listed = re.findall(r"^\| `(GET|POST) (\S+)`", block, flags=re.M)
    spec = create_app(Settings()).openapi()["paths"]
    routes = [(method.upper(), path) for path, ops in spec.items() for method in ops]
    assert sorted(listed) == sorted(routes)
