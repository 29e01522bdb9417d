"""A small client of the fake Acuity's admin endpoints: act as a business (book, change, sell) and watch webhooks.

with AcuityAdmin(fake.url) as admin:
    admin.create_account(1234, "key-1234", timezone="America/Denver")
    appointment = admin.book_appointment(1234, firstName="Jane", price="80.00", amountPaid="80.00")
    admin.change_appointment(1234, appointment["id"], canceled=True)
    admin.change_appointment_without_webhook(1234, appointment["id"], notes="...")  # Acuity's delivery lost
    admin.deliveries(1234)  # every webhook attempt, oldest first
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx


class AcuityAdminError(RuntimeError):
    """The fake answered an admin call with an error; `body` is its Acuity-style error body when it had one."""

    def __init__(self, status_code: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"fake Acuity admin call failed: {status_code} {message}")
        self.status_code = status_code
        self.body = body


class AcuityAdmin:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        # The timeout covers the first webhook attempts, which are made before an admin call answers.
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, trust_env=False)

    def create_account(self, user_id: int, api_key: str, **profile: str) -> dict[str, Any]:
        """profile: name, email, timezone, currency, action_format ("plain" | "event"), plan."""
        return self._object("POST", "/_admin/accounts", json={"user_id": user_id, "api_key": api_key, **profile})

    def book_appointment(self, account: int, **fields: Any) -> dict[str, Any]:
        """fields: a partial appointment in Acuity's shape (firstName, datetime, price, amountPaid, ...)."""
        return self._object("POST", "/_admin/appointments", params={"account": account}, json=fields)

    def change_appointment(self, account: int, appointment_id: int, **changes: Any) -> dict[str, Any]:
        return self._object(
            "PATCH", f"/_admin/appointments/{appointment_id}", params={"account": account}, json=changes
        )

    def complete_order(self, account: int, **fields: Any) -> dict[str, Any]:
        """fields: total, status, time, firstName, lastName, phone, email, title, notes."""
        return self._object("POST", "/_admin/orders", params={"account": account}, json=fields)

    # The same, with `deliver=false`: the change is made but its webhook is lost for good (what reconciliation is
    # for).

    def book_appointment_without_webhook(self, account: int, **fields: Any) -> dict[str, Any]:
        return self._object("POST", "/_admin/appointments", params=_lost(account), json=fields)

    def change_appointment_without_webhook(self, account: int, appointment_id: int, **changes: Any) -> dict[str, Any]:
        return self._object("PATCH", f"/_admin/appointments/{appointment_id}", params=_lost(account), json=changes)

    def complete_order_without_webhook(self, account: int, **fields: Any) -> dict[str, Any]:
        return self._object("POST", "/_admin/orders", params=_lost(account), json=fields)

    def add_certificate(self, account: int, certificate: str, type: str, **fields: Any) -> dict[str, Any]:
        """A code: type "package" | "gift" | "subscription" | "coupon"; fields: email, appointmentTypeIDs,
        remainingCounts, discountType, discountAmount."""
        body = {"certificate": certificate, "type": type, **fields}
        return self._object("POST", "/_admin/certificates", params={"account": account}, json=body)

    def deliveries(self, account: int) -> list[dict[str, Any]]:
        answer = self._call("GET", "/_admin/deliveries", params={"account": account})
        if not isinstance(answer, list):
            raise AcuityAdminError(200, answer)
        return [item for item in answer if isinstance(item, dict)]

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._object("POST", "/_admin/clock", json={"advance": seconds})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = self._call(method, path, **kwargs)
        if not isinstance(answer, dict):
            raise AcuityAdminError(200, answer)
        return answer

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.is_error:
            raise AcuityAdminError(response.status_code, body)
        return body


def _lost(account: int) -> dict[str, str | int]:
    return {"account": account, "deliver": "false"}
