"""Properties of the plan over generated appointments, settings and event timelines:
- applying a plan and planning again writes nothing (idempotent);
- whenever and however often the webhooks are processed, the ledger ends with at most one live invoice, one
  customer, one e-mail, each Acuity payment at most once, and the same net amount; and the net equals
  Acuity's price to the cent unless a named rule says why not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from acuity_sync.domain.billable import Billable, Client, ReceivedPayment
from acuity_sync.domain.documents import CompanyInfo, TaxMode
from acuity_sync.domain.names import EventKind
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.settings import Mode, TipHandling
from acuity_sync.sync.plan import Rule, Rules, plan
from tests.support.simulated_ledger import SimulatedLedger

cents = st.integers(min_value=0, max_value=50_000).map(lambda n: Decimal(n).scaleb(-2))
positive_cents = st.integers(min_value=1, max_value=60_000).map(lambda n: Decimal(n).scaleb(-2))
companies = st.sampled_from(
    [
        CompanyInfo("QBO", "USD", TaxMode.NON_TAXABLE, can_edit_paid_invoices=True),
        CompanyInfo("Xero", "USD", TaxMode.INCLUSIVE, payments_need_approved_invoice=True),
        CompanyInfo("FreshBooks", "USD", TaxMode.NON_TAXABLE),
        CompanyInfo("Mute", "USD", TaxMode.INCLUSIVE, can_email_invoices=False),
    ]
)
rule_sets = st.builds(
    Rules,
    mode=st.sampled_from(list(Mode)),
    invoice_free_appointments=st.booleans(),
    sync_orders=st.booleans(),
    update_on_change=st.booleans(),
    sync_payments=st.booleans(),
    tips=st.sampled_from(list(TipHandling)),
    approve_paid_drafts=st.booleans(),
    invoice_number_template=st.sampled_from([None, "ACU-{id}"]),
)


@st.composite
def timelines(draw: st.DrawFn) -> list[Billable]:
    """Acuity's states of one appointment over time: price changes, reschedules, payments added, maybe canceled
    at the end (Acuity cannot un-cancel)."""
    kind = draw(st.sampled_from(list(EventKind)))
    email = draw(st.sampled_from(["jane@example.com", None]))
    state = Billable(
        kind=kind,
        source_id=draw(st.integers(1, 10**9)),
        client=Client("Jane", "Doe", email),
        service_date=date(2026, 12, 3),
        description="Massage",
        item_key="7",
        price=draw(cents),
        currency="USD",
    )
    states = [state]
    for step in range(draw(st.integers(0, 5))):
        change = draw(st.sampled_from(["price", "reschedule", "payment", "nothing"]))
        if change == "price":
            state = replace(state, price=draw(cents))
        elif change == "reschedule":
            day = state.service_date + timedelta(days=draw(st.integers(1, 30)))
            state = replace(state, service_date=day, description=f"Massage on {day}")
        elif change == "payment":
            payment = ReceivedPayment(f"ch_{step}", draw(positive_cents), date(2026, 12, 1) + timedelta(days=step))
            state = replace(state, payments=(*state.payments, payment))
        states.append(state)
    if draw(st.booleans()):
        states.append(replace(state, canceled=True))
    return states


def process(
    states: list[Billable], schedule: list[int], rules: Rules, company: CompanyInfo
) -> tuple[SimulatedLedger, SyncRecord]:
    ledger, record = SimulatedLedger(), SyncRecord()
    for index in schedule:
        record = ledger.apply(plan(states[index], rules, company, record), states[index], record)
    return ledger, record


@st.composite
def schedules(draw: st.DrawFn, length: int) -> list[int]:
    """When the webhooks were processed: each reads the state current at that moment, so a schedule is
    non-decreasing; duplicates are webhooks delivered again; it always ends on the last state."""
    points = sorted(draw(st.lists(st.integers(0, length - 1), max_size=8)))
    repeats = draw(st.lists(st.integers(1, 3), min_size=len(points), max_size=len(points)))
    return [point for point, times in zip(points, repeats, strict=True) for _ in range(times)] + [length - 1] * draw(
        st.integers(1, 3)
    )


@settings(max_examples=400, deadline=None)
@given(states=timelines(), rules=rule_sets, company=companies, data=st.data())
def test_applying_a_plan_then_planning_again_writes_nothing(
    states: list[Billable], rules: Rules, company: CompanyInfo, data: st.DataObject
) -> None:
    schedule = data.draw(schedules(len(states)))
    _ledger, record = process(states, schedule, rules, company)
    assert plan(states[-1], rules, company, record).writes_nothing


@settings(max_examples=400, deadline=None)
@given(states=timelines(), rules=rule_sets, company=companies, data=st.data())
def test_any_processing_order_and_repetition_ends_with_the_same_documents(
    states: list[Billable], rules: Rules, company: CompanyInfo, data: st.DataObject
) -> None:
    first_ledger, first_record = process(states, data.draw(schedules(len(states))), rules, company)
    second_ledger, second_record = process(states, data.draw(schedules(len(states))), rules, company)
    final = states[-1]
    for ledger, _record in ((first_ledger, first_record), (second_ledger, second_record)):
        assert len(ledger.customers) <= 1
        assert len(ledger.live_invoices) <= 1
        assert len(ledger.invoices) <= 1
        assert all(invoice.emails <= 1 for invoice in ledger.invoices.values())
        assert ledger.payment_writes == len(ledger.payments)  # one ledger payment per Acuity payment
        acuity = {payment.transaction_id: payment.amount for payment in final.payments}
        assert all(amount <= acuity[transaction] for transaction, amount in ledger.payments.items())
        assert sum(ledger.payments.values(), Decimal(0)) <= max(final.price, final.paid_total)

    skips = {skip.rule for skip in plan(final, rules, company, first_record).skips}
    skips |= {skip.rule for skip in plan(final, rules, company, second_record).skips}
    path_dependent = {Rule.PAID_INVOICE_LOCKED, Rule.CHANGES_NOT_SYNCED, Rule.FREE_NOT_INVOICED}
    if not skips & path_dependent:
        assert len(first_ledger.live_invoices) == len(second_ledger.live_invoices)
        assert first_ledger.net == second_ledger.net
        if Rule.SURPLUS_EXCLUDED not in skips:
            # Paid beyond the invoice, the payments that filled it are the ones that came first, and an order that
            # saw a later one first recorded it (found by this test in CI: 0.02 and 0.01 paid on a 0.02 invoice).
            assert first_ledger.payments.keys() == second_ledger.payments.keys()


@settings(max_examples=400, deadline=None)
@given(states=timelines(), rules=rule_sets, company=companies, data=st.data())
def test_the_net_equals_acuitys_price_to_the_cent_unless_a_rule_says_why(
    states: list[Billable], rules: Rules, company: CompanyInfo, data: st.DataObject
) -> None:
    ledger, record = process(states, data.draw(schedules(len(states))), rules, company)
    final = states[-1]
    skips = {skip.rule for skip in plan(final, rules, company, record).skips}
    if not ledger.live_invoices:
        # No live invoice is always explained: not wanted, or voided on cancel.
        assert final.canceled or skips & {Rule.CUSTOMER_ONLY_MODE, Rule.ORDERS_NOT_SYNCED, Rule.FREE_NOT_INVOICED}
        return
    if skips & {Rule.PAID_INVOICE_LOCKED, Rule.CHANGES_NOT_SYNCED}:
        # The invoice was left as it was: it still nets to a price Acuity once had, to the cent.
        assert ledger.net in {state.price for state in states}
        return
    assert ledger.net == final.price
    assert ledger.net.as_tuple().exponent == -2


@settings(max_examples=300, deadline=None)
@given(
    price=positive_cents,
    paid_share=st.integers(1, 100),
    lowered_by=positive_cents,
    company=companies,
    mode=st.sampled_from([Mode.DRAFT, Mode.SEND]),
    tips=st.sampled_from(list(TipHandling)),
)
def test_a_price_lowered_after_payment_still_nets_to_the_new_price(
    price: Decimal, paid_share: int, lowered_by: Decimal, company: CompanyInfo, mode: Mode, tips: TipHandling
) -> None:
    paid_amount = max(Decimal("0.01"), (price * paid_share / 100).quantize(Decimal("0.01")))
    booked = Billable(
        kind=EventKind.APPOINTMENT,
        source_id=1,
        client=Client("Jane", "Doe", "jane@example.com"),
        service_date=date(2026, 12, 3),
        description="Massage",
        item_key="7",
        price=price,
        currency="USD",
        payments=(ReceivedPayment("ch_1", paid_amount, date(2026, 12, 1)),),
    )
    lowered = replace(booked, price=max(Decimal("0.00"), price - lowered_by))
    rules = Rules(mode=mode, tips=tips)
    ledger, record = process([booked, lowered], [0, 1, 1], rules, company)
    assert ledger.net == lowered.price
    assert plan(lowered, rules, company, record).writes_nothing
    assert ledger.payments == {"ch_1": min(paid_amount, price)} or tips is TipHandling.SEPARATE_LINE
