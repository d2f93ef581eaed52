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

from .flow import EXTRA_STAT_KEYS, PROTOCOL_NAMES, SEQUENCES, STAT_FAMILIES, STAT_KEYS, Flow, FlowTable

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


def segment_stats(values: np.ndarray, offsets: np.ndarray) -> dict[str, np.ndarray]:
    """Per list row: the statistics of ``schemas/flow.md`` over the absolute
    values, and over the up (> 0) and down (< 0) values, for all rows at
    once. Empty sets give 0 (the caller masks rows the reference leaves
    out)."""
    v = np.asarray(values, dtype=np.float64)
    a = np.abs(v)
    n_rows = len(offsets) - 1
    counts = np.diff(offsets).astype(np.int64)
    seg = np.repeat(np.arange(n_rows), counts)
    out: dict[str, np.ndarray] = {}

    def moments(mask, prefix: str, full: bool):
        s_idx = seg if mask is None else seg[mask]
        x = a if mask is None else a[mask]
        k = np.bincount(s_idx, minlength=n_rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.bincount(s_idx, weights=x, minlength=n_rows)
            mean = np.where(k > 0, total / np.maximum(k, 1), 0.0)
            d = x - mean[s_idx]
            m2 = np.bincount(s_idx, weights=d * d, minlength=n_rows) / np.maximum(k, 1)
        mn = np.full(n_rows, np.inf)
        mx = np.full(n_rows, -np.inf)
        np.minimum.at(mn, s_idx, x)
        np.maximum.at(mx, s_idx, x)
        mn[k == 0] = 0.0
        mx[k == 0] = 0.0
        out[prefix + "count"] = k
        out[prefix + "sum"] = total
        out[prefix + "mean"] = mean
        out[prefix + "std"] = np.sqrt(m2)
        out[prefix + "var"] = m2
        out[prefix + "min"] = mn
        out[prefix + "max"] = mx
        out[prefix + "range"] = mx - mn
        if full:
            m3 = np.bincount(s_idx, weights=d ** 3, minlength=n_rows) / np.maximum(k, 1)
            m4 = np.bincount(s_idx, weights=d ** 4, minlength=n_rows) / np.maximum(k, 1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[prefix + "skew"] = np.where(m2 > 0, m3 / np.where(m2 > 0, m2, 1.0) ** 1.5, 0.0)
                out[prefix + "kurt"] = np.where(m2 > 0, m4 / np.where(m2 > 0, m2, 1.0) ** 2 - 3.0, 0.0)
                out[prefix + "cv"] = np.where(mean != 0, np.sqrt(m2) / np.where(mean != 0, mean, 1.0), 0.0)
            order = np.lexsort((x, s_idx))
            sx = x[order]
            starts = np.concatenate([[0], np.cumsum(k)[:-1]]) if n_rows else np.zeros(0, np.int64)
            ok = k > 0
            med = np.zeros(n_rows)
            lo = starts[ok] + (k[ok] - 1) // 2
            hi = starts[ok] + k[ok] // 2
            med[ok] = (sx[lo] + sx[hi]) / 2.0
            out[prefix + "median"] = med

    moments(None, "", True)
    moments(v > 0, "up_", False)
    moments(v < 0, "down_", False)
    return out


def _list_parts(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if isinstance(arr, pa.ChunkedArray):
        arr = pa.array([], col.type)
    return arr.values.to_numpy(zero_copy_only=False), np.asarray(arr.offsets)


def _protocol_names(proto: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(proto, return_inverse=True)
    names = np.array([PROTOCOL_NAMES.get(int(p), f"PROTO({int(p)})") for p in uniq], dtype=object)
    return names[inv] if len(proto) else np.array([], dtype=object)


def _ext_protocol(t: pa.Table, names: np.ndarray) -> list:
    v6 = pc.match_substring(t.column("src_ip"), ":").to_numpy(zero_copy_only=False)
    app = pc.fill_null(t.column("app_protocol"), "").to_numpy(zero_copy_only=False)
    has_dns = pc.is_valid(t.column("dns_query")).to_numpy(zero_copy_only=False)
    alpn = pc.fill_null(pc.binary_join(t.column("alpn"), "\x00"), "")
    low = pc.utf8_lower(alpn)
    https = pc.or_(pc.match_substring_regex(low, r"(^|\x00)(h2|http)(\x00|$)"),
                   pc.match_substring_regex(low, r"(^|\x00)http/")).to_numpy(zero_copy_only=False)
    proto = t.column("protocol").to_numpy()
    known = np.isin(proto, list(PROTOCOL_NAMES))
    combos: dict[tuple, list] = {}
    out = []
    for key in zip(v6, known, names, app, https, has_dns):
        stack = combos.get(key)
        if stack is None:
            is6, kn, name, a, h, d = key
            stack = ["IPv6" if is6 else "IPv4"] + ([name] if kn else [])
            if a == "tls":
                stack += ["TLS"] + (["HTTPS"] if h else [])
            if a == "dns" or d:
                stack.append("DNS")
            if a == "quic":
                stack.append("QUIC")
            if a == "http":
                stack.append("HTTP")
            combos[key] = stack
        out.append(list(stack))
    return out


def _protocol_dicts(t: pa.Table) -> dict[str, list]:
    """The reference's ``tls``/``http``/``dns`` dict columns (None where a
    flow has no such protocol); only columns some flow fills."""
    app = t.column("app_protocol").to_pylist()
    out: dict[str, list] = {}
    if "tls" in app:
        ver, sni = t.column("tls_version").to_pylist(), t.column("sni").to_pylist()
        subj, iss = t.column("cert_subject").to_pylist(), t.column("cert_issuer").to_pylist()
        col = []
        for i, a in enumerate(app):
            if a != "tls":
                col.append(None)
                continue
            d: dict[str, Any] = {"version": ver[i]}
            if sni[i]:
                d["sni"] = sni[i]
            if subj[i] is not None:
                d["cert_subject"], d["cert_issuer"] = subj[i], iss[i]
            col.append(d)
        out["tls"] = col
    m, s = t.column("http_method").to_pylist(), t.column("http_status").to_pylist()
    if any(x is not None for x in m) or any(x is not None for x in s):
        host, ua = t.column("http_host").to_pylist(), t.column("http_user_agent").to_pylist()
        out["http"] = [None if m[i] is None and s[i] is None else {"host": host[i], "user_agent": ua[i]}
                       for i in range(len(m))]
    q, r = t.column("dns_query").to_pylist(), t.column("dns_rcode").to_pylist()
    if any(x is not None for x in q) or any(x is not None for x in r):
        qs = t.column("dns_queries").to_pylist()
        out["dns"] = [None if q[i] is None and r[i] is None else {"queries": qs[i] or []} for i in range(len(q))]
    return out


def _frame_table(t: pa.Table) -> dict[str, Any]:
    """The reference-shaped columns of one flows table, in order."""
    proto = t.column("protocol").to_numpy()
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
        cols[c] = pc.cast(t.column(c), pa.int64()).to_numpy() / 1e6
    for c in ("duration", "packet_count", "byte_count", "up_packet_count", "up_byte_count", "down_packet_count",
              "down_byte_count"):
        cols[c] = t.column(c)
    cols["ext_protocol"] = _ext_protocol(t, names)
    cols.update(_protocol_dicts(t))

    packets = t.column("packet_count").to_numpy()
    tcp = proto == 6
    derived: dict[str, dict[str, np.ndarray]] = {}
    for seq, column in (("tcp_flags", "tcp_flags"), ("tcp_window", "tcp_window_sizes")):
        values, offsets = _list_parts(t.column(column))
        derived[seq] = segment_stats(values, offsets)
    for seq in _STAT_SEQUENCES:
        mask = tcp if seq in derived else (packets >= 2 if seq == "iats" else packets >= 1)
        for stat in STAT_KEYS + (EXTRA_STAT_KEYS if seq in STAT_FAMILIES else ()):
            if seq in derived:
                raw = derived[seq][stat]
            else:
                raw = t.column(f"{STAT_FAMILIES[seq]}_{stat}").to_numpy()
            vals = raw.astype(np.float64) if not stat.endswith("count") else raw
            cols[f"feature.{seq}.{stat}"] = np.where(mask, vals, np.nan) if not mask.all() else vals
    cols["feature.packet_count"] = packets
    cols["feature.total_bytes"] = t.column("byte_count").to_numpy()
    up, down = t.column("pkt_up_count").to_numpy(), t.column("pkt_down_count").to_numpy()
    us, ds = t.column("pkt_up_sum").to_numpy(), t.column("pkt_down_sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["feature.up_down_pkt_ratio"] = np.where(down > 0, up / np.maximum(down, 1), 0.0)
        cols["feature.up_down_byte_ratio"] = np.where(ds > 0, us / np.where(ds > 0, ds, 1.0), 0.0)
    cols["feature.duration"] = np.where(packets >= 2, t.column("iat_sum").to_numpy(), t.column("duration").to_numpy())
    for seq in SEQUENCES:
        c = t.column(seq)
        if seq in ("tcp_flags", "tcp_window_sizes") and not tcp.all():
            c = pc.if_else(pa.array(tcp), c, pa.scalar(None, c.type))
        cols[f"feature.{seq}"] = c
    cols["flow_id"] = t.column("flow_id")
    return cols


def to_arrow(flows: Iterable[Flow]) -> pa.Table:
    """The flows' rows of the ``flows`` table (the dataset's schema)."""
    parts = [_rows(t, rows) for t, rows in _groups(flows)]
    if not parts:
        from . import _native  # noqa: F401  (schema comes from a real run)
        return pa.table({})
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def to_dataframe(flows: Iterable[Flow]):
    """One row per flow with the reference's columns (module doc)."""
    import pandas as pd

    frames = []
    for t, rows in _groups(flows):
        cols = _frame_table(_rows(t, rows))
        # Python-object columns (lists, dicts) go in after the counters.
        objects = {k: v for k, v in cols.items() if isinstance(v, list)}
        table = pa.table({k: (v if isinstance(v, (pa.ChunkedArray, pa.Array)) else pa.array(v))
                          for k, v in cols.items() if k not in objects})
        df = table.to_pandas()
        pos = df.columns.get_loc("down_byte_count") + 1
        for k, v in objects.items():
            df.insert(pos, k, pd.Series(v, dtype=object, index=df.index))
            pos += 1
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


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
