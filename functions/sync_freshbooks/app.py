"""The FreshBooks sync: FIFO batches from the FreshBooks queue into FreshBooks, exactly once.

Thin by design: acuity_sync.wiring.sync builds the handler every ledger's function shares; the ledger's
adapter (acuity_sync.ledgers.freshbooks) is the only part that is FreshBooks's own.
"""

from acuity_sync.domain.names import LedgerName
from acuity_sync.wiring.sync import sync_lambda_handler

lambda_handler = sync_lambda_handler(LedgerName.FRESHBOOKS)
