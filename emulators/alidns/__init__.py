"""Alibaba Cloud DNS (Alidns 2015-01-09) emulator on the shared core; see COVERAGE.md."""

from emulators.alidns.responses import AlidnsApi

__all__ = ["AlidnsApi"]
