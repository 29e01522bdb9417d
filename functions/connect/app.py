"""The connect function: the owner's pages behind the same HTTP API as the webhook. An admin link opens a session;
the settings page shows each ledger's status and settings; each ledger is connected through its consent page and
its callback; the Acuity account and its webhooks are set from the page.

Thin by design: each route hands the event to one page of acuity_sync.web (built by acuity_sync.wiring.connect).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from acuity_sync.observability import logger, tracer
from acuity_sync.wiring.connect import answer, build_pages

app = APIGatewayHttpResolver()
pages = build_pages()


@app.get("/connect/enter")
def enter() -> Response[str]:
    return answer(app.current_event, pages.enter)


@app.get("/connect")
def settings() -> Response[str]:
    return answer(app.current_event, pages.settings)


@app.post("/connect/acuity")
def acuity_account() -> Response[str]:
    return answer(app.current_event, pages.acuity_account)


@app.get("/connect/<ledger>")
def start_consent(ledger: str) -> Response[str]:
    return answer(app.current_event, pages.start_consent, ledger)


@app.get("/oauth/<ledger>/callback")
def consent_callback(ledger: str) -> Response[str]:
    return answer(app.current_event, pages.consent_callback, ledger)


@app.get("/connect/<ledger>/company")
def choose_company_page(ledger: str) -> Response[str]:
    return answer(app.current_event, pages.choose_company_page, ledger)


@app.post("/connect/<ledger>/company")
def choose_company(ledger: str) -> Response[str]:
    return answer(app.current_event, pages.choose_company, ledger)


@app.post("/connect/<ledger>/settings")
def save_settings(ledger: str) -> Response[str]:
    return answer(app.current_event, pages.save_settings, ledger)


@app.post("/connect/<ledger>/disconnect")
def disconnect(ledger: str) -> Response[str]:
    return answer(app.current_event, pages.disconnect, ledger)


@app.not_found
def not_found(_error: Exception) -> Response[str]:
    return answer(app.current_event, pages.not_found)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
