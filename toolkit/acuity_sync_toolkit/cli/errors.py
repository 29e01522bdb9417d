"""The one error a command reports to its user."""

from __future__ import annotations


class CommandError(Exception):
    """Said to the user as it is, with exit status 2."""
