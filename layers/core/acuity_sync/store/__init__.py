"""DynamoDB access: one table, `pk`/`sk` strings. Only this package knows the item shapes."""
