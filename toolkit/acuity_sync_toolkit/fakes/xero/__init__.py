"""A fake Xero (Accounting API, identity endpoints, limits) checked against Xero's official OpenAPI spec.
See server.py."""

from acuity_sync_toolkit.fakes.xero.server import FakeXero, RecordedRequest

__all__ = ["FakeXero", "RecordedRequest"]
