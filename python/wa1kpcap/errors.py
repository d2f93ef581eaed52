"""Exceptions of the package."""

from __future__ import annotations


class CaptureError(Exception):
    """A capture could not be read to its end (damaged, cut short, not a
    capture). ``path`` and ``reason`` say which and why; ``flows`` holds
    the flows of the packets read before the damage (possibly none)."""

    def __init__(self, path: str, reason: str, flows=None):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.flows = [] if flows is None else flows
