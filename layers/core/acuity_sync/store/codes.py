"""What each code on a tenant's appointments is (package, gift certificate, subscription, coupon, or unknown to
Acuity), so that a code is looked up in Acuity once per tenant, not once per ledger or per appointment.

Where and for how long: the table (`pk=TENANT#{t}`, `sk=CODE#{sha256 of the code}`, shared by the three sync
functions), and each container's memory in front of it. A known kind is kept `KNOWN_FOR` (a code is made for a
package or a coupon and stays what it is; the TTL only keeps the table from growing forever); an unknown code
only `UNKNOWN_FOR`, as Acuity may know it soon (a code created after the booking was read).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.billable import CodeKind
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import TTL_ATTRIBUTE, code_sk, tenant_pk

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient

KNOWN_FOR = timedelta(days=400)
UNKNOWN_FOR = timedelta(hours=1)
_MEMORY_ENTRIES = 4096


class CodeBook:
    def __init__(
        self, dynamodb: DynamoDBClient, table_name: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._clock = clock
        self._memory: dict[tuple[str, str], tuple[CodeKind, datetime]] = {}

    def get(self, tenant_id: str, code: str) -> CodeKind | None:
        now = self._clock()
        remembered = self._memory.get((tenant_id, code_sk(code)))
        if remembered is not None and remembered[1] > now:
            return remembered[0]
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name, Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": code_sk(code)}}
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"code kinds unavailable: {type(error).__name__}") from error
        if item is None:
            return None
        expires = datetime.fromtimestamp(int(item[TTL_ATTRIBUTE]["N"]), UTC)
        if expires <= now:
            return None  # DynamoDB deletes expired items within days, not at once
        kind = CodeKind(item["kind"]["S"])
        self._remember(tenant_id, code, kind, expires)
        return kind

    def put(self, tenant_id: str, code: str, kind: CodeKind) -> None:
        expires = self._clock() + (UNKNOWN_FOR if kind is CodeKind.UNKNOWN else KNOWN_FOR)
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item={
                    "pk": {"S": tenant_pk(tenant_id)},
                    "sk": {"S": code_sk(code)},
                    "kind": {"S": str(kind)},
                    TTL_ATTRIBUTE: {"N": str(int(expires.timestamp()))},
                },
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"code kind not saved: {type(error).__name__}") from error
        self._remember(tenant_id, code, kind, expires)

    def _remember(self, tenant_id: str, code: str, kind: CodeKind, expires: datetime) -> None:
        if len(self._memory) >= _MEMORY_ENTRIES:
            self._memory.clear()  # a container's worth of codes; starting over costs a read each
        self._memory[(tenant_id, code_sk(code))] = (kind, expires)
