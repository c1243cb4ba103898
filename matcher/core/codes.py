"""Code systems: one short name per terminology, and codes written one canonical way.

Patient files, FHIR bundles and concept sets name code systems in many ways: ``rxnorm``,
``RxNorm``, ``http://www.nlm.nih.gov/research/umls/rxnorm``, the HL7 OID
``urn:oid:2.16.840.1.113883.6.88`` or ``2.16.840.1.113883.6.88`` alone, ``SNOMED CT`` with a space.
``SYSTEMS`` below is the one table of those spellings; everything is reduced to its short names,
so that matching compares like with like. A system name written as a word is compared without
case, spaces, hyphens and underscores (``SNOMED CT``, ``snomed-ct`` and ``snomedct`` are one
name); a URI or an OID is compared as written, without case and a trailing slash. Systems not
listed are kept as written (lower-cased) and never match a concept set.

Codes are read after removing the characters nobody sees (zero-width spaces and joiners, the
byte-order mark, soft hyphens and the bidirectional marks, ``INVISIBLE``) and folding
compatibility forms (NFKC: full-width letters and digits of East Asian input become ASCII).
ICD-10-CM and WHO ICD-10 codes are compared without their dot and in upper case (``G90.511`` and
``g90511`` are the same code), a WHO dagger or asterisk mark (``G63.2*``) dropped; LOINC and ATC
codes in upper case; other systems compare codes exactly.

``code_problem`` says whether a (system, code) pair can be read at all: a code outside every
known system, or not in the form of its system (letters in an RxNorm code), can never match a
concept set, and a reader that keeps account of what it skipped counts such a record as
unidentified rather than as absent (see the README, "Failure modes").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

__all__ = [
    "INVISIBLE",
    "SYSTEMS",
    "SYSTEM_LABELS",
    "CodeSystem",
    "canonical_code",
    "canonical_system",
    "canonical_unit",
    "code_problem",
    "display_code",
    "display_unit",
    "strip_invisible",
    "unit_factor",
]


@dataclass(frozen=True, slots=True)
class CodeSystem:
    """A terminology: its short name, the label people read, its spellings, its code form."""

    name: str
    label: str
    #: URIs, OIDs and names that mean this system (the short name is one of them too).
    spellings: tuple[str, ...]
    #: What a canonical code of this system looks like (see ``canonical_code``).
    form: re.Pattern[str]


#: Every code system matcher knows. OIDs are HL7's registrations (RxNorm 2.16.840.1.113883.6.88,
#: SNOMED CT .6.96, LOINC .6.1, ICD-10-CM .6.90, WHO ICD-10 .6.3, ATC .6.73); URIs are those of
#: the FHIR R4 terminology pages ("Using Codes in Resources", terminologies-systems).
SYSTEMS: Final = (
    CodeSystem(
        "rxnorm",
        "RxNorm",
        (
            "rxnorm",
            "rxnorm-cui",
            "rxcui",
            "http://www.nlm.nih.gov/research/umls/rxnorm",
            "urn:oid:2.16.840.1.113883.6.88",
        ),
        re.compile(r"\d{1,12}"),
    ),
    CodeSystem(
        "icd10cm",
        "ICD-10-CM",
        (
            "icd-10-cm",
            "icd10-cm",
            "http://hl7.org/fhir/sid/icd-10-cm",
            "urn:oid:2.16.840.1.113883.6.90",
        ),
        re.compile(r"[A-Z]\d[0-9A-Z]{1,5}"),
    ),
    CodeSystem(
        "icd10",
        "ICD-10",
        (
            "icd-10",
            "icd10who",
            "icd-10-who",
            "http://hl7.org/fhir/sid/icd-10",
            "urn:oid:2.16.840.1.113883.6.3",
        ),
        re.compile(r"[A-Z]\d[0-9A-Z]{1,4}"),
    ),
    CodeSystem(
        "snomed",
        "SNOMED CT",
        (
            "snomed",
            "snomed-ct",
            "snomedct",
            "sct",
            "http://snomed.info/sct",
            "urn:oid:2.16.840.1.113883.6.96",
        ),
        re.compile(r"\d{6,18}"),
    ),
    CodeSystem(
        "loinc",
        "LOINC",
        ("loinc", "http://loinc.org", "urn:oid:2.16.840.1.113883.6.1"),
        re.compile(r"(LP|LA|LL)?\d{1,8}-\d"),
    ),
    CodeSystem(
        "atc",
        "ATC",
        ("atc", "http://www.whocc.no/atc", "urn:oid:2.16.840.1.113883.6.73"),
        re.compile(r"[A-Z](\d\d([A-Z]([A-Z](\d\d)?)?)?)?"),
    ),
)

#: Short system name -> label used in evidence text.
SYSTEM_LABELS: Final = {system.name: system.label for system in SYSTEMS}
_FORMS: Final = {system.name: system.form for system in SYSTEMS}

#: Characters that print as nothing: zero-width space, non-joiner, joiner, left-to-right and
#: right-to-left marks (U+200B-U+200F), the bidirectional embeddings and overrides
#: (U+202A-U+202E) and isolates (U+2066-U+2069), the word joiner and invisible operators
#: (U+2060-U+2064; U+2065 is unassigned), the byte-order mark (U+FEFF), the soft hyphen.
INVISIBLE: Final = frozenset(
    (0x00AD, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x206A))
)
_REMOVE: Final = dict.fromkeys(INVISIBLE)


def strip_invisible(text: str) -> str:
    """``text`` without the characters in ``INVISIBLE`` (a cheap no-op on ASCII text)."""
    return text if text.isascii() else text.translate(_REMOVE)


_WORD_SEPARATORS: Final = re.compile(r"[\s_\-]+")


def _system_key(text: str) -> str:
    """A system spelling as compared: a URI or OID as written, a name without separators."""
    key = unicodedata.normalize("NFKC", strip_invisible(text)).strip().lower().rstrip("/")
    if ":" in key or "/" in key or key[:1].isdigit():
        return key
    return _WORD_SEPARATORS.sub("", key)


_ALIASES: Final = {
    _system_key(spelling): system.name
    for system in SYSTEMS
    for spelling in (system.name, *system.spellings)
} | {
    _system_key(s.removeprefix("urn:oid:")): system.name
    for system in SYSTEMS
    for s in system.spellings
    if s.startswith("urn:oid:")
}


def canonical_system(system: str) -> str:
    """``'http://snomed.info/sct'``, ``'SNOMED CT'``, ``'urn:oid:2.16.840.1.113883.6.96'`` ->
    ``'snomed'``; unknown systems are lower-cased and kept."""
    key = _system_key(system)
    return _ALIASES.get(key, key)


_ICD_MARKS: Final = "*†+!"  # WHO dagger-asterisk convention and its ASCII stand-ins


def canonical_code(system: str, code: str) -> str:
    """The form in which a code is compared (``system`` must already be canonical)."""
    code = unicodedata.normalize("NFKC", strip_invisible(code)).strip()
    if system in ("icd10cm", "icd10"):
        return code.rstrip(_ICD_MARKS).replace(".", "").replace(" ", "").upper()
    if system in ("atc", "loinc"):
        return code.upper()
    return code


def code_problem(system: str, code: str) -> str | None:
    """Why a coding can never match a concept set, or ``None`` when it can be read.

    ``system`` and ``code`` are taken as written (they are normalised here). The reason names
    the system and what is wrong, never the code itself: it may be shown to anyone. A reader
    calls this for each coding of a record; a record none of whose codings can be read, and
    without a name, cannot be identified.
    """
    short = canonical_system(system)
    form = _FORMS.get(short)
    if form is None:
        return "the code system is not one matcher reads"
    if not form.fullmatch(canonical_code(short, code)):
        return f"the code does not have the form of {SYSTEM_LABELS[short]} codes"
    return None


def display_code(system: str, code: str) -> str:
    """A code as people write it: ICD-10 and ICD-10-CM get their dot back after the category."""
    if system in ("icd10cm", "icd10") and "." not in code and len(code) > 3:
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
