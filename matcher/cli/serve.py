"""``matcher serve``: the HTTP service (the ``service`` extra)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    pass

from matcher.cli._shared import (
    PATH,
    cli,
    criteria_option,
    fail,
)


@cli.command("serve")
@criteria_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (each holds the catalog).",
)
@click.option(
    "--api-keys-file",
    type=PATH,
    help="File of accepted API keys, one per line (or set MATCHER_API_KEYS). Default: none.",
)
@click.option(
    "--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN", help="Allow CORS from it."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.01),
    default=30.0,
    show_default=True,
    help="Seconds a check may take before the answer is 503.",
)
@click.option(
    "--max-body",
    type=click.IntRange(min=1),
    default=10 * 1024 * 1024,
    show_default=True,
    help="Largest request body in bytes (413 above).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def serve_command(
    criteria: tuple[Path, ...],
    host: str,
    port: int,
    workers: int,
    api_keys_file: Path | None,
    cors_origins: tuple[str, ...],
    timeout: float,
    max_body: int,
    log_level: str,
) -> None:
    """Serve FHIR $match, the MITRE /getClinicalTrial interface and /check over HTTP."""
    import socket

    try:
        import uvicorn

        from matcher.service import Settings, create_app
        from matcher.service.catalog import CatalogHolder
        from matcher.service.settings import read_key_file
    except ImportError as exc:
        fail(
            f"matcher serve needs the service extra ({exc.name} is missing): "
            "pip install 'trial-matcher[service]'",
            "engine",
        )
    keys = Settings.from_environment().api_keys
    if api_keys_file is not None:
        keys = keys | frozenset(read_key_file(api_keys_file))
    settings = Settings(
        criteria=criteria,
        api_keys=keys,
        cors_origins=cors_origins,
        max_body=max_body,
        timeout=timeout,
        supervised=workers > 1,
    )
    holder = CatalogHolder(criteria)  # strict: a broken catalog stops here, with its problems
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror}", "usage")
    click.echo(
        f"matcher: serving {len(holder.current.catalog.trials)} trial(s) on http://{host}:{port} "
        f"with {workers} worker(s); API keys {'required' if keys else 'not required'}",
        err=True,
    )
    log_config = _service_log_config(log_level)
    if workers == 1:
        uvicorn.run(
            create_app(settings, holder=holder),
            host=host,
            port=port,
            log_config=log_config,
            access_log=False,
        )
        return
    os.environ.update(settings.to_environment())
    uvicorn.run(
        "matcher.service.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config,
        access_log=False,
    )


def _service_log_config(level: str) -> dict[str, object]:
    """Logging for the service: one line per record on stderr. uvicorn's own access log is off
    (it would print query strings); matcher.service.access writes one without them."""
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "matcher": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }
