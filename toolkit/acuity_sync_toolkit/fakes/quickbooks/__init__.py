"""A fake QuickBooks Online (Accounting API v3, OAuth token endpoint, limits), faithful to the recorded sandbox
traffic in ../shared/reference/quickbooks/recorded/. See server.py."""

from acuity_sync_toolkit.fakes.quickbooks.server import FakeQuickBooks

__all__ = ["FakeQuickBooks"]
