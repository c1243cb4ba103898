"""ClinicalTrials.gov API v2 study records -> draft trial files.

``draft_trial(study, concepts)`` turns one study record (the JSON of ``GET /api/v2/studies/{id}``;
the OpenAPI description is ``ctg-oas-v2.yaml``) into the mapping of a trial file, and
``import_record`` reads a record file (one study, or a search answer with ``studies``) and writes
each draft as YAML. The draft is valid by construction (it is checked against ``TrialFile`` before
it is returned), and the same record always gives the same bytes.

What is taken from where:

=================================  ============================================================
trial file                         API v2 record
=================================  ============================================================
``id``, ``registry_url``           ``identificationModule.nctId``
``title``                          ``briefTitle`` (``officialTitle`` when there is none)
``phases``                         ``designModule.phases``
``status``                         ``statusModule.overallStatus`` (every v2 status, lower case)
``sponsor``                        ``sponsorCollaboratorsModule.leadSponsor.name``
``conditions``, ``keywords``       ``conditionsModule``
``last_updated``, ``last_reviewed``  ``lastUpdatePostDateStruct.date`` (the criteria are as of it)
``sites``                          ``contactsLocationsModule.locations``: facility, status, city,
                                   state, zip, country, ``geoPoint``
age criterion                      ``eligibilityModule.minimumAge`` / ``maximumAge``
sex criterion                      ``sex`` (``genderBased`` and ``genderDescription`` noted)
``notes``                          ``healthyVolunteers``, ``genderDescription``, section preambles
criteria ``pending: true``         ``eligibilityCriteria``, item by item (see ``text``)
=================================  ============================================================

Ages: the rules count whole years. A bound in years (or in months that make whole years) is a
plain rule. Any other bound (``6 Months``, ``28 Days``) becomes the nearest whole-year bound that
never turns away a patient the registry admits, with a review note: met, it is a flag that asks
for the exact age; not met, the patient is outside the registry's range whatever the exact age.

Every item of the text becomes a criterion with ``pending: true`` and a review note holding the
text, so that nothing nobody has encoded can let a trial be ``eligible``. The recogniser
(``matcher.importers.recognise``) adds a proposed rule to the items it is sure of; the rule stays
pending too. Unknown keys of the record are ignored; values of the wrong type, unknown codes and
missing parts are listed in ``not_recovered``.
"""

from __future__ import annotations

import math
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import yaml

from matcher.core.errors import Diagnostic, MatcherError
from matcher.core.source import SourceProblems, parse_json
from matcher.criteria.concepts import ConceptSet
from matcher.criteria.schema import Phase, RecruitmentStatus, TrialFile
from matcher.importers.recognise import Recogniser
from matcher.importers.text import Item, Section, split_criteria, unescape
from matcher.importers.yaml_out import COMMENT, render

__all__ = [
    "DEFAULT_BASE_URL",
    "Draft",
    "FetchError",
    "RecordError",
    "draft_trial",
    "drafts_from_text",
    "fetch_record",
]

#: The public API; ``MATCHER_CTGOV_URL`` or ``--base-url`` points elsewhere (a mirror, a test).
DEFAULT_BASE_URL: Final = "https://clinicaltrials.gov/api/v2"
#: Seconds to connect and to wait for each read.
TIMEOUT: Final = 20.0
#: The largest answer read from the API (a study with thousands of sites is a few MB).
MAX_ANSWER: Final = 64 * 1024 * 1024

_NCT: Final = re.compile(r"^NCT\d{8}$")
_AGE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*$", re.I)
_DAYS_PER: Final = {"year": 365.25, "month": 30.4375, "week": 7.0, "day": 1.0}
_SCREENING: Final = re.compile(
    r"\b(?:informed\s+consent|consent\s+form|willing|willingness|able\s+to\s+comply|"
    r"agree[sd]?\s+to|comply\s+with)\b",
    re.I,
)
_MARKER: Final = re.compile(r"^(?:\d{1,3}[.)]|[a-zA-Z][.)]|\(\w{1,4}\))\s+")
_LIMIT: Final = 3900  # characters of text kept in a review note (the format allows 4,000)


class RecordError(MatcherError):
    """A registry record that cannot be imported; ``diagnostics`` says where and why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__("; ".join(d.render() for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


class FetchError(MatcherError):
    """The registry could not be reached, or did not answer with a record."""


@dataclass(frozen=True, slots=True)
class Draft:
    """One imported trial: its id, the YAML text, and how many items wait for an author."""

    id: str
    text: str
    pending: int
    proposals: int


# --- reading values -------------------------------------------------------------------------------


class _Reader:
    """Typed access to the record that notes what it could not use, by its JSON path."""

    def __init__(self, study: Mapping[str, Any]) -> None:
        self.study = study
        self.lost: list[str] = []

    def get(self, path: str, kind: type | tuple[type, ...], *, note: bool = True) -> Any:
        node: Any = self.study
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        if node is None:
            return None
        if not isinstance(node, kind) or (isinstance(node, bool) and kind is not bool):
            if note:
                self.lost.append(f"{path}: not read (unexpected type {type(node).__name__})")
            return None
        return node

    def text(self, path: str) -> str | None:
        value = self.get(path, str)
        if value is None or not value.strip():
            return None
        return unescape(value)[:_LIMIT]

    def texts(self, path: str) -> list[str]:
        values = self.get(path, list) or []
        kept = [unescape(v)[:_LIMIT] for v in values if isinstance(v, str) and v.strip()]
        if len(kept) != len(values):
            self.lost.append(f"{path}: {len(values) - len(kept)} value(s) that are not text")
        return kept


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


# --- metadata -------------------------------------------------------------------------------------

_STATUSES: Final = {s.value.upper(): s.value for s in RecruitmentStatus}
_PHASES: Final = {p.value for p in Phase}


def _status(value: str | None, where: str, lost: list[str]) -> str | None:
    if value is None:
        return None
    found = _STATUSES.get(value.strip().upper())
    if found is None:
        lost.append(f"{where}: unknown status {value!r}")
    return found


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _sites(reader: _Reader) -> list[dict[str, Any]]:
    locations = reader.get("protocolSection.contactsLocationsModule.locations", list) or []
    sites: list[dict[str, Any]] = []
    for index, location in enumerate(locations):
        where = f"locations[{index}]"
        if not isinstance(location, Mapping):
            reader.lost.append(f"{where}: not a location object")
            continue
        site: dict[str, Any] = {}
        for key in ("facility", "status", "city", "state", "zip", "country"):
            value = location.get(key)
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                reader.lost.append(f"{where}.{key}: not text")
                continue
            if key == "status":
                status = _status(value, f"{where}.status", reader.lost)
                if status is not None:
                    site["status"] = status
            else:
                site[key] = unescape(value)[: 20 if key == "zip" else 300]
        geo = location.get("geoPoint")
        if isinstance(geo, Mapping):
            lat, lon = _number(geo.get("lat")), _number(geo.get("lon"))
            if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
                site["geo"] = {"lat": lat, "lon": lon}
            else:
                reader.lost.append(f"{where}.geoPoint: not a position")
        elif geo is not None:
            reader.lost.append(f"{where}.geoPoint: not a position")
        if site:
            sites.append(site)
    return sites


# --- structured eligibility -----------------------------------------------------------------------


def _age_bound(text: str | None, where: str, lost: list[str]) -> tuple[float, str, str] | None:
    """(days, unit, as written) of an age bound; None for none ("N/A", absent)."""
    if text is None or text.strip().upper() in ("N/A", "NA", ""):
        return None
    match = _AGE.match(text)
    if match is None:
        lost.append(f"{where}: age {text!r} not read")
        return None
    amount, unit = float(match.group(1)), match.group(2).lower()
    if unit in ("hour", "minute"):
        return (0.0, "day", text.strip())  # under a day: the bound is the day of birth
    return (amount, unit, text.strip())


def _years(bound: tuple[float, str, str], *, upper: bool) -> tuple[int, bool]:
    """The whole-year bound and whether it is exact (see the module docstring)."""
    amount, unit, _ = bound
    if unit == "year" and amount == int(amount):
        return int(amount), True
    if unit == "month" and amount == int(amount) and int(amount) % 12 == 0:
        return int(amount) // 12, True
    years = amount * _DAYS_PER[unit] / 365.25
    # A lower bound: whole years at least floor(bound) (never turns a qualifying patient away).
    # An upper bound: whole years at most floor(bound) as well (a patient of floor+1 years is
    # older than the bound).
    return math.floor(years + 1e-9), False


def _age_criterion(nct: str, reader: _Reader) -> dict[str, Any] | None:
    module = "protocolSection.eligibilityModule"
    low = _age_bound(reader.text(f"{module}.minimumAge"), "minimumAge", reader.lost)
    high = _age_bound(reader.text(f"{module}.maximumAge"), "maximumAge", reader.lost)
    if low is None and high is None:
        return None
    spec: dict[str, int] = {}
    exact = True
    words: list[str] = []
    if low is not None:
        spec["min"], exact_low = _years(low, upper=False)
        exact = exact and exact_low
        words.append(f"minimumAge {low[2]}")
    if high is not None:
        spec["max"], exact_high = _years(high, upper=True)
        exact = exact and exact_high
        words.append(f"maximumAge {high[2]}")
    if "min" in spec and "max" in spec and spec["min"] > spec["max"]:
        reader.lost.append("eligibilityModule: minimumAge is above maximumAge")
        return None
    if low is not None and high is not None:
        description = f"Aged {low[2].lower()} to {high[2].lower()}."
        ident = f"age_{spec['min']}_{spec['max']}"
    elif low is not None:
        description = f"Aged {low[2].lower()} or more."
        ident = f"age_{spec['min']}_or_more"
    else:
        assert high is not None
        description = f"Aged {high[2].lower()} or less."
        ident = f"age_up_to_{spec['max']}"
    criterion: dict[str, Any] = {
        "id": ident,
        "description": description,
        "source": f"{nct} eligibility {', '.join(words)}",
        "rule": {"age": spec},
    }
    if not exact:
        criterion["review"] = (
            f"the registry's bound ({', '.join(words)}) is not in whole years: the rule uses the "
            "nearest whole-year bound that admits everyone the registry admits; confirm the "
            "exact age"
        )
    return criterion


def _sex_criterion(nct: str, reader: _Reader) -> dict[str, Any] | None:
    module = "protocolSection.eligibilityModule"
    sex = reader.text(f"{module}.sex")
    if sex is None or sex.upper() == "ALL":
        if sex is not None and sex.upper() != "ALL":
            reader.lost.append(f"eligibilityModule.sex: unknown value {sex!r}")
        return None
    wanted = {"FEMALE": "female", "MALE": "male"}.get(sex.upper())
    if wanted is None:
        reader.lost.append(f"eligibilityModule.sex: unknown value {sex!r}")
        return None
    criterion: dict[str, Any] = {
        "id": f"sex_{wanted}",
        "description": f"{wanted.capitalize()} participants only.",
        "source": f"{nct} eligibility sex {sex.upper()}",
        "rule": {"sex": [wanted]},
    }
    if reader.get(f"{module}.genderBased", bool) is True:
        described = reader.text(f"{module}.genderDescription")
        criterion["pending"] = True
        criterion["review"] = (
            "eligibility is based on gender (genderBased), and the rule reads biological sex: "
            "confirm with the patient" + (f" (the registry says: {described})" if described else "")
        )[:_LIMIT]
    return criterion


# --- the criteria text ----------------------------------------------------------------------------


def _slug(text: str, words: int = 5) -> str:
    ascii_words = re.findall(r"[a-z0-9]+", text.lower().encode("ascii", "ignore").decode())
    return "_".join(ascii_words[:words])


def _item_criteria(
    nct: str,
    section: Section,
    kind: str,
    recogniser: Recogniser,
    taken: set[str],
    lost: list[str],
) -> tuple[list[dict[str, Any]], int]:
    label = "criteria" if section.kind == "unsorted" else section.kind
    prefix = {"inclusion": "inc", "exclusion": "exc"}.get(section.kind, "item")
    criteria: list[dict[str, Any]] = []
    proposals = 0
    for item in section.walk():
        criteria.append(_item_criterion(nct, item, label, prefix, kind, recogniser, taken, lost))
        proposals += "rule" in criteria[-1]
    return criteria, proposals


def _item_criterion(
    nct: str,
    item: Item,
    label: str,
    prefix: str,
    kind: str,
    recogniser: Recogniser,
    taken: set[str],
    lost: list[str],
) -> dict[str, Any]:
    number = item.number
    base = f"{prefix}_{number.replace('.', '_')}"
    slug = _slug(_MARKER.sub("", item.text))
    ident = f"{base}_{slug}"[:80].rstrip("_") if slug else base
    while ident in taken:
        ident += "_x"
    taken.add(ident)
    text = item.text
    if len(text) > _LIMIT:
        lost.append(f"{label} {number}: the text past {_LIMIT:,} characters (see the registry)")
        text = text[:_LIMIT]
    description = text if len(text) <= 200 else text[:199].rstrip() + "…"
    comments: list[str] = []
    if item.children:
        comments.append(f"{label} {number} has sub-items {number}.1 to {item.children[-1].number}")
    if _SCREENING.search(text):
        comments.append(
            "a screening question? if every patient is asked this at screening, remove 'pending'"
        )
    criterion: dict[str, Any] = {}
    if comments:
        criterion[COMMENT] = comments
    criterion |= {
        "id": ident,
        "description": description,
        "source": f"{nct} {label} {number}",
        "pending": True,
    }
    if label == "criteria":
        criterion["review"] = (
            "not encoded yet; the registry does not say whether this is an inclusion or an "
            f"exclusion criterion: {text}"
        )[: _LIMIT + 100]
    else:
        criterion["review"] = f"not encoded yet: {text}"
    proposal = recogniser.propose(_MARKER.sub("", text), kind)
    if proposal is not None:
        note = criterion.pop("review")
        criterion["rule"] = proposal.rule
        criterion["review"] = (
            f"proposed rule ({proposal.reading}) to check against the text; {note}"
        )
    return criterion


# --- the draft ------------------------------------------------------------------------------------


def draft_trial(study: Mapping[str, Any], concepts: Iterable[ConceptSet]) -> Draft:
    """The draft trial file of one API v2 study record (see the module docstring)."""
    reader = _Reader(study)
    nct = reader.text("protocolSection.identificationModule.nctId")
    if nct is None or not _NCT.match(nct):
        raise RecordError(
            [
                Diagnostic(
                    "not-a-study",
                    "expected a ClinicalTrials.gov API v2 study record with "
                    "protocolSection.identificationModule.nctId (NCT and 8 digits)",
                    "record",
                )
            ]
        )
    lost = reader.lost
    ident = "protocolSection.identificationModule"
    title = reader.text(f"{ident}.briefTitle") or reader.text(f"{ident}.officialTitle")
    if title is None:
        lost.append("identificationModule: no title")
    status = _status(
        reader.text("protocolSection.statusModule.overallStatus"), "overallStatus", lost
    )
    if status is None:
        lost.append("statusModule.overallStatus: not given; the status is 'unknown'")
    phases: list[str] = []
    for value in reader.texts("protocolSection.designModule.phases"):
        if value.upper() in _PHASES and value.upper() not in phases:
            phases.append(value.upper())
        elif value.upper() not in _PHASES:
            lost.append(f"designModule.phases: unknown phase {value!r}")
    sponsor = reader.text("protocolSection.sponsorCollaboratorsModule.leadSponsor.name")
    if sponsor is None:
        lost.append("sponsorCollaboratorsModule.leadSponsor.name: not given")
    status_module = "protocolSection.statusModule"
    updated = _day(reader.text(f"{status_module}.lastUpdatePostDateStruct.date")) or _day(
        reader.text(f"{status_module}.lastUpdateSubmitDate")
    )
    if updated is None:
        lost.append("statusModule.lastUpdatePostDateStruct: no date; last_reviewed is 1999-09-17")
    eligibility = "protocolSection.eligibilityModule"
    notes = [
        "Imported from the ClinicalTrials.gov API v2 record by 'matcher import ctgov'. Items "
        "marked pending hold registry text nobody has encoded yet: encode each as a rule, or "
        "remove 'pending' from a true screening question, then review the trial.",
    ]
    healthy = reader.get(f"{eligibility}.healthyVolunteers", bool)
    if healthy is not None:
        notes.append(f"Accepts healthy volunteers: {'yes' if healthy else 'no'}.")
    described = reader.text(f"{eligibility}.genderDescription")
    if described is not None:
        notes.append(f"Gender: {described}")

    recogniser = Recogniser(concepts)
    inclusion: list[dict[str, Any]] = []
    exclusion: list[dict[str, Any]] = []
    for structured in (_age_criterion(nct, reader), _sex_criterion(nct, reader)):
        if structured is not None:
            inclusion.append(structured)
    taken = {c["id"] for c in inclusion}
    proposals = 0
    text = reader.get(f"{eligibility}.eligibilityCriteria", str)
    if text is not None and text.strip():
        for section in split_criteria(text):
            for line in section.preamble:
                notes.append(f"{section.heading or 'Criteria'}: {line}")
            kind = "exclusion" if section.kind == "exclusion" else "inclusion"
            made, proposed = _item_criteria(nct, section, kind, recogniser, taken, lost)
            (exclusion if kind == "exclusion" else inclusion).extend(made)
            proposals += proposed
    else:
        lost.append("eligibilityModule.eligibilityCriteria: not in the record")
        inclusion.append(
            {
                "id": "criteria_not_in_record",
                "description": "The eligibility criteria text, which this record does not hold.",
                "source": f"{nct} eligibility criteria",
                "pending": True,
                "review": "the imported record holds no eligibility criteria text: read the "
                "criteria on the registry and encode them",
            }
        )
    document: dict[str, Any] = {
        "id": nct,
        "title": title or f"{nct} (no title in the record)",
    }
    if phases:
        document["phases"] = phases
    document |= {
        "status": status or "unknown",
        "sponsor": sponsor or "not given in the record",
        "conditions": reader.texts("protocolSection.conditionsModule.conditions"),
        "keywords": reader.texts("protocolSection.conditionsModule.keywords"),
        "registry_url": f"https://clinicaltrials.gov/study/{nct}",
        "last_reviewed": updated or date(1999, 9, 17),
        "last_updated": updated,
        "notes": " ".join(notes)[:_LIMIT],
    }
    sites = _sites(reader)
    if not document["conditions"]:
        del document["conditions"]
    if not document["keywords"]:
        del document["keywords"]
    if updated is None:
        del document["last_updated"]
    if lost:
        document["not_recovered"] = [line[:_LIMIT] for line in lost]
    if inclusion:
        document["inclusion"] = inclusion
    if exclusion:
        document["exclusion"] = exclusion
    if sites:
        document["sites"] = sites
    pending = sum(bool(c.get("pending")) for c in (*inclusion, *exclusion))
    header = [
        "yaml-language-server: $schema=trial.schema.json",
        f"Draft of {nct} imported from ClinicalTrials.gov by 'matcher import ctgov'.",
        f"{pending} item(s) pending, {proposals} with a proposed rule: "
        "nothing here lets a patient pass until an author has encoded it.",
    ]
    rendered = render(document, header)
    _check(rendered)
    return Draft(nct, rendered, pending, proposals)


def _check(text: str) -> None:
    """The draft must be a valid trial file: anything else is a bug here, not in the record."""
    TrialFile.model_validate(yaml.safe_load(text))


def drafts_from_text(text: str, name: str, concepts: Iterable[ConceptSet]) -> list[Draft]:
    """Every draft of a record file: one study, or an API search answer (``studies``)."""
    try:
        document = parse_json(text, name)
    except SourceProblems as exc:
        raise RecordError(exc.diagnostics) from None
    data = document.data
    if isinstance(data, Mapping) and isinstance(data.get("studies"), list):
        studies = data["studies"]
    elif isinstance(data, Mapping) and "protocolSection" in data:
        studies = [data]
    else:
        raise RecordError(
            [
                Diagnostic(
                    "not-a-study",
                    "expected a ClinicalTrials.gov API v2 study record (protocolSection) or a "
                    "search answer (studies)",
                    name,
                    1,
                    1,
                )
            ]
        )
    concept_list = list(concepts)
    drafts: list[Draft] = []
    problems: list[Diagnostic] = []
    for index, study in enumerate(studies):
        if not isinstance(study, Mapping):
            problems.append(
                Diagnostic("not-a-study", "not a study record", name, 0, 0, f"studies[{index}]")
            )
            continue
        try:
            drafts.append(draft_trial(study, concept_list))
        except RecordError as exc:
            where = f"studies[{index}]" if len(studies) > 1 or "studies" in data else ""
            problems.extend(
                Diagnostic(d.code, d.message, name, 0, 0, where) for d in exc.diagnostics
            )
    if problems:
        raise RecordError(problems)
    return drafts


# --- the API --------------------------------------------------------------------------------------


def fetch_record(nct: str, base_url: str = DEFAULT_BASE_URL, timeout: float = TIMEOUT) -> str:
    """The JSON text of one study from the API (``GET {base_url}/studies/{nct}``).

    Raises ``FetchError`` with a plain reason when the registry cannot be reached, times out,
    or answers with anything but a record."""
    if not _NCT.match(nct):
        raise FetchError(f"{nct!r} is not a registry id (NCT and 8 digits)")
    url = f"{base_url.rstrip('/')}/studies/{nct}?format=json"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body: bytes = answer.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as exc:
        status = "no such study" if exc.code == 404 else f"HTTP status {exc.code}"
        raise FetchError(f"the registry answered {nct} with {status}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            reason = f"no answer within {timeout:g} s"
        raise FetchError(f"cannot reach the registry at {base_url}: {reason}") from None
    if len(body) > MAX_ANSWER:
        raise FetchError(f"the registry's answer for {nct} is over {MAX_ANSWER // 2**20} MB")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise FetchError(f"the registry's answer for {nct} is not UTF-8 text") from None
