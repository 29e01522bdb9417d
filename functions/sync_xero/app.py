"""The Xero sync: FIFO batches from the Xero queue into Xero, exactly once.

Thin by design: acuity_sync.wiring.sync builds the handler every ledger's function shares; the ledger's
adapter (acuity_sync.ledgers.xero) is the only part that is Xero's own.
"""

from acuity_sync.domain.names import LedgerName
from acuity_sync.wiring.sync import sync_lambda_handler

lambda_handler = sync_lambda_handler(LedgerName.XERO)
