"""The connect function, from its environment: the stores, the token keeper, our OAuth clients (Secrets Manager,
read through Powertools Parameters and cached), the signing key, and the pages; and the mapping of HTTP API events
(payload 2.0) to the pages' requests and of their answers back. functions/connect/app.py routes to it."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import boto3
import httpx
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.auth.oauth import OAuthProvider
from acuity_sync.auth.tokens import TokenKeeper
from acuity_sync.connect.access import Access
from acuity_sync.connect.ledgers import AppClient, LedgerConnector
from acuity_sync.connect.settings import Resume
from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.ledgers.base import AdapterInputs, Ledger
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.queues import LedgerQueues
from acuity_sync.secret import Secret
from acuity_sync.store.budgets import BudgetStore, ledger_budget_name
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.one_time import OneTimeValues
from acuity_sync.store.parking import ParkingLot
from acuity_sync.store.pending_grants import PendingGrants
from acuity_sync.store.records import RecordStore
from acuity_sync.store.settings import SettingsStore
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync.sync.pacing import LedgerPacing
from acuity_sync.sync.requeue import Requeuer
from acuity_sync.web.pages import Pages, PageServices, WebRequest, WebResponse
from acuity_sync.wiring.config import CONNECT_AWS_CONFIG, ConnectFunctionSettings
from acuity_sync.wiring.tokens import refreshing_connection_store

SECRET_MAX_AGE = 300  # seconds a secret read is kept per container (a rotated key is picked up within this)
CALLBACK_PATH = "/oauth/{ledger}/callback"


def build_pages(environment: ConnectFunctionSettings | None = None) -> Pages:
    """The connect function's pages, built once per container."""
    settings = environment or ConnectFunctionSettings.from_environment()
    dynamodb = boto3.client("dynamodb", config=CONNECT_AWS_CONFIG)
    kms = boto3.client("kms", config=CONNECT_AWS_CONFIG)
    sqs = boto3.client("sqs", config=CONNECT_AWS_CONFIG)
    table = settings.table_name
    box = SecretBox(kms, settings.kms_key_id)
    http = httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0), follow_redirects=False)
    tenants = TenantStore(dynamodb, table, box)
    connections = ConnectionStore(dynamodb, table, box)
    refreshing = refreshing_connection_store(table, settings.kms_key_id)  # the keeper's: see wiring/tokens.py
    one_time = OneTimeValues(dynamodb, table)
    parking = ParkingLot(dynamodb, table)
    resume = Resume(parking, Requeuer(parking, LedgerQueues(sqs, settings.queue_urls)))
    budgets = BudgetStore(dynamodb, table)

    def secret(ledger: LedgerName) -> dict[str, str]:
        value: dict[str, str] = parameters.get_secret(
            settings.oauth_secret_names[ledger], transform="json", max_age=SECRET_MAX_AGE
        )
        return value

    def keeper() -> TokenKeeper:
        return TokenKeeper(refreshing, {ledger: provider(ledger, secret(ledger)) for ledger in ALL_LEDGERS}, http)

    def access() -> Access:
        key = parameters.get_secret(settings.signing_secret_name, max_age=SECRET_MAX_AGE)
        return Access(Secret(str(key)), one_time)

    def api_url(ledger: LedgerName) -> str:
        return settings.api_urls.get(ledger) or ledger_declaration(ledger).production_api_url

    def connector(origin: str) -> LedgerConnector:
        def client(ledger: LedgerName) -> AppClient:
            document = secret(ledger)
            rules = ledger_declaration(ledger).oauth
            return AppClient(
                provider=provider(ledger, document, origin),
                redirect_uri=redirect_uri(ledger, document, origin),
                authorize_url=document.get("authorize_url") or rules.authorize_url,
                revoke_url=document.get("revoke_url") or rules.revoke_url,
                api_url=api_url(ledger),
            )

        return LedgerConnector(
            access=access(),
            one_time=one_time,
            tenants=tenants,
            connections=connections,
            pending=PendingGrants(dynamodb, table, box),
            resume=resume,
            http=http,
            clients=client,
            live_access_token=lambda tenant_id, ledger: keeper().credentials(tenant_id, ledger).access_token,
        )

    def open_ledger(tenant_id: str, ledger: LedgerName, ledger_settings: LedgerSettings) -> Ledger | None:
        if connections.read(tenant_id, ledger) is None:
            return None
        tokens = keeper()
        credentials = tokens.credentials(tenant_id, ledger)
        declaration = ledger_declaration(ledger)
        budget = declaration.budget.in_time_scale(settings.time_scale)
        inputs = AdapterInputs(
            http=http,
            company_id=credentials.company_id,
            access_token=lambda refused: (
                tokens.access_token(tenant_id, ledger, rejected=credentials.access_token)
                if refused
                else credentials.access_token
            ),
            api_url=api_url(ledger),
            # A consent's one or two calls: paced, no concurrency slot (they are not a sync).
            pace=LedgerPacing(
                budgets,
                ledger_budget_name(tenant_id, ledger),
                budget,
                time_scale=settings.time_scale,
                hold_slot=False,
            ),
        )
        return declaration.adapter_factory()(inputs, ledger_settings)

    def acuity_client(profile: TenantProfile, user_id: str, api_key: Secret) -> AcuityClient:
        return AcuityClient(profile.acuity_base_url, user_id, api_key, http=http)

    return Pages(
        PageServices(
            access=access,
            connector=connector,
            tenants=tenants,
            connections=connections,
            settings=SettingsStore(dynamodb, table),
            records=RecordStore(dynamodb, table),
            parking=parking,
            resume=resume,
            open_ledger=open_ledger,
            acuity_client=acuity_client,
        )
    )


def provider(ledger: LedgerName, document: dict[str, str], origin: str = "") -> OAuthProvider:
    """Our OAuth client at the ledger, from its secret `{"client_id", "client_secret", "redirect_uri"?,
    "token_url"?, "authorize_url"?, "revoke_url"?}` (the last three name the local stack's fakes)."""
    wants = ledger_declaration(ledger).oauth.wants_redirect_uri
    return OAuthProvider.for_ledger(
        ledger,
        document["client_id"],
        Secret(document["client_secret"]),
        redirect_uri=redirect_uri(ledger, document, origin) if wants else "",
        token_url=document.get("token_url") or None,
    )


def redirect_uri(ledger: LedgerName, document: dict[str, str], origin: str) -> str:
    """The secret's, when the app registered one there (FreshBooks wants it with every refresh too), else ours at
    the origin the owner reached us at (the API's own domain, or a custom domain in front of it)."""
    return document.get("redirect_uri") or f"{origin}{CALLBACK_PATH.format(ledger=ledger)}"


# ------------------------------------------------------------------------------------------------ HTTP API events


def web_request(event: APIGatewayProxyEventV2) -> WebRequest:
    """The page's request from an HTTP API event (payload 2.0): cookies from `cookies`, the form from the body
    (base64 when HTTP API encoded it), our origin from the host the browser reached and the protocol in front."""
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    context = event.request_context
    protocol = headers.get("x-forwarded-proto", "https").split(",")[0].strip() or "https"
    cookies: dict[str, str] = {}
    for cookie in event.cookies or []:
        name, _, value = cookie.partition("=")
        cookies.setdefault(name.strip(), value.strip())
    return WebRequest(
        method=context.http.method.upper(),
        path=event.raw_path,
        query=dict((event.query_string_parameters or {}).items()),
        form=_form(event),
        cookies=cookies,
        headers=headers,
        origin=f"{protocol}://{context.domain_name}",
    )


def _form(event: APIGatewayProxyEventV2) -> dict[str, list[str]]:
    body = event.body or ""
    if not body:
        return {}
    try:
        raw = base64.b64decode(body, validate=True).decode("utf-8") if event.is_base64_encoded else body
    except (binascii.Error, UnicodeDecodeError):
        return {}
    return parse_qs(raw, keep_blank_values=True, max_num_fields=200)


def http_response(page: WebResponse) -> Response[str]:
    cookies = [
        Cookie(
            c.name, c.value, path=c.path, secure=True, http_only=True, max_age=c.max_age, same_site=SameSite.LAX_MODE
        )
        for c in page.cookies
    ]
    return Response(status_code=page.status, headers=page.headers, body=page.body, cookies=cookies)


PageRoute = Callable[..., WebResponse]


def answer(event: Any, route: PageRoute, *arguments: str) -> Response[str]:
    """Run one page for an event (the handler's routes call this)."""
    return http_response(route(web_request(event), *arguments))
