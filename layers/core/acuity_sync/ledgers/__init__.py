"""The accounting apps we write to: the ledger interface (base.py), one adapter per app, and what they share:
the HTTP call (transport.py) and exact JSON money (jsonmoney.py)."""
