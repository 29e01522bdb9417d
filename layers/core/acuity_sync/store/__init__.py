"""DynamoDB access: one table, `pk`/`sk` strings. Only this package knows the item shapes (and how the secrets in
them are sealed: kms.py)."""
