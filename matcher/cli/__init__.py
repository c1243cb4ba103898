"""The ``matcher`` command: a thin shell over the library.

This package is the only part of matcher that prints or chooses an exit status. It parses
arguments, calls the library, renders with ``matcher.render.text`` (or ``as_dict`` for JSON) and
maps each exception class to a documented exit status; no traceback reaches the user (set
``MATCHER_DEBUG=1`` to see one).

Exit statuses (also in the README):

==  ==========================================================================================
0   success (``check`` ran; ``lint`` found nothing; every ``test`` example passed)
1   ``lint`` found problems, or a ``test`` example failed
2   usage error: unknown option or command, bad argument, unknown trial id or concept name
3   the patient file cannot be used: missing, unreadable, not JSON/YAML, invalid fields
    (``screen``: a patient of the panel was skipped; the others were screened)
4   criteria or concept files are invalid (``check`` still screens against the valid trials)
5   the chosen engine, simple-icd-10-cm (``lint --strict``) or the service extra (``serve``)
    is not installed here
6   ``import --fetch``: the registry cannot be reached, or did not answer with a record
70  internal error: a bug in matcher; please report it
==  ==========================================================================================
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from matcher.cli import (  # noqa: F401 -- importing a command module registers it
    check,
    concepts,
    examples,
    explain,
    importing,
    lint,
    schema,
    screen,
    serve,
)
from matcher.cli._shared import EXIT, Exit, cli, report, report_criteria
from matcher.core.errors import CriteriaError, EngineError, InputError, MatcherError, PatientError

__all__ = ["EXIT", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status instead of raising."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="matcher",
            standalone_mode=False,
        )
    except Exit as exc:
        return exc.status
    except click.exceptions.Abort:
        click.echo("matcher: aborted", err=True)
        return EXIT["usage"]
    except click.ClickException as exc:
        exc.show()
        return EXIT["usage"]
    except PatientError as exc:
        report(exc.diagnostics)
        click.echo("matcher: error: the patient file cannot be used", err=True)
        return EXIT["patient"]
    except InputError as exc:
        report(exc.diagnostics)
        return EXIT["patient"]
    except CriteriaError as exc:
        report_criteria(exc.diagnostics)
        return EXIT["criteria"]
    except EngineError as exc:
        click.echo(f"matcher: error: {exc}", err=True)
        return EXIT["engine"]
    except MatcherError as exc:  # pragma: no cover -- every subclass is handled above
        click.echo(f"matcher: error: {exc}", err=True)
        return EXIT["internal"]
    except Exception as exc:
        if os.environ.get("MATCHER_DEBUG"):
            raise
        click.echo(
            f"matcher: internal error ({type(exc).__name__}); this is a bug, please report it "
            "(set MATCHER_DEBUG=1 for details)",
            err=True,
        )
        return EXIT["internal"]
    return EXIT["ok"]


def entry_point() -> NoReturn:
    """The console script."""
    sys.exit(main())
