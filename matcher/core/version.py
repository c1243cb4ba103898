"""matcher's version, in one place below every side (``pyproject.toml`` declares the same; a test
checks that they agree). Results carry it (``matcher_version``) for the audit trail."""

from typing import Final

__all__ = ["VERSION"]

VERSION: Final = "0.1.0"
