"""Exporters with the reference's names and columns, built from Arrow.

``to_dataframe`` gathers the flows' rows from their tables (one ``take``
per table), computes every column with pyarrow/numpy over whole columns,
and converts once with ``Table.to_pandas`` — no per-flow Python loop for
the numbers. Columns, in order, as wa1kpcap 0.2.0 gives them: the 16
``Flow.to_dict`` keys, ``tls``/``http``/``dns`` dicts (when any flow has
one), ``feature.<sequence>.<stat>`` for the 21 statistics of the eight
sequences (``tcp_window`` for the window sequence, NaN where the reference
has no such statistics: ``iats`` of one-packet flows, TCP sequences of other
flows), ``feature.skew``/``kurt``/``cv`` for the five length/time families
and ``payload_bytes`` (which 0.2.0 documented but never computed), the five
flow-level features, and the sequences themselves (numpy arrays, views of
the table; ``to_csv`` and ``to_json`` write them as lists). Last,
``flow_id``, which joins to the dataset's other tables.

Certificates, non-UTF-8 names and empty sequences never crash an exporter
(0.2.0's crashed on every flow with a certificate).
"""

from __future__ import annotations

import json
import math
from operator import attrgetter
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import list_parts, numpy, parsed_app
from .flow import EXTRA_STAT_KEYS, PROTOCOL_NAMES, SEQUENCES, STAT_FAMILIES, STAT_KEYS, Flow, FlowTable
from .stats import segment_stats  # noqa: F401  (also this module's API)

# The reference's stats dict order and names.
_STAT_SEQUENCES = ("packet_lengths", "ip_lengths", "trans_lengths", "app_lengths", "iats", "payload_bytes",
                   "tcp_flags", "tcp_window")


def _groups(flows: Iterable[Flow]) -> list[tuple[FlowTable, np.ndarray]]:
    """The flows' rows, grouped by table, in the order given."""
    flows = list(flows)
    if not flows:
        return []
    tables = list(map(attrgetter("_t"), flows))
    rows = np.fromiter(map(attrgetter("_i"), flows), dtype=np.int64, count=len(flows))
    out: list[tuple[FlowTable, np.ndarray]] = []
    start = 0
    for k in range(1, len(tables) + 1):
        if k == len(tables) or tables[k] is not tables[start]:
            out.append((tables[start], rows[start:k]))
            start = k
    return out


def _rows(t: FlowTable, rows: np.ndarray) -> pa.Table:
    if len(rows) == t.n and (len(rows) == 0 or (rows[0] == 0 and np.all(np.diff(rows) == 1))):
        return t.table
    return t.table.take(pa.array(rows))


def _protocol_names(proto: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(proto, return_inverse=True)
    names = np.array([PROTOCOL_NAMES.get(int(p), f"PROTO({int(p)})") for p in uniq], dtype=object)
    return names[inv] if len(proto) else np.array([], dtype=object)


def _bools(arr) -> np.ndarray:
    return numpy(pc.fill_null(arr, False))


def _ext_protocol(t: pa.Table) -> list:
    """``ext_protocol`` per row: the stack is a function of a few flags, so
    it is built once per distinct combination."""
    app = pc.fill_null(parsed_app(t), "")
    low = pc.utf8_lower(pc.fill_null(pc.binary_join(t.column("alpn"), "\x00"), ""))
    https = pc.match_substring_regex(low, r"(^|\x00)(h2|http(/[^\x00]*)?)(\x00|$)")
    proto = numpy(t.column("protocol")).astype(np.int64)
    flags = (_bools(pc.match_substring(t.column("src_ip"), ":")).astype(np.int64)
             | _bools(pc.equal(app, "tls")) << 1 | _bools(https) << 2
             | (_bools(pc.equal(app, "dns")) | _bools(pc.is_valid(t.column("dns_query")))) << 3
             | _bools(pc.equal(app, "quic")) << 4 | _bools(pc.equal(app, "http")) << 5)
    codes, inverse = np.unique(proto << 8 | flags, return_inverse=True)
    stacks = []
    for code in codes.tolist():
        p, f = code >> 8, code & 0xFF
        stack = ["IPv6" if f & 1 else "IPv4"] + ([PROTOCOL_NAMES[p]] if p in PROTOCOL_NAMES else [])
        if f & 2:
            stack += ["TLS"] + (["HTTPS"] if f & 4 else [])
        if f & 8:
            stack.append("DNS")
        if f & 16:
            stack.append("QUIC")
        if f & 32:
            stack.append("HTTP")
        stacks.append(stack)
    return [list(stacks[j]) for j in inverse.reshape(-1).tolist()]


def _protocol_dicts(t: pa.Table) -> dict[str, list]:
    """The reference's ``tls``/``http``/``dns`` dict columns (None where a
    flow has no such protocol); only columns some flow fills. Python
    objects are built for those rows only."""
    n = t.num_rows
    out: dict[str, list] = {}

    def rows_where(mask) -> list[int]:
        return np.flatnonzero(_bools(mask)).tolist()

    def values(rows: list[int], *names: str) -> list[list]:
        sub = t.select(list(names)).take(pa.array(rows, pa.int64()))
        return [sub.column(c).to_pylist() for c in names]

    tls = rows_where(pc.equal(parsed_app(t), "tls"))
    if tls:
        ver, sni, subj, iss = values(tls, "tls_version", "sni", "cert_subject", "cert_issuer")
        col: list = [None] * n
        for j, i in enumerate(tls):
            d: dict[str, Any] = {"version": ver[j]}
            if sni[j]:
                d["sni"] = sni[j]
            if subj[j] is not None:
                d["cert_subject"], d["cert_issuer"] = subj[j], iss[j]
            col[i] = d
        out["tls"] = col
    http = rows_where(pc.or_(pc.is_valid(t.column("http_method")), pc.is_valid(t.column("http_status"))))
    if http:
        host, ua = values(http, "http_host", "http_user_agent")
        col = [None] * n
        for j, i in enumerate(http):
            col[i] = {"host": host[j], "user_agent": ua[j]}
        out["http"] = col
    dns = rows_where(pc.or_(pc.is_valid(t.column("dns_query")), pc.is_valid(t.column("dns_rcode"))))
    if dns:
        (qs,) = values(dns, "dns_queries")
        col = [None] * n
        for j, i in enumerate(dns):
            col[i] = {"queries": qs[j] or []}
        out["dns"] = col
    return out


def _frame_table(t: pa.Table) -> dict[str, Any]:
    """The reference-shaped columns of one flows table, in order."""
    proto = numpy(t.column("protocol"))
    names = _protocol_names(proto)
    cols: dict[str, Any] = {}
    key = pc.binary_join_element_wise(
        t.column("src_ip"), ":", pc.cast(t.column("src_port"), pa.string()), " -> ", t.column("dst_ip"), ":",
        pc.cast(t.column("dst_port"), pa.string()), " (", pa.array(names, pa.string()), ")", "")
    cols["key"] = key
    cols["protocol"] = names
    for c in ("src_ip", "dst_ip", "src_port", "dst_port"):
        cols[c] = t.column(c)
    for c in ("start_time", "end_time"):
        cols[c] = numpy(pc.cast(t.column(c), pa.int64())) / 1e6
    for c in ("duration", "packet_count", "byte_count", "up_packet_count", "up_byte_count", "down_packet_count",
              "down_byte_count"):
        cols[c] = t.column(c)
    cols["ext_protocol"] = _ext_protocol(t)
    cols.update(_protocol_dicts(t))

    packets = numpy(t.column("packet_count"))
    tcp = proto == 6
    derived: dict[str, dict[str, np.ndarray]] = {}
    for seq, column in (("tcp_flags", "tcp_flags"), ("tcp_window", "tcp_window_sizes")):
        values, offsets = list_parts(t.column(column))
        derived[seq] = segment_stats(values, offsets)
    for seq in _STAT_SEQUENCES:
        mask = tcp if seq in derived else (packets >= 2 if seq == "iats" else packets >= 1)
        for stat in STAT_KEYS + (EXTRA_STAT_KEYS if seq in STAT_FAMILIES else ()):
            if seq in derived:
                raw = derived[seq][stat]
            else:
                raw = numpy(t.column(f"{STAT_FAMILIES[seq]}_{stat}"))
            vals = raw.astype(np.float64, copy=False) if not stat.endswith("count") else raw
            cols[f"feature.{seq}.{stat}"] = np.where(mask, vals, np.nan) if not mask.all() else vals
    cols["feature.packet_count"] = packets
    cols["feature.total_bytes"] = numpy(t.column("byte_count"))
    up, down = numpy(t.column("pkt_up_count")), numpy(t.column("pkt_down_count"))
    us, ds = numpy(t.column("pkt_up_sum")), numpy(t.column("pkt_down_sum"))
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["feature.up_down_pkt_ratio"] = np.where(down > 0, up / np.maximum(down, 1), 0.0)
        cols["feature.up_down_byte_ratio"] = np.where(ds > 0, us / np.where(ds > 0, ds, 1.0), 0.0)
    cols["feature.duration"] = np.where(packets >= 2, numpy(t.column("iat_sum")), numpy(t.column("duration")))
    for seq in SEQUENCES:
        c = t.column(seq)
        if seq in ("tcp_flags", "tcp_window_sizes") and not tcp.all():
            c = pc.if_else(pa.array(tcp), c, pa.scalar(None, c.type))
        cols[f"feature.{seq}"] = c
    cols["flow_id"] = t.column("flow_id")
    return cols


def to_arrow(flows: Iterable[Flow]) -> pa.Table:
    """The flows' rows of the ``flows`` table (the dataset's schema)."""
    return _concat(_groups(flows))


def _concat(groups: list[tuple[FlowTable, np.ndarray]]) -> pa.Table:
    parts = [_rows(t, rows) for t, rows in groups]
    if not parts:
        return pa.table({})
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def to_dataframe(flows: Iterable[Flow]):
    """One row per flow with the reference's columns (module doc)."""
    import pandas as pd

    groups = _groups(flows)
    if not groups:
        return pd.DataFrame()
    order = None
    if len(groups) == 1:
        t, rows = groups[0]
        # Most of a table: compute on it whole, then reorder the frame
        # (a numpy take per column) instead of copying every Arrow column.
        if 2 * len(rows) >= t.n:
            table = t.table
            if not (len(rows) == t.n and np.array_equal(rows, np.arange(t.n))):
                order = rows
        else:
            table = _rows(t, rows)
    else:
        # Flows of many calls (analyze_directory): one table, one pass.
        table = _concat(groups)
    cols = _frame_table(table)
    # Python-object columns (lists, dicts) go in after the counters.
    objects = {k: v for k, v in cols.items() if isinstance(v, list)}
    arrow = pa.table({k: (v if isinstance(v, (pa.ChunkedArray, pa.Array)) else pa.array(v))
                      for k, v in cols.items() if k not in objects})
    del cols
    df = arrow.to_pandas()
    del arrow
    pos = df.columns.get_loc("down_byte_count") + 1
    for k, v in objects.items():
        df.insert(pos, k, pd.Series(v, dtype=object, index=df.index))
        pos += 1
    if order is not None:
        df = df.take(order).reset_index(drop=True)
    return df


def to_dict(flows: Iterable[Flow], include_features: bool = True) -> list[dict]:
    """``flow.to_dict()`` per flow, with ``features`` (sequences as lists and
    the statistics dict) unless ``include_features=False``."""
    out = []
    for f in flows:
        d = f.to_dict()
        if include_features:
            d["features"] = f.features.to_dict()
        out.append(d)
    return out


def to_list_of_dicts(flows: Iterable[Flow], flatten_features: bool = False) -> list[dict]:
    """As ``to_dict``; with ``flatten_features`` the features become
    ``feature.<name>`` and ``feature.statistics.<sequence>.<stat>`` keys."""
    out = []
    for f in flows:
        d = f.to_dict()
        feats = f.features.to_dict()
        if not flatten_features:
            d["features"] = feats
        else:
            for k, v in feats.items():
                if isinstance(v, dict):
                    for k2, v2 in v.items():
                        if isinstance(v2, dict):
                            for k3, v3 in v2.items():
                                d[f"feature.{k}.{k2}.{k3}"] = v3
                        else:
                            d[f"feature.{k}.{k2}"] = v2
                else:
                    d[f"feature.{k}"] = v
        out.append(d)
    return out


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, bytes):
        return o.hex()
    return str(o)


def _finite(o: Any) -> Any:
    """NaN/inf are not JSON: written as null."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_finite(v) for v in o]
    return o


def to_json(flows: Iterable[Flow], path, include_features: bool = True, indent: int = 2) -> None:
    """``to_dict`` as a JSON file (UTF-8, written whole or not at all)."""
    data = _finite(to_dict(flows, include_features=include_features))
    _write_atomically(Path(path), lambda f: json.dump(data, f, indent=indent, default=_json_default,
                                                      ensure_ascii=False))


def _csv_frame(df):
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].map(lambda x: x.tolist() if isinstance(x, np.ndarray) else x)
    return df


def to_csv(flows: Iterable[Flow], path, include_features: bool = True) -> None:
    """``to_dataframe`` as CSV (lists and dicts as their Python text, as the
    reference writes them); ``include_features=False`` keeps only the
    ``Flow.to_dict`` columns."""
    df = to_dataframe(flows)
    if not include_features:
        df = df[[c for c in df.columns if not c.startswith("feature.")]]
    df = _csv_frame(df)
    _write_atomically(Path(path), lambda f: df.to_csv(f, index=False))


def _write_atomically(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            write(f)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


class FlowExporter:
    """The reference's exporter class: ``to_dataframe``, ``to_dict``,
    ``to_json``, ``to_csv``, and ``save`` by suffix (``.json``, ``.csv``,
    ``.parquet``)."""

    def __init__(self, include_features: bool = True, flatten_features: bool = False):
        self.include_features = include_features
        self.flatten_features = flatten_features

    def to_dataframe(self, flows):
        import pandas as pd

        if self.include_features:
            return to_dataframe(flows)
        return pd.DataFrame([f.to_dict() for f in flows])

    def to_dict(self, flows) -> list[dict]:
        if not self.include_features:
            return [f.to_dict() for f in flows]
        return to_list_of_dicts(flows, flatten_features=self.flatten_features)

    def to_json(self, flows, path, indent: int = 2) -> None:
        data = _finite(self.to_dict(flows))
        _write_atomically(Path(path), lambda f: json.dump(data, f, indent=indent, default=_json_default,
                                                          ensure_ascii=False))

    def to_csv(self, flows, path) -> None:
        df = _csv_frame(self.to_dataframe(flows))
        _write_atomically(Path(path), lambda f: df.to_csv(f, index=False))

    def save(self, flows, path) -> None:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".json":
            self.to_json(flows, path)
        elif suffix == ".csv":
            self.to_csv(flows, path)
        elif suffix == ".parquet":
            # The flows' own Arrow rows: the dataset's schema, no pandas
            # round trip (the sequences stay typed lists).
            import pyarrow.parquet as pq

            tmp = path.with_name(f".{path.name}.tmp")
            pq.write_table(to_arrow(flows), tmp, compression="zstd")
            tmp.replace(path)
        else:
            raise ValueError(f"Unsupported file extension: {suffix} (use .json, .csv or .parquet)")
