"""The settings page in a real browser (headless Chromium, Debian's, through its chromedriver), through the local
stack, as a business owner uses it: a business added with `acuity-sync tenant add` (its webhooks registered in the
fake Acuity), its admin link opened, QuickBooks connected through the fake Intuit consent page, draft mode and an
invoice number template saved, a booking made in the fake Acuity, and the draft invoice found in the fake
QuickBooks under that number; then Xero, with the accounts that qualify listed and a choice of organisation; then
FreshBooks, with a choice of business. A screenshot of the settings page is kept (test-artifacts/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from acuity_sync.domain.names import LedgerName
from acuity_sync_toolkit.cli import main as cli
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.stack.connections import open_company
from acuity_sync_toolkit.stack.devstack import DevStack
from tests.support.bookings import booking
from tests.support.browser import ARTIFACTS, chromium
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("connect-browser")]

TIME_SCALE = 0.05
USER_ID = 770001
API_KEY = "browser-test-acuity-key"
REALM = "4620816365000001"
XERO_ORGS = ("6b1f4e0a-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "7c2a5f1b-3d4e-4f60-9bac-1d2e3f4a5b6c")
FRESHBOOKS_ACCOUNTS = ("BrW1st", "BrW2nd")
WAIT = 30.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    state_dir: Path = tmp_path_factory.mktemp("connect-browser")
    with DevStack(state_dir=state_dir, time_scale=TIME_SCALE, stack_name="connect-browser") as dev:
        open_company(dev.quickbooks, REALM, name="Browser Studio Books")
        for index, org in enumerate(XERO_ORGS):
            open_company(dev.xero, org, name=f"Browser Studio Org {index + 1}")
        for index, account in enumerate(FRESHBOOKS_ACCOUNTS):
            open_company(dev.freshbooks, account, name=f"Browser Studio Business {index + 1}")
        with AcuityAdmin(dev.info.acuity_url if dev.info else "") as acuity:
            acuity.create_account(USER_ID, API_KEY, name="Browser Studio", timezone="America/New_York")
        yield dev


def run_cli(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    assert cli(list(arguments)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_page(driver: WebDriver, css: str) -> None:
    """Waits for an element of the page expected; failing, says which page came instead."""
    try:
        WebDriverWait(driver, WAIT).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))
    except TimeoutException:
        text = driver.find_element(By.TAG_NAME, "body").text[:800]
        raise AssertionError(f"no {css} at {driver.current_url}: {text}") from None


def submit(driver: WebDriver, form_css: str) -> None:
    form = driver.find_element(By.CSS_SELECTOR, form_css)
    old = driver.find_element(By.TAG_NAME, "html")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, WAIT).until(expected_conditions.staleness_of(old))


def click(driver: WebDriver, css: str) -> None:
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, css).click()
    WebDriverWait(driver, WAIT).until(expected_conditions.staleness_of(old))


def ledger_section(driver: WebDriver, ledger: str) -> Any:
    return driver.find_element(By.ID, f"ledger-{ledger}")


def test_an_owner_connects_three_ledgers_in_a_browser(
    stack: DevStack, browser: WebDriver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stack.info is not None
    dev_json = str(stack.state_dir / "dev.json")

    # The operator adds the business: its credentials checked against (fake) Acuity, its webhooks registered.
    added = json.loads(
        run_cli(
            capsys,
            "tenant",
            "add",
            "--name",
            "Browser Studio",
            "--acuity-user-id",
            str(USER_ID),
            "--acuity-api-key",
            API_KEY,
            "--dev-state",
            dev_json,
        )
    )
    tenant_id = added["tenant_id"]
    assert added["webhooks"]["registered"] == ["appointment.changed", "order.completed"]
    printed = run_cli(capsys, "admin-link", "--tenant", tenant_id, "--dev-state", dev_json)
    assert printed.count("\n") == 1  # the URL alone on one line
    link = printed.strip()
    assert link.startswith("http://localhost:")

    # The owner opens the link: a session cookie, and the page at a URL without the token.
    browser.get(link)
    wait_for_page(browser, "#ledger-quickbooks")
    assert browser.current_url.endswith("/connect")
    assert "token" not in browser.current_url
    assert "Browser Studio" in browser.find_element(By.TAG_NAME, "h1").text

    # QuickBooks: through Intuit's (fake) consent page, choosing the company there.
    click(browser, "#ledger-quickbooks a.button")
    wait_for_page(browser, "form#allow")
    Select(browser.find_element(By.CSS_SELECTOR, "form#allow select[name=company]")).select_by_value(REALM)
    submit(browser, "form#allow")
    wait_for_page(browser, "#settings-quickbooks")
    assert "QuickBooks is connected." in browser.page_source
    section = ledger_section(browser, "quickbooks")
    assert "Browser Studio Books" in section.text
    Select(section.find_element(By.NAME, "mode")).select_by_value("draft")
    number = section.find_element(By.NAME, "invoice_number_template")
    number.clear()
    number.send_keys("BRW-{id}")
    submit(browser, "#settings-quickbooks")
    wait_for_page(browser, "#settings-quickbooks")
    assert "QuickBooks settings saved." in browser.page_source

    # Xero: two organisations ticked on Xero's (fake) consent page, one chosen on ours.
    browser.get(f"{stack.info.pages_url}")
    click(browser, "#ledger-xero a.button")
    wait_for_page(browser, "form#allow")
    for box in browser.find_elements(By.CSS_SELECTOR, "form#allow input[name=company]"):
        if box.get_attribute("value") not in XERO_ORGS and box.is_selected():
            box.click()  # only this business's two organisations
    submit(browser, "form#allow")
    wait_for_page(browser, "input[name=company_id]")
    choices = {box.get_attribute("value") for box in browser.find_elements(By.NAME, "company_id")}
    assert choices == set(XERO_ORGS)
    browser.find_element(By.CSS_SELECTOR, f"input[name=company_id][value='{XERO_ORGS[1]}']").click()
    submit(browser, "form")
    wait_for_page(browser, "#settings-xero")
    section = ledger_section(browser, "xero")
    assert "Browser Studio Org 2" in section.text
    invoice_accounts = {
        option.text for option in Select(section.find_element(By.NAME, "xero.invoice_account_id")).options
    }
    assert {"Sales (200)", "Appointments (210)", "Other Revenue (260)"} <= invoice_accounts
    assert not any("Advertising" in text or "Bank" in text for text in invoice_accounts)  # only REVENUE/SALES
    payment_accounts = {
        option.text for option in Select(section.find_element(By.NAME, "xero.payment_account_id")).options
    }
    assert {"Business Bank Account", "Checking Account (090)", "Owner Drawings (880)"} <= payment_accounts
    tax_types = {
        option.get_attribute("value") for option in Select(section.find_element(By.NAME, "xero.tax_type")).options
    }
    assert {"OUTPUT", "TAX001"} <= tax_types
    Select(section.find_element(By.NAME, "xero.invoice_account_id")).select_by_visible_text("Appointments (210)")
    submit(browser, "#settings-xero")
    wait_for_page(browser, "#settings-xero")
    assert "Xero settings saved." in browser.page_source

    # FreshBooks: the consent is the user's; the business is chosen on our page.
    browser.get(f"{stack.info.pages_url}")
    click(browser, "#ledger-freshbooks a.button")
    wait_for_page(browser, "form#allow")
    submit(browser, "form#allow")
    wait_for_page(browser, "input[name=company_id]")
    browser.find_element(By.CSS_SELECTOR, f"input[name=company_id][value='{FRESHBOOKS_ACCOUNTS[0]}']").click()
    submit(browser, "form")
    wait_for_page(browser, "#settings-freshbooks")
    assert "Browser Studio Business 1" in ledger_section(browser, "freshbooks").text

    # One booking in (fake) Acuity: its webhook reaches the tenant's URL and each ledger gets its draft invoice.
    # (Booked once all three are connected: the webhook function caches a tenant's ledgers for up to a minute, so a
    # booking in the minute after a connect may reach only the ledgers connected before; see the README.)
    acuity = AcuityAdmin(stack.info.acuity_url)
    appointment = acuity.book_appointment(USER_ID, **booking(email="owner@example.com", price="95.00"))
    qbo_number = f"BRW-{appointment['id']}"

    def quickbooks_invoice() -> dict[str, Any] | None:
        invoices = stack.quickbooks.state(REALM)["Invoice"]
        return next((invoice for invoice in invoices if invoice.get("DocNumber") == qbo_number), None)

    wait_until(lambda: quickbooks_invoice() is not None, WAIT, f"QuickBooks invoice {qbo_number}")
    invoice = quickbooks_invoice()
    assert invoice is not None
    assert str(invoice["TotalAmt"]) in {"95", "95.0", "95.00"}
    assert invoice.get("EmailStatus", "NotSet") != "EmailSent"  # draft: created, not sent
    assert stack.quickbooks.emails_sent(REALM) == 0

    def xero_invoices() -> list[dict[str, Any]]:
        return [
            invoice
            for invoice in stack.xero.state(XERO_ORGS[1])["Invoices"]
            if str(appointment["id"]) in str(invoice.get("Reference", ""))
        ]

    wait_until(lambda: bool(xero_invoices()), WAIT, "the Xero invoice")
    (xero_invoice,) = xero_invoices()
    assert xero_invoice["Status"] == "DRAFT"
    assert {line.get("AccountCode") for line in xero_invoice["LineItems"]} == {"210"}
    assert stack.xero.state(XERO_ORGS[0])["Invoices"] == []  # the organisation not chosen stays untouched

    def freshbooks_invoices() -> list[dict[str, Any]]:
        return [
            invoice
            for invoice in stack.freshbooks.state(FRESHBOOKS_ACCOUNTS[0])["invoices"]
            if str(appointment["id"]) in str(invoice.get("po_number", ""))
        ]

    wait_until(lambda: bool(freshbooks_invoices()), WAIT, "the FreshBooks invoice")
    assert freshbooks_invoices()[0]["v3_status"] == "draft"
    acuity.close()

    # The page, as the owner sees it on a phone: kept as the test's artifact.
    browser.get(f"{stack.info.pages_url}")
    wait_for_page(browser, "#ledger-freshbooks")
    for ledger in LedgerName:
        assert "connected" in ledger_section(browser, str(ledger)).find_element(By.CLASS_NAME, "badge").text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "settings-page.png"))  # the first screen, as on a phone
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(412, int(height) + 40)
    assert browser.save_screenshot(str(ARTIFACTS / "settings-page-full.png"))
