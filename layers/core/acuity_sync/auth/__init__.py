"""OAuth2 per ledger: the token endpoint client (oauth.py) and live access tokens, refreshed under a lease by one
process at a time (tokens.py). The connection items themselves are the store's (store/connections.py)."""
