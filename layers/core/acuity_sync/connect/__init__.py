"""The owner's side of the product: access (signed one-time admin links, sessions, CSRF tokens), connecting and
disconnecting each ledger through its consent, the Acuity account and its webhooks, and settings changes. The
settings page (acuity_sync.web) and the CLI both go through here."""
