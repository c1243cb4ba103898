"""matcher over HTTP, for referral software that is not written in Python.

Install with ``pip install 'trial-matcher[service]'`` (FastAPI and uvicorn); start with
``matcher serve``. The package calls only the library's public API (``matcher.load_trials``,
``matcher.patient_from_data``, ``matcher.check`` and the result types) and renders what it
returns, so it decides nothing the library does not:

    settings    options and environment -> one frozen ``Settings``        (settings)
    catalog     the compiled catalog, swapped whole on reload             (catalog)
    search      the FHIR search parameters, and the trials they select    (search)
    fhir        results -> searchset Bundle of ResearchStudy, errors       (fhir)
    app         routes, the request gate (keys, body cap, access log)     (app, openapi)

Nothing here is imported by ``matcher`` itself or by ``matcher check``: the CLI imports this
package inside ``matcher serve`` only.
"""

from matcher.service.app import create_app, create_app_from_environment
from matcher.service.settings import Settings

__all__ = ["Settings", "create_app", "create_app_from_environment"]
