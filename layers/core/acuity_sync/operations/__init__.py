"""Operations: what keeps every event moving without a person, run by the maintenance function on its schedule
(resume parked events, refresh tokens before they lapse, release backfills gradually, reconcile Acuity's lists
against what the sync has seen) and by the operator's commands (`reconcile`, `backfill`)."""
