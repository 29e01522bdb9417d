"""The booking most tests start from: Jane Doe, $80.00, December 3rd 2026 at 3pm in New York."""

from __future__ import annotations

from typing import Any

JANE_BOOKING: dict[str, Any] = {
    "firstName": "Jane",
    "lastName": "Doe",
    "email": "jane@example.com",
    "price": "80.00",
    "datetime": "2026-12-03T15:00:00-0500",
}


def booking(**fields: Any) -> dict[str, Any]:
    """Jane's booking with `fields` changed or added."""
    return JANE_BOOKING | fields
