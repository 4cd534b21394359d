"""Huawei Cloud SCM emulator (v3 certificates and tags, legacy v2 purchase) for the official SDK.

Run standalone with ``python -m emulators.scm --ak AK --sk SK``; in tests, serve ``ScmApi`` with
``emulators.core.EmulatorServer``. See docs/emulators-scm.md and COVERAGE.md.
"""

from emulators.scm.models import ScmSettings
from emulators.scm.responses import ScmApi

__all__ = ["ScmApi", "ScmSettings"]
