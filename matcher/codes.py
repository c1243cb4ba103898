"""Code systems: one short name per terminology, and codes written one canonical way.

Patient files, FHIR bundles and concept sets name code systems in different ways
(``rxnorm``, ``RxNorm``, ``http://www.nlm.nih.gov/research/umls/rxnorm``). Everything is reduced
here to the short names below, so that matching compares like with like. Systems not listed
are kept as written (lower-cased) and simply never match a concept set.

ICD-10-CM codes are compared without their dot and in upper case (``G90.511`` and ``g90511`` are the
same code); other systems compare codes exactly, after trimming spaces.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

__all__ = [
    "SYSTEM_LABELS",
    "canonical_code",
    "canonical_system",
    "canonical_unit",
    "display_code",
    "display_unit",
    "unit_factor",
]

#: Short system name -> label used in evidence text.
SYSTEM_LABELS: Final = {
    "rxnorm": "RxNorm",
    "icd10cm": "ICD-10-CM",
    "snomed": "SNOMED CT",
    "loinc": "LOINC",
    "atc": "ATC",
}

_ALIASES: Final = {
    "rxnorm": "rxnorm",
    "rxnorm-cui": "rxnorm",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
    "icd10cm": "icd10cm",
    "icd-10-cm": "icd10cm",
    "icd10-cm": "icd10cm",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10cm",
    "urn:oid:2.16.840.1.113883.6.90": "icd10cm",
    "snomed": "snomed",
    "snomedct": "snomed",
    "snomed-ct": "snomed",
    "sct": "snomed",
    "http://snomed.info/sct": "snomed",
    "loinc": "loinc",
    "http://loinc.org": "loinc",
    "atc": "atc",
    "http://www.whocc.no/atc": "atc",
}


def canonical_system(system: str) -> str:
    """``'http://snomed.info/sct'`` -> ``'snomed'``; unknown systems are lower-cased and kept."""
    key = system.strip().lower().rstrip("/")
    return _ALIASES.get(key, key)


def canonical_code(system: str, code: str) -> str:
    """The form in which a code is compared (``system`` must already be canonical)."""
    code = code.strip()
    if system == "icd10cm":
        return code.replace(".", "").upper()
    if system == "atc":
        return code.upper()
    return code


def display_code(system: str, code: str) -> str:
    """A code as people write it: ICD-10-CM gets its dot back after the category."""
    if system == "icd10cm" and "." not in code and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


# --- units -------------------------------------------------------------------------------------

_UNIT_ALIASES: Final = {
    "{score}": "{score}",
    "score": "{score}",
    "{points}": "{score}",
    "mm[hg]": "mm[Hg]",
    "mmhg": "mm[Hg]",
    "mm hg": "mm[Hg]",
    "mm": "mm",
    "cm": "cm",
    # eGFR, per 1.73 m2 of body surface (UCUM writes the annotation in braces)
    "ml/min/{1.73_m2}": "mL/min/{1.73_m2}",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73 m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m^2": "mL/min/{1.73_m2}",
    "ml/min/1.73m²": "mL/min/{1.73_m2}",
    "ml/min/1.73 m²": "mL/min/{1.73_m2}",
}
_CONVERSIONS: Final = {("cm", "mm"): 10.0, ("mm", "cm"): 0.1}


def canonical_unit(unit: str | None) -> str | None:
    """UCUM-style unit in one spelling (``mmHg`` -> ``mm[Hg]``); ``None`` for no unit."""
    if unit is None or not unit.strip():
        return None
    text = unit.strip()
    return _UNIT_ALIASES.get(text.lower(), text)


_DISPLAY_UNITS: Final = {"{score}": "", "mm[Hg]": "mmHg", "mL/min/{1.73_m2}": "mL/min/1.73 m2"}


def display_unit(unit: str | None) -> str:
    """A unit as people read it after a number: ``" mmHg"``; nothing for a score."""
    canonical = canonical_unit(unit)
    if canonical is None:
        return ""
    shown = _DISPLAY_UNITS.get(canonical, canonical)
    return f" {shown}" if shown else ""


@lru_cache(maxsize=1024)  # bounded: the recorded units come from patient files
def unit_factor(recorded: str | None, wanted: str | None) -> float | None:
    """Multiplier taking a value in ``recorded`` units to ``wanted`` units; ``None`` if they differ.

    A value recorded without a unit counts as a score when a score is wanted (EHRs often leave
    the unit of a 0-10 rating empty), and never as anything else. When no unit is wanted, any
    recorded unit is accepted as it is.
    """
    have, want = canonical_unit(recorded), canonical_unit(wanted)
    if have == want or want is None:
        return 1.0
    if have is None:
        return 1.0 if want == "{score}" else None
    return _CONVERSIONS.get((have, want))
