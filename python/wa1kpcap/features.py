"""Custom incremental features: the reference's protocol, in Python.

A processor is any object with ``initialize(flow)``, ``update(flow, pkt)``
and ``get_value(flow)`` (``BaseIncrementalFeature`` is the reference's
abstract base). After the engine's pass, for each flow:
``initialize(flow)``, then ``update(flow, pkt)`` for each of its packets in
capture order (``pkt`` is a ``ParsedPacket``), then ``get_value(flow)``,
whose result ``flow.get_features()[name]`` returns. Per-flow state is the
processor's to keep (keyed by ``flow.flow_id``, or reset in
``initialize``, as processors for the reference do).

Cost: registering a feature makes the engine keep the packets table, and
each packet becomes a Python object: it runs at Python speed, which is the
user's choice to make. An exception in ``update`` is not swallowed (0.2.0
hid them): it ends the call with the flow named.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import Any

from .packet import ParsedPacket


class FeatureType(Enum):
    SEQUENCE = "sequence"
    STATISTICAL = "statistical"
    CATEGORICAL = "categorical"
    BINARY = "binary"
    CUSTOM = "custom"
    INCREMENTAL = "incremental"


class BaseIncrementalFeature(ABC):
    """Base of a custom feature processor."""

    def __init__(self, name: str = "", feature_type: FeatureType = FeatureType.CUSTOM):
        self.name = name
        self.feature_type = feature_type

    @abstractmethod
    def initialize(self, flow) -> None:
        """Start the state of a new flow."""

    @abstractmethod
    def update(self, flow, pkt: ParsedPacket) -> None:
        """Fold one packet into the flow's state."""

    @abstractmethod
    def get_value(self, flow) -> Any:
        """The feature's value for the flow."""


def run_features(table, processors: dict, rows) -> None:
    """Run every processor over the flows of ``table`` at ``rows``; values
    go to ``table.custom[name]`` (one per table row)."""
    from .flow import Flow

    values = {name: [None] * table.n for name in processors}
    for i in rows.tolist():
        flow = Flow(table, i)
        packets = flow.packets
        for name, proc in processors.items():
            proc.initialize(flow)
            for pkt in packets:
                try:
                    proc.update(flow, pkt)
                except Exception as e:
                    raise RuntimeError(f"feature {name!r} failed on flow {flow.key}: {e!r}") from e
            values[name][i] = proc.get_value(flow)
    table.custom = values
