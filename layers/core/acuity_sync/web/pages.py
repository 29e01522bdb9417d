"""The connect function's pages, one method per route, from a WebRequest to a WebResponse (the wiring maps the HTTP
API's events in and the answers out). Every page needs the session an admin link opened, and acts only for that
session's tenant (no tenant id is ever read from the URL or a form); every form carries the session's CSRF token and
is refused without it, or with another session's, or when posted from another origin."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.connect.access import SESSION_LIFETIME, Access, LinkRefused, Session
from acuity_sync.connect.acuity import AcuityRefused, check_account, register_webhooks, webhook_url
from acuity_sync.connect.ledgers import CONSENT_LIFETIME, ChooseCompany, LedgerConnector, Refused
from acuity_sync.connect.settings import Resume, change_settings
from acuity_sync.connect.status import LedgerStatus, State, ledger_status
from acuity_sync.domain.errors import LedgerError
from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.ledgers.base import Ledger
from acuity_sync.ledgers.registry import default_settings, ledger_declaration
from acuity_sync.observability import logger
from acuity_sync.secret import Secret
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.parking import ParkingLot
from acuity_sync.store.records import RecordStore
from acuity_sync.store.settings import SettingsConflict, SettingsStore
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync.web.forms import (
    GENERAL,
    FormProblem,
    field_keys,
    problems_by_field,
    settings_document,
    settings_fields,
)
from acuity_sync.web.security import (
    CONSENT_COOKIE,
    CONSENT_PATH,
    CSS,
    PAGE_HEADERS,
    SESSION_COOKIE,
    SESSION_PATH,
    SetCookie,
    clear_cookie,
    set_cookie,
)

HOME = "/connect"
WEBHOOK_PATH = "/webhooks/acuity/"


@dataclass(frozen=True, slots=True)
class WebRequest:
    method: str
    path: str
    query: Mapping[str, str]
    form: Mapping[str, list[str]]
    cookies: Mapping[str, str]
    headers: Mapping[str, str]  # names lower-cased
    origin: str  # scheme://host[:port] the browser reached us at


@dataclass(slots=True)
class WebResponse:
    status: int
    body: str = ""
    location: str | None = None
    cookies: list[SetCookie] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        headers = {**PAGE_HEADERS, "Content-Type": "text/html; charset=utf-8"}
        if self.location is not None:
            headers["Location"] = self.location
        return headers


@dataclass(frozen=True, slots=True)
class PageServices:
    access: Callable[[], Access]  # with the signing key as now stored (read through Powertools Parameters, cached)
    connector: Callable[[str], LedgerConnector]  # for the origin the request reached (our redirect URIs)
    tenants: TenantStore
    connections: ConnectionStore
    settings: SettingsStore
    records: RecordStore
    parking: ParkingLot
    resume: Resume
    # The tenant's adapter for reading lists (its token from the token keeper); None when not connected.
    open_ledger: Callable[[str, LedgerName, LedgerSettings], Ledger | None]
    acuity_client: Callable[[TenantProfile, str, Secret], AcuityClient]  # (profile, user id, key)


# Words for the notices a redirect asks for (never text from the URL itself).
_NOTICES = {
    "connected": "{name} is connected.",
    "saved": "{name} settings saved.",
    "disconnected": "{name} is disconnected. Its sync records are kept.",
}


class Pages:
    def __init__(self, services: PageServices) -> None:
        self._s = services
        self._templates = Environment(
            loader=PackageLoader("acuity_sync.web", "templates"), autoescape=True, auto_reload=False
        )

    # ------------------------------------------------------------------ GET /connect/enter?token=...

    def enter(self, request: WebRequest) -> WebResponse:
        try:
            session = self._s.access().redeem_link(request.query.get("token", ""))
        except LinkRefused as refused:
            return self._message(403, "This link does not open the settings", f"{refused}. Ask for a new link.")
        cookie = set_cookie(
            SESSION_COOKIE,
            self._s.access().session_cookie(session),
            SESSION_PATH,
            int(SESSION_LIFETIME.total_seconds()),
        )
        logger.info("settings session opened", extra={"tenant_id": session.tenant_id})
        return WebResponse(303, location=HOME, cookies=[cookie])

    # ------------------------------------------------------------------ GET /connect

    def settings(self, request: WebRequest) -> WebResponse:
        session = self._session(request)
        if session is None:
            return self._no_session()
        return self._settings_page(request, session, notices=self._notices(request.query))

    # ------------------------------------------------------------------ GET /connect/{ledger}

    def start_consent(self, request: WebRequest, ledger_name: str) -> WebResponse:
        session = self._session(request)
        if session is None:
            return self._no_session()
        ledger = _ledger(ledger_name)
        if ledger is None:
            return self._not_found()
        consent = self._s.connector(request.origin).start(session, ledger)
        cookie = set_cookie(CONSENT_COOKIE, consent.binding, CONSENT_PATH, int(CONSENT_LIFETIME.total_seconds()))
        return WebResponse(303, location=consent.url, cookies=[cookie])

    # ------------------------------------------------------------------ GET /oauth/{ledger}/callback

    def consent_callback(self, request: WebRequest, ledger_name: str) -> WebResponse:
        ledger = _ledger(ledger_name)
        if ledger is None:
            return self._not_found()
        finished = self._s.connector(request.origin).finish(ledger, request.query, request.cookies.get(CONSENT_COOKIE))
        cleared = [clear_cookie(CONSENT_COOKIE, CONSENT_PATH)]
        outcome = finished.outcome
        if isinstance(outcome, Refused):
            response = self._message(400, "Not connected", outcome.message, back=HOME)
            response.cookies = cleared
            return response
        logger.info("ledger consent finished", extra={"tenant_id": finished.tenant_id, "ledger": str(ledger)})
        if isinstance(outcome, ChooseCompany):
            return WebResponse(303, location=f"/connect/{ledger}/company", cookies=cleared)
        return WebResponse(303, location=_done("connected", ledger, outcome.resumed), cookies=cleared)

    # ------------------------------------------------------------------ GET|POST /connect/{ledger}/company

    def choose_company_page(self, request: WebRequest, ledger_name: str) -> WebResponse:
        session = self._session(request)
        if session is None:
            return self._no_session()
        ledger = _ledger(ledger_name)
        if ledger is None:
            return self._not_found()
        companies = self._s.connector(request.origin).companies_to_choose(session, ledger)
        if companies is None:
            return WebResponse(303, location=HOME)
        body = self._render(
            "choose.html",
            name=ledger_declaration(ledger).display_name,
            ledger=str(ledger),
            companies=companies,
            csrf_token=self._s.access().csrf_token(session),
        )
        return WebResponse(200, body)

    def choose_company(self, request: WebRequest, ledger_name: str) -> WebResponse:
        checked = self._form_session(request)
        if isinstance(checked, WebResponse):
            return checked
        ledger = _ledger(ledger_name)
        if ledger is None:
            return self._not_found()
        outcome = self._s.connector(request.origin).choose(checked, ledger, _one(request.form, "company_id"))
        if isinstance(outcome, Refused):
            return self._message(400, "Not connected", outcome.message, back=HOME)
        return WebResponse(303, location=_done("connected", ledger, outcome.resumed))

    # ------------------------------------------------------------------ POST /connect/{ledger}/settings

    def save_settings(self, request: WebRequest, ledger_name: str) -> WebResponse:
        checked = self._form_session(request)
        if isinstance(checked, WebResponse):
            return checked
        session = checked
        ledger = _ledger(ledger_name)
        if ledger is None:
            return self._not_found()
        current = self._s.settings.get(session.tenant_id, ledger)
        model = type(current.settings)
        try:
            document, posted = settings_document(model, request.form)
        except FormProblem as problem:
            shown = {ledger: (dict(_flat(request.form)), {problem.key: [problem.message]})}
            return self._settings_page(request, session, edits=shown, status=422)
        version = _int(_one(request.form, "version"), default=current.version)
        if version != current.version:
            problems = {GENERAL: [_CHANGED_ELSEWHERE]}
            return self._settings_page(request, session, edits={ledger: (posted, problems)}, status=409)
        try:
            change = change_settings(
                self._s.settings,
                session.tenant_id,
                ledger,
                document,
                based_on=current.settings,
                version=current.version,
                open_ledger=lambda: self._s.open_ledger(session.tenant_id, ledger, current.settings),
                resume=self._s.resume,
            )
        except SettingsConflict:
            return self._settings_page(
                request, session, edits={ledger: (posted, {GENERAL: [_CHANGED_ELSEWHERE]})}, status=409
            )
        if change.version is None:
            grouped = problems_by_field(change.problems, field_keys(model))
            return self._settings_page(request, session, edits={ledger: (posted, grouped)}, status=422)
        logger.info("settings saved", extra={"tenant_id": session.tenant_id, "ledger": str(ledger)})
        return WebResponse(303, location=_done("saved", ledger, change.requeued))

    # ------------------------------------------------------------------ POST /connect/{ledger}/disconnect

    def disconnect(self, request: WebRequest, ledger_name: str) -> WebResponse:
        checked = self._form_session(request)
        if isinstance(checked, WebResponse):
            return checked
        ledger = _ledger(ledger_name)
        if ledger is None:
            return self._not_found()
        result = self._s.connector(request.origin).disconnect(checked.tenant_id, ledger)
        logger.info(
            "ledger disconnected",
            extra={"tenant_id": checked.tenant_id, "ledger": str(ledger), "revoked": result.revoked},
        )
        if result.notes:
            return self._settings_page(request, checked, notices=[*result.notes], status=200)
        return WebResponse(303, location=_done("disconnected", ledger, 0))

    # ------------------------------------------------------------------ POST /connect/acuity

    def acuity_account(self, request: WebRequest) -> WebResponse:
        checked = self._form_session(request)
        if isinstance(checked, WebResponse):
            return checked
        session = checked
        profile = self._s.tenants.get(session.tenant_id)
        if profile is None:
            return self._not_found()
        user_id = _one(request.form, "acuity_user_id").strip()
        api_key = _one(request.form, "acuity_api_key").strip()
        if not user_id.isdigit() or not api_key:
            return self._settings_page(
                request,
                session,
                acuity_problem="Give the numeric user id and the API key (Integrations → API).",
                status=422,
            )
        key = Secret(api_key)
        target = webhook_url(f"{request.origin}{WEBHOOK_PATH}", session.tenant_id)
        try:
            with self._s.acuity_client(profile, user_id, key) as acuity:
                account = check_account(acuity)
                registration = register_webhooks(acuity, session.tenant_id, target)
        except AcuityRefused as refused:
            return self._settings_page(request, session, acuity_problem=str(refused), status=422)
        self._s.tenants.set_acuity_account(
            session.tenant_id, user_id, key, currency=account.currency, timezone=account.timezone
        )
        logger.info(
            "acuity account saved",
            extra={"tenant_id": session.tenant_id, "webhooks_created": list(registration.created)},
        )
        return WebResponse(303, location=f"{HOME}?done=acuity")

    # ------------------------------------------------------------------ the page

    def _settings_page(
        self,
        request: WebRequest,
        session: Session,
        *,
        notices: list[str] | None = None,
        edits: Mapping[LedgerName, tuple[Mapping[str, str], Mapping[str, list[str]]]] | None = None,
        acuity_problem: str = "",
        status: int = 200,
    ) -> WebResponse:
        profile = self._s.tenants.get(session.tenant_id)
        if profile is None:
            return self._not_found()
        ledgers = [self._ledger_view(profile, ledger, (edits or {}).get(ledger)) for ledger in ALL_LEDGERS]
        body = self._render(
            "settings.html",
            tenant_name=profile.name,
            notices=notices or [],
            acuity_user_id=profile.acuity_user_id,
            webhook_url=webhook_url(f"{request.origin}{WEBHOOK_PATH}", profile.tenant_id),
            acuity_problem=acuity_problem,
            ledgers=ledgers,
            csrf_token=self._s.access().csrf_token(session),
        )
        return WebResponse(status, body)

    def _ledger_view(
        self,
        profile: TenantProfile,
        ledger: LedgerName,
        edit: tuple[Mapping[str, str], Mapping[str, list[str]]] | None,
    ) -> dict[str, Any]:
        status = ledger_status(profile.tenant_id, ledger, self._s.connections, self._s.records, self._s.parking)
        view: dict[str, Any] = {
            "status": status,
            "state_words": _STATE_WORDS[status.state],
            "last_sync": _last_sync_words(status, profile.timezone),
            "parked_words": _parked_words(status),
        }
        if status.state is State.NOT_CONNECTED:
            return view
        current = self._s.settings.get(profile.tenant_id, ledger)
        lists, lists_problem = self._lists(profile.tenant_id, ledger, current.settings, status)
        posted, problems = edit if edit is not None else (None, {})
        view.update(
            version=current.version,
            fields=settings_fields(current.settings, default_settings(ledger), lists, posted=posted, problems=problems),
            general_problems=list(problems.get(GENERAL, [])),
            lists_problem=lists_problem,
        )
        return view

    def _lists(
        self, tenant_id: str, ledger: LedgerName, settings: LedgerSettings, status: LedgerStatus
    ) -> tuple[dict[str, Any], str]:
        reader = ledger_declaration(ledger).settings_lists
        if reader is None or status.state is not State.CONNECTED:
            return {}, ""
        try:
            adapter = self._s.open_ledger(tenant_id, ledger, settings)
            return (reader(adapter) if adapter is not None else {}), ""
        except LedgerError as error:
            name = ledger_declaration(ledger).display_name
            return {}, f"The lists could not be read from {name} now ({error.message}); type the ids instead."

    # ------------------------------------------------------------------ helpers

    def _session(self, request: WebRequest) -> Session | None:
        return self._s.access().read_session(request.cookies.get(SESSION_COOKIE))

    def _form_session(self, request: WebRequest) -> Session | WebResponse:
        """The session of a form post, or the refusal: no session, another origin, or a CSRF token that is missing,
        altered, or another session's."""
        session = self._session(request)
        if session is None:
            return self._no_session()
        if not _same_site(request):
            return self._message(403, "Refused", "This form was not sent from your settings page.", back=HOME)
        if not self._s.access().csrf_ok(session, _one(request.form, "csrf_token")):
            logger.warning("form refused: CSRF token", extra={"tenant_id": session.tenant_id, "path": request.path})
            return self._message(
                403,
                "Refused",
                "This form has expired or did not come from your settings page; reload the page and try again.",
                back=HOME,
            )
        return session

    def _notices(self, query: Mapping[str, str]) -> list[str]:
        done, ledger = query.get("done", ""), _ledger(query.get("ledger", ""))
        notices: list[str] = []
        if done == "acuity":
            notices.append("Acuity account checked and saved; its webhooks point here.")
        elif done in _NOTICES and ledger is not None:
            notices.append(_NOTICES[done].format(name=ledger_declaration(ledger).display_name))
            resumed = _int(query.get("resumed", ""), default=0)
            if resumed > 0:
                notices.append(f"{resumed} waiting event{'s' if resumed != 1 else ''} queued again.")
        return notices

    def _render(self, template: str, **context: Any) -> str:
        # The stylesheet goes in as it is (Markup): escaped, it would no longer match its hash in the CSP.
        return self._templates.get_template(template).render(css=Markup(CSS), **context)  # noqa: S704 - our own file, hashed in the CSP

    def _message(self, status: int, title: str, message: str, *, back: str | None = None) -> WebResponse:
        return WebResponse(status, self._render("message.html", title=title, message=message, back=back))

    def _no_session(self) -> WebResponse:
        return self._message(
            401,
            "Open your link again",
            "This page opens with the link you were sent (each link works once, for 15 minutes). Ask for a new one.",
        )

    def not_found(self, _request: WebRequest) -> WebResponse:
        return self._not_found()

    def _not_found(self) -> WebResponse:
        return self._message(404, "Not found", "There is no such page.", back=HOME)


_CHANGED_ELSEWHERE = "These settings were changed elsewhere since this page was loaded; reload it and try again."
_STATE_WORDS = {
    State.CONNECTED: "connected",
    State.NEEDS_RECONNECT: "needs reconnect",
    State.NOT_CONNECTED: "not connected",
}


def _same_site(request: WebRequest) -> bool:
    """What the browser says of a form's origin, beside the CSRF token: `Origin` (but "null", which our
    Referrer-Policy no-referrer makes a browser send for a form's POST) must be ours, and `Sec-Fetch-Site`, when
    sent, same-origin (or none: typed by the owner)."""
    sent_from = request.headers.get("origin")
    if sent_from not in (None, "null", request.origin):
        return False
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def _ledger(name: str) -> LedgerName | None:
    try:
        return LedgerName(name)
    except ValueError:
        return None


def _one(form: Mapping[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[-1]


def _flat(form: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: values[-1] for name, values in form.items() if values}


def _int(text: str, *, default: int) -> int:
    return int(text) if text.isdigit() else default


def _done(what: str, ledger: LedgerName, resumed: int) -> str:
    return f"{HOME}?done={what}&ledger={ledger}" + (f"&resumed={resumed}" if resumed else "")


def _last_sync_words(status: LedgerStatus, timezone: str) -> str:
    last = status.last_sync
    if last is None:
        return "none yet"
    try:
        zone: ZoneInfo | None = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    at: datetime = last.at.astimezone(zone) if zone else last.at
    when = at.strftime("%Y-%m-%d %H:%M %Z").strip()
    return f"{when}: {last.kind} {last.object_id} {last.decision}" + (f" ({last.detail})" if last.detail else "")


def _parked_words(status: LedgerStatus) -> str:
    if status.parked == 0:
        return "nothing"
    count = f"{status.parked}{' or more' if status.parked_capped else ''}"
    return f"{count} event{'s' if status.parked != 1 else ''} parked"
