"""Alibaba Cloud CAS (SSL Certificates Service, API 2020-04-07) emulator.

Run: `python -m emulators.cas --access-key-id AK --access-key-secret SECRET [--port N] [--state FILE]`.
In code: `EmulatorServer(CasApi({"AK": "SECRET"})).start()`. See docs/emulators.md.
"""

from emulators.cas.responses import CasApi

__all__ = ["CasApi"]
