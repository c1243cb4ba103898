"""Fixtures shared by the test modules; the helpers themselves live in ``helpers.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import TrialFolder


@pytest.fixture
def folder(tmp_path: Path) -> TrialFolder:
    return TrialFolder(tmp_path)
