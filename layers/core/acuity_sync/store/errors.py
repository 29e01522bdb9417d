"""Failures of our own storage: never the sender's fault, so never a 4xx."""


class StoreUnavailable(RuntimeError):
    """DynamoDB or KMS could not answer; the caller should retry later."""
