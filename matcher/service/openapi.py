"""The OpenAPI descriptions of the bodies the service reads and writes.

The routes read their bodies themselves (so that errors carry the library's codes and the body
cap holds while reading), so FastAPI cannot infer the schemas: they are written here. They
describe the shape a client can rely on, loosely where FHIR is open (``additionalProperties``),
and every status a route can answer, so that a contract test (schemathesis) can hold the service
to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

__all__ = ["EXAMPLES", "EXAMPLE_AS_OF", "body", "responses"]

_OBJECT: Final = {"type": "object", "additionalProperties": True}

BUNDLE: Final = {
    "type": "object",
    "description": "A FHIR R4 Bundle holding one Patient and their records; a Parameters "
    "resource among the entries may carry zipCode, travelRadius, phase, recruitmentStatus "
    "and asOf.",
    "required": ["resourceType", "type", "entry"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string", "enum": ["collection", "transaction", "batch", "searchset"]},
        "entry": {
            "type": "array",
            "items": {"type": "object", "properties": {"resource": _OBJECT}},
        },
    },
}

MATCH_PARAMETERS: Final = {
    "type": "object",
    "description": "FHIR Parameters: trialMatchClinicalData (resource: the patient's Bundle) "
    "and the string parameters zipCode, travelRadius, phase, recruitmentStatus (and asOf).",
    "required": ["resourceType", "parameter"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Parameters"]},
        "parameter": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "valueString": {"type": "string"},
                    "valueDate": {"type": "string", "format": "date"},
                    "resource": BUNDLE,
                },
            },
        },
    },
}

SEARCHSET: Final = {
    "type": "object",
    "description": "A FHIR searchset Bundle of ResearchStudy (see the README, 'Service').",
    "required": ["resourceType", "type", "entry"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string", "enum": ["searchset"]},
        "total": {"type": "integer"},
        "entry": {"type": "array", "items": _OBJECT},
    },
}

MATCH_OUTPUT: Final = {
    "type": "object",
    "description": "FHIR Parameters with one parameter, trialMatchOutput: the searchset Bundle.",
    "required": ["resourceType", "parameter"],
    "properties": {"resourceType": {"type": "string", "enum": ["Parameters"]}},
}

RESEARCH_STUDY: Final = {
    "type": "object",
    "required": ["resourceType", "id", "status"],
    "properties": {"resourceType": {"type": "string", "enum": ["ResearchStudy"]}},
}

CHECK_REQUEST: Final = {
    "type": "object",
    "required": ["patient"],
    "additionalProperties": False,
    "properties": {
        "patient": {
            "type": "object",
            "description": "A patient profile (README 'Patient files') or a FHIR R4 Bundle.",
        },
        "as_of": {"type": "string", "format": "date", "description": "Default: today."},
        "trials": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Only these trial ids. Default: the whole catalog.",
        },
        "explain": {
            "type": "integer",
            "minimum": 0,
            "description": "How many of the top-ranked trials carry their explanation "
            "(criteria, missing facts, review items); the others have verdict, score and "
            "eligible_from only, and explained false. Default: all.",
        },
    },
}

CHECK_RESULT: Final = {
    "type": "object",
    "description": "matcher's JSON contract (README 'JSON output').",
    "required": ["patient", "as_of", "engine", "trials"],
}

TRIAL_LIST: Final = {
    "type": "object",
    "required": ["generation", "trials"],
    "properties": {"generation": {"type": "integer"}, "trials": {"type": "array"}},
}

TRIAL_DETAIL: Final = {"type": "object", "required": ["id", "title", "criteria", "text"]}

READY: Final = {"type": "object", "required": ["status", "generation", "trials"]}

RELOADED: Final = {"type": "object", "required": ["reloaded", "generation", "trials"]}

_DIAGNOSTICS: Final = {
    "type": "object",
    "required": ["diagnostics"],
    "properties": {
        "diagnostics": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "file": {"type": "string"},
                    "line": {"type": "integer"},
                    "column": {"type": "integer"},
                    "path": {"type": "string"},
                },
            },
        }
    },
}

_OUTCOME: Final = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {"resourceType": {"type": "string", "enum": ["OperationOutcome"]}},
}

_WHY: Final = {
    400: "The body cannot be used: not JSON, not the expected resource, invalid fields",
    401: "API keys are configured and none was given, or not a known one",
    404: "No trial with this id",
    409: "The catalog on disk is broken: the old one stays in service",
    413: "The body is larger than the cap (10 MB by default)",
    503: "The check took longer than the request timeout",
}


#: The examples carry their as-of date, so that their answers are the same on any day (the contract
#: test compares them whole with golden files).
EXAMPLE_AS_OF: Final = "2026-11-21"

_PATIENT: Final = {
    "resource": {"resourceType": "Patient", "id": "example", "birthDate": "1979-04-12"}
}

_PATIENT_BUNDLE: Final = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        _PATIENT,
        {
            "resource": {
                "resourceType": "Parameters",
                "parameter": [
                    {"name": "recruitmentStatus", "valueString": "recruiting"},
                    {"name": "asOf", "valueDate": EXAMPLE_AS_OF},
                ],
            }
        },
    ],
}

#: One working request per route: shown on /docs, and sent by the contract test.
EXAMPLES: Final[dict[str, Any]] = {
    "bundle": _PATIENT_BUNDLE,
    "match": {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "trialMatchClinicalData",
                "resource": {**_PATIENT_BUNDLE, "entry": [_PATIENT]},
            },
            {"name": "phase", "valueString": "4"},
            {"name": "asOf", "valueDate": EXAMPLE_AS_OF},
        ],
    },
    "check": {
        "patient": {"id": "example", "birth_date": "1979-04-12"},
        "as_of": EXAMPLE_AS_OF,
        "explain": 1,
    },
}


def body(schema: dict[str, Any], example: str) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads a JSON body."""
    content = {"schema": schema, "example": EXAMPLES[example]}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": content, "application/fhir+json": content},
        }
    }


def responses(
    schema: dict[str, Any],
    *,
    fhir: bool = False,
    found: bool = False,
    errors: Iterable[int] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """The documented answers of a route: 200 with ``schema``, and its error statuses."""
    media = "application/fhir+json" if fhir else "application/json"
    codes = list(errors) if errors is not None else ([401, 404] if found else [400, 401, 413, 503])
    out: dict[int | str, dict[str, Any]] = {200: {"content": {media: {"schema": schema}}}}
    for code in codes:
        out[code] = {
            "description": _WHY[code],
            "content": {media: {"schema": _OUTCOME if fhir else _DIAGNOSTICS}},
        }
    return out
