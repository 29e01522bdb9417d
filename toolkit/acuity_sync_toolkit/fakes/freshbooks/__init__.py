"""A fake FreshBooks (accounting API per account_id, users/me, OAuth token endpoint), faithful to the fixtures in
../shared/reference/freshbooks/fixtures/ and research Part B. See server.py."""

from acuity_sync_toolkit.fakes.freshbooks.server import FakeFreshBooks

__all__ = ["FakeFreshBooks"]
