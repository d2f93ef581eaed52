"""Packets of a flow (``verbose_mode=True``): light views of the ``packets``
table (``schemas/packets.md``), with the reference's ``ParsedPacket`` names.

Only the fields a flow feature needs are kept per packet — lengths,
direction, time, TCP flags/window/sequence numbers, TTL — and the frame
bytes with ``save_raw_bytes=True``. Protocol layers are not re-parsed per
packet in Python: the flow carries them (``flow.tls``, ``flow.dns`` …).
"""

from __future__ import annotations

from typing import Optional

import pyarrow as pa
import pyarrow.compute as pc


class TCPInfo:
    """The TCP header fields of one packet."""

    __slots__ = ("flags", "window", "seq", "ack")

    def __init__(self, flags: int, window: int, seq: int, ack: int):
        self.flags, self.window, self.seq, self.ack = flags, window, seq, ack

    def __repr__(self) -> str:
        return f"TCPInfo(flags={self.flags}, window={self.window}, seq={self.seq}, ack={self.ack})"


class PacketColumns:
    """The packets table's columns as Python lists, made on first use and
    shared by every packet of the call (as ``FlowTable.col`` does for
    flows): a packet field is then a list index."""

    __slots__ = ("table", "_cols")

    def __init__(self, table: pa.Table):
        self.table = table
        self._cols: dict[str, list] = {}

    def col(self, name: str) -> list:
        c = self._cols.get(name)
        if c is None:
            column = self.table.column(name)
            if pa.types.is_timestamp(column.type):
                column = pc.divide(pc.cast(column, pa.int64()).cast(pa.float64()), 1e6)
            c = self._cols[name] = column.to_pylist()
        return c


class ParsedPacket:
    """One counted packet of a flow."""

    __slots__ = ("_p", "_r", "flow_index")

    def __init__(self, packets: PacketColumns, row: int, flow_index: int):
        self._p, self._r, self.flow_index = packets, row, flow_index

    def _v(self, column: str):
        return self._p.col(column)[self._r]

    @property
    def timestamp(self) -> float:
        return self._v("timestamp")

    caplen = property(lambda self: self._v("caplen"))
    wirelen = property(lambda self: self._v("wirelen"))
    ip_len = property(lambda self: self._v("ip_len"))
    trans_len = property(lambda self: self._v("trans_len"))
    app_len = property(lambda self: self._v("app_len"))
    ttl = property(lambda self: self._v("ttl"))
    reassembled = property(lambda self: self._v("reassembled"))

    @property
    def packet_index(self) -> int:
        """0-based record number in the capture."""
        return self._v("frame_number") - 1

    @property
    def is_client_to_server(self) -> bool:
        return self._v("direction") == 1

    @property
    def raw_data(self) -> bytes:
        """The captured frame (``save_raw_bytes=True``), else ``b''``."""
        if "raw_bytes" not in self._p.table.column_names:
            return b""
        return self._v("raw_bytes")

    @property
    def tcp(self) -> Optional[TCPInfo]:
        flags = self._v("tcp_flags")
        if flags is None:
            return None
        return TCPInfo(flags, self._v("tcp_window"), self._v("tcp_seq"), self._v("tcp_ack"))

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("timestamp", "caplen", "wirelen", "ip_len", "trans_len", "app_len",
                                           "is_client_to_server", "packet_index", "ttl")}
        t = self.tcp
        if t is not None:
            d.update(tcp_flags=t.flags, tcp_window=t.window, tcp_seq=t.seq, tcp_ack=t.ack)
        return d

    def __repr__(self) -> str:
        return f"<ParsedPacket #{self.packet_index} {self.wirelen} bytes {'up' if self.is_client_to_server else 'down'}>"
