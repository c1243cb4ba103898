"""Where the bundled catalog lives: inside the installed package, or in a source checkout.

A wheel carries the repository's ``criteria/`` folder as ``matcher/_catalog`` (see
``pyproject.toml``); an editable install or a plain checkout reads ``criteria/`` beside the package.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["bundled_catalog_dir"]

_PACKAGE = Path(__file__).resolve().parent.parent


def bundled_catalog_dir() -> Path:
    """The folder holding the bundled trial files (and their ``concepts/``)."""
    packaged = _PACKAGE / "_catalog"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / "criteria"
