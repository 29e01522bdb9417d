"""OAuth2 per ledger, token refresh under a lease, and the KMS envelope for everything secret at rest."""
