"""Huawei Cloud DNS (v2 public zones and record sets) emulator on the shared core; see COVERAGE.md."""

from emulators.huaweidns.responses import HuaweiDnsApi

__all__ = ["HuaweiDnsApi"]
