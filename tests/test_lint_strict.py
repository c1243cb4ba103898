"""``matcher lint --strict``: the codes of every concept set (ICD-10-CM against the official
tabular list; SNOMED CT, LOINC and RxNorm by form and check digit) and the sources that must name
their code systems. The bundled catalog is clean, and ``matcher check`` never loads the tabular.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import BASE_TRIAL, DATA, TrialFolder

from matcher.cli import main
from matcher.criteria.lint import loinc_problem, rxnorm_problem, snomed_problem, tabular_release

pytest.importorskip("simple_icd_10_cm")


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("128200000", None),  # complex regional pain syndrome
        ("734947007", None),
        ("368581000119106", None),  # an extension (long-form) identifier, partition 10
        ("128200001", "has a wrong SNOMED CT check digit (Verhoeff)"),
        ("734947008", "has a wrong SNOMED CT check digit (Verhoeff)"),
        ("128200020", "is not a SNOMED CT concept identifier (partition 02, not 00 or 10)"),
        ("12820", "is not a SNOMED CT identifier (6 to 18 digits, no leading zero)"),
        ("0128200000", "is not a SNOMED CT identifier (6 to 18 digits, no leading zero)"),
        ("12820000O", "is not a SNOMED CT identifier (6 to 18 digits, no leading zero)"),
    ],
)
def test_snomed_identifiers(code: str, problem: str | None) -> None:
    assert snomed_problem(code) == problem


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("72514-3", None),
        ("8480-6", None),
        ("8462-4", None),
        ("33914-3", None),
        ("62238-1", None),
        ("98979-8", None),
        ("72514-4", "has a wrong LOINC check digit (mod 10)"),
        ("8480-0", "has a wrong LOINC check digit (mod 10)"),
        ("72514", "is not a LOINC code (1 to 5 digits, a hyphen and a check digit)"),
        ("725144-3", "is not a LOINC code (1 to 5 digits, a hyphen and a check digit)"),
    ],
)
def test_loinc_codes(code: str, problem: str | None) -> None:
    assert loinc_problem(code) == problem


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("6130", None),
        ("2119381", None),
        ("0613", "is not an RxNorm identifier (1 to 8 digits, no leading zero)"),
        ("RX6130", "is not an RxNorm identifier (1 to 8 digits, no leading zero)"),
        ("123456789", "is not an RxNorm identifier (1 to 8 digits, no leading zero)"),
    ],
)
def test_rxnorm_identifiers(code: str, problem: str | None) -> None:
    assert rxnorm_problem(code) == problem


BROKEN = """\
name: broken_codes
kind: condition
title: broken codes
description: Codes with one thing wrong each.
source: made up for the tests, from ICD-10-CM
codes:
  icd10cm:
    G90.5: a real category
    G90.511: a real billable code
    G90.6: not a code
    Q99.99: not a code either
  snomed:
    "128200000": fine
    "128200001": wrong check digit
possible:
  icd10cm:
    G90.50: a real code
    G90.58: not a code
"""
BROKEN_OBSERVATION = """\
name: broken_readings
kind: observation
title: broken readings
description: A LOINC code with a wrong check digit.
source: made up for the tests
codes:
  loinc: {72514-4: wrong check digit}
"""


def test_lint_strict_reports_every_code_and_source_problem(
    folder: TrialFolder, capsys: pytest.CaptureFixture[str]
) -> None:
    folder.write("NCT00000001.yaml", BASE_TRIAL)
    folder.write("concepts/broken_codes.yaml", BROKEN)
    folder.write("concepts/broken_readings.yaml", BROKEN_OBSERVATION)
    concepts = folder.root / "concepts"
    assert main(["lint", str(folder.root)]) == 0  # the files themselves are valid
    capsys.readouterr()
    assert main(["lint", "--strict", str(folder.root)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    release = tabular_release()
    codes = concepts / "broken_codes.yaml"
    readings = concepts / "broken_readings.yaml"
    test_set = concepts / "test_condition.yaml"
    # Each problem is followed by its source line and a caret (tests/test_cli.py shows the form).
    assert [line for line in err.splitlines() if not line.startswith(" ")] == [
        f"{codes}:5:9: unsourced-codes: the source does not say where the SNOMED codes come "
        "from (name SNOMED in it) (at source)",
        f"{codes}:10:5: unknown-code: 'G90.6' is not in the ICD-10-CM tabular list ({release}) "
        '(at codes.icd10cm["G90.6"])',
        f"{codes}:11:5: unknown-code: 'Q99.99' is not in the ICD-10-CM tabular list ({release}) "
        '(at codes.icd10cm["Q99.99"])',
        f"{codes}:14:5: malformed-code: '128200001' has a wrong SNOMED CT check digit (Verhoeff) "
        '(at codes.snomed["128200001"])',
        f"{codes}:18:5: unknown-code: 'G90.58' is not in the ICD-10-CM tabular list ({release}) "
        '(at possible.icd10cm["G90.58"])',
        f"{readings}:5:9: unsourced-codes: the source does not say where the LOINC codes come "
        "from (name LOINC in it) (at source)",
        f"{readings}:7:11: malformed-code: '72514-4' has a wrong LOINC check digit (mod 10) "
        '(at codes.loinc["72514-4"])',
        # The made-up set every test folder carries (tests/helpers.py) is caught too.
        f"{test_set}:5:9: unsourced-codes: the source does not say where the ICD-10-CM codes "
        "come from (name ICD-10-CM in it) (at source)",
        f"{test_set}:7:13: unknown-code: 'Z99.9' is not in the ICD-10-CM tabular list "
        f'({release}) (at codes.icd10cm["Z99.9"])',
        "9 problems found",
    ]


def test_the_bundled_catalog_is_clean_under_lint_strict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["lint", "--strict"]) == 0
    out, err = capsys.readouterr()
    assert (out.startswith("ok: 5 trial file(s), "), err) == (True, "")


def test_lint_strict_without_its_package_exits_with_status_5(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from matcher.criteria import lint

    monkeypatch.setitem(sys.modules, "simple_icd_10_cm", None)  # import raises
    lint._icd10cm.cache_clear()
    try:
        assert main(["lint", "--strict"]) == 5
    finally:
        lint._icd10cm.cache_clear()
    assert capsys.readouterr().err == (
        "matcher: error: lint --strict checks ICD-10-CM codes against the official tabular list "
        "and needs the simple-icd-10-cm package: pip install 'trial-matcher[lint]'\n"
    )


def test_check_never_loads_the_tabular() -> None:
    # Cold start must not grow: the tabular takes seconds to load.
    script = f"""
import sys
from matcher.cli import main
status = main(["check", {str(DATA / "patients" / "veteran.yaml")!r}, "--as-of", "2026-11-21",
               "--format", "json"])
print(status, "simple_icd_10_cm" in sys.modules, "matcher.criteria.lint" in sys.modules,
file=sys.stderr)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stderr.splitlines()[-1] == "0 False False"
