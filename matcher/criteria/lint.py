"""Catalog QA for ``matcher lint --strict``: the codes of every concept set, checked.

``matcher lint`` checks that criteria and concept files load (shape, names, references). With
``--strict`` it also checks what a file can be valid YAML and still get wrong, code by code:

* **ICD-10-CM**: every code (a category such as ``G90.5`` or a billable code such as ``G90.511``)
  is in the official tabular list, as shipped by the ``simple-icd-10-cm`` package (the CMS/NCHS
  release named in ``tabular_release``). A code that is not there matches nothing real.
* **SNOMED CT**: a concept identifier: 6 to 18 digits, no leading zero, the partition of a
  concept (``00`` or ``10`` before the check digit) and a valid Verhoeff check digit.
* **LOINC**: ``<1-5 digits>-<check digit>`` with the LOINC mod-10 check digit.
* **RxNorm**: an RxCUI, 1 to 8 digits without a leading zero (RxNorm has no check digit).
* **Sources**: the ``source`` of every set names each code system the set lists codes of (say
  where the SNOMED CT codes came from, not only the ICD-10-CM ones).

Possible members (``possible:``) are checked like members. The ICD-10-CM tabular takes seconds to
load, so this module is imported by ``lint --strict`` alone: ``matcher check`` never loads it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Final

from matcher.core.errors import Diagnostic, MatcherError
from matcher.core.validation import read_model
from matcher.criteria.compiler import trial_files
from matcher.criteria.concepts import ConceptSetFile, bundled_concepts_dir

__all__ = [
    "LintUnavailableError",
    "loinc_problem",
    "rxnorm_problem",
    "snomed_problem",
    "strict_problems",
    "tabular_release",
]

#: The words a set's ``source`` must hold for each code system it lists codes of.
_SOURCE_WORDS: Final = {
    "icd10cm": "ICD-10-CM",
    "snomed": "SNOMED",
    "loinc": "LOINC",
    "rxnorm": "RxNorm",
}


class LintUnavailableError(MatcherError):
    """``lint --strict`` needs the ``simple-icd-10-cm`` package, which is not installed."""


# --- check digits ------------------------------------------------------------------------------

_VERHOEFF_D: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def _verhoeff_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is its Verhoeff check digit (SNOMED CT)."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(digit)]]
    return check == 0


def _mod10_check_digit(digits: str) -> int:
    """The LOINC check digit of the digits before the hyphen (the Luhn mod-10 scheme)."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10


_SNOMED: Final = re.compile(r"^[1-9]\d{5,17}$")
_LOINC: Final = re.compile(r"^(\d{1,5})-(\d)$")
_RXNORM: Final = re.compile(r"^[1-9]\d{0,7}$")


def snomed_problem(code: str) -> str | None:
    """Why ``code`` is not a SNOMED CT concept identifier, or ``None``."""
    if not _SNOMED.match(code):
        return "is not a SNOMED CT identifier (6 to 18 digits, no leading zero)"
    if code[-3:-1] not in ("00", "10"):
        return f"is not a SNOMED CT concept identifier (partition {code[-3:-1]}, not 00 or 10)"
    if not _verhoeff_valid(code):
        return "has a wrong SNOMED CT check digit (Verhoeff)"
    return None


def loinc_problem(code: str) -> str | None:
    """Why ``code`` is not a LOINC code, or ``None``."""
    match = _LOINC.match(code)
    if match is None:
        return "is not a LOINC code (1 to 5 digits, a hyphen and a check digit)"
    if _mod10_check_digit(match.group(1)) != int(match.group(2)):
        return "has a wrong LOINC check digit (mod 10)"
    return None


def rxnorm_problem(code: str) -> str | None:
    """Why ``code`` is not an RxNorm identifier (RxCUI), or ``None``."""
    if not _RXNORM.match(code):
        return "is not an RxNorm identifier (1 to 8 digits, no leading zero)"
    return None


# --- the ICD-10-CM tabular -----------------------------------------------------------------------


@cache
def _icd10cm() -> Callable[[str], bool]:
    """``is_valid_item`` of the tabular list (loaded once: it takes seconds)."""
    try:
        with warnings.catch_warnings():
            # simple-icd-10-cm reads its data with a deprecated importlib.resources call.
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10_cm  # type: ignore[import-untyped]
    except ImportError as exc:
        raise LintUnavailableError(
            "lint --strict checks ICD-10-CM codes against the official tabular list and needs "
            "the simple-icd-10-cm package: pip install 'trial-matcher[lint]'"
        ) from exc
    valid: Callable[[str], bool] = simple_icd_10_cm.is_valid_item
    return valid


def tabular_release() -> str:
    """The ICD-10-CM release the checks use, e.g. ``simple-icd-10-cm 1.5.0``."""
    from importlib.metadata import version

    return f"simple-icd-10-cm {version('simple-icd-10-cm')}"


def _icd10cm_problem(code: str) -> str | None:
    text = code.strip().upper()
    if "-" in text or not _icd10cm()(text):
        return f"is not in the ICD-10-CM tabular list ({tabular_release()})"
    return None


_CHECKS: Final[dict[str, Callable[[str], str | None]]] = {
    "icd10cm": _icd10cm_problem,
    "snomed": snomed_problem,
    "loinc": loinc_problem,
    "rxnorm": rxnorm_problem,
}


# --- the concept files ---------------------------------------------------------------------------


def _concept_files(paths: Sequence[Path]) -> list[Path]:
    """The concept set files lint --strict checks: those beside the given criteria (the
    bundled ones when no path is given, or when the paths have no ``concepts/`` folder)."""
    _, folders, _ = trial_files(paths)
    if not folders:
        folders = [bundled_concepts_dir()]
    seen: dict[Path, None] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            seen.setdefault(path.resolve(), None)
    return list(seen)


def strict_problems(paths: Sequence[Path]) -> list[Diagnostic]:
    """Every problem of the codes and sources of the concept sets (see the module docstring),
    in file and line order. Files that do not load are left to plain ``lint``.

    Raises ``LintUnavailableError`` when simple-icd-10-cm is not installed."""
    problems: list[Diagnostic] = []
    for path in _concept_files(paths):
        read = read_model(path, ConceptSetFile, [])
        if read is None:
            continue
        document, model = read
        for where, listed in (("codes", model.codes), ("possible", model.possible)):
            for system, codes in listed.items():
                for code in codes:
                    why = _CHECKS[system](code)
                    if why is None:
                        continue
                    yaml_path, line, column = document.locate((where, system, code), at_key=True)
                    kind = "unknown-code" if system == "icd10cm" else "malformed-code"
                    problems.append(
                        Diagnostic(kind, f"{code!r} {why}", str(path), line, column, yaml_path)
                    )
        problems.extend(_source_problems(path, document.locate, model))
    return sorted(problems, key=lambda d: (d.file, d.line, d.column, d.message))


def _source_problems(
    path: Path,
    locate: Callable[..., tuple[str, int, int]],
    model: ConceptSetFile,
) -> Iterable[Diagnostic]:
    systems = sorted({*model.codes, *model.possible})
    unnamed = [s for s in systems if _SOURCE_WORDS[s].lower() not in model.source.lower()]
    if unnamed:
        words = ", ".join(_SOURCE_WORDS[s] for s in unnamed)
        yaml_path, line, column = locate(("source",))
        yield Diagnostic(
            "unsourced-codes",
            f"the source does not say where the {words} codes come from (name {words} in it)",
            str(path),
            line,
            column,
            yaml_path,
        )
