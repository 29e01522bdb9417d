"""A settings change, the one way both `acuity-sync settings set` and the settings page make it: the document is
validated (the owner's words for each problem, "field: message"), then the ledger's own check runs (its
declaration's `check_settings`, e.g. Xero's accounts against the chart), then the settings are saved at the version
the change was based on, and the tenant's events parked for that ledger until a settings change (a rejection in the
ledger's words) go back on the queue (Requeuer, Origin.RESUME): the owner's fix is tried at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from acuity_sync.domain.message import Origin
from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.ledgers.base import OpenLedger, SettingsReview
from acuity_sync.ledgers.registry import ledger_declaration, parse_settings, settings_error_messages
from acuity_sync.store.parking import ParkingLot, ResumeOn
from acuity_sync.store.settings import SettingsStore
from acuity_sync.sync.requeue import Requeuer

MAX_REQUEUE_ROUNDS = 50  # 100 events a round: enough for any backlog a settings change resolves


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """What became of a change: saved (`version`) or refused (`problems`), with notes either way."""

    version: int | None
    settings: LedgerSettings | None
    problems: tuple[str, ...] = ()  # "field: message" where a field is named, else a sentence
    notes: tuple[str, ...] = ()
    requeued: int = 0  # parked events put back on the queue
    requeue_failed: int = 0  # still parked: the queue did not take them (the next change or resume retries)


@dataclass(frozen=True, slots=True)
class Resume:
    """What a saved change resumes with (absent where no queue is known, e.g. a CLI pointed at a bare table)."""

    parking: ParkingLot
    requeuer: Requeuer


def change_settings(
    store: SettingsStore,
    tenant_id: str,
    ledger: LedgerName,
    document: Mapping[str, Any],
    *,
    based_on: LedgerSettings,
    version: int,
    open_ledger: OpenLedger,
    resume: Resume | None,
) -> SettingsChange:
    """Validate, check with the ledger, save over `version` (SettingsConflict, UnknownTenant, StoreUnavailable
    raise), and re-queue the events parked until a settings change."""
    try:
        changed = parse_settings(ledger, document)
    except ValidationError as error:
        return SettingsChange(None, None, problems=tuple(settings_error_messages(error)))
    review = _review(ledger, based_on, changed, open_ledger)
    if review.problems:
        return SettingsChange(None, changed, problems=review.problems, notes=review.notes)
    saved = store.put(tenant_id, ledger, changed, version)
    if resume is None:
        return SettingsChange(saved, changed, notes=review.notes)
    requeued, failed = resume_parked(resume, tenant_id, ledger, ResumeOn.SETTINGS_CHANGE)
    return SettingsChange(saved, changed, notes=review.notes, requeued=requeued, requeue_failed=failed)


def resume_parked(resume: Resume, tenant_id: str, ledger: LedgerName, condition: ResumeOn) -> tuple[int, int]:
    """Every event of the tenant parked for `ledger` until `condition`, queued again; (requeued, still parked)."""
    requeued = failed = 0
    for _ in range(MAX_REQUEUE_ROUNDS):
        parked = resume.parking.for_ledger(tenant_id, ledger, condition)
        if not parked:
            break
        result = resume.requeuer.requeue(parked, Origin.RESUME)
        requeued += result.requeued
        if result.requeued == 0:  # the queue took none: stop, they stay parked for the next try
            failed = result.failed
            break
    return requeued, failed


def _review(
    ledger: LedgerName, before: LedgerSettings, after: LedgerSettings, open_ledger: OpenLedger
) -> SettingsReview:
    check: Callable[[Any, Any, OpenLedger], SettingsReview] | None = ledger_declaration(ledger).check_settings
    return SettingsReview() if check is None else check(before, after, open_ledger)
