"""The accounting apps we write to. The interface every adapter implements and the declaration every ledger makes
(base.py); one package per ledger holding its declaration, adapter and settings (quickbooks/, xero/,
freshbooks/); the registry that looks them up by name (registry.py); and what the adapters share: the HTTP call
(transport.py) and exact JSON money (jsonmoney.py)."""
