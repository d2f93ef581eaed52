"""pyarrow helpers that keep pandas out: ``pa.table(x)`` and
``ChunkedArray.to_numpy()`` import pandas (0.5 s) even when nobody uses it."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def arrow_table(native) -> pa.Table:
    """A native table (``__arrow_c_stream__``) as a ``pyarrow.Table``, zero copy."""
    return pa.RecordBatchReader.from_stream(native).read_all()


_DTYPES = {pa.int8(): np.int8, pa.int16(): np.int16, pa.int32(): np.int32, pa.int64(): np.int64,
           pa.uint8(): np.uint8, pa.uint16(): np.uint16, pa.uint32(): np.uint32, pa.uint64(): np.uint64,
           pa.float32(): np.float32, pa.float64(): np.float64}


def _chunk(c: pa.Array) -> np.ndarray:
    if pa.types.is_boolean(c.type):
        c = pc.cast(c, pa.uint8())
        return _chunk(c).astype(bool)
    if pa.types.is_timestamp(c.type):
        c = c.view(pa.int64())
    dtype = _DTYPES.get(c.type)
    if dtype is None or c.null_count:
        raise TypeError(f"numpy() takes null-free numeric columns, not {c.type}")
    return np.frombuffer(c.buffers()[1], dtype=dtype)[c.offset:c.offset + len(c)]


def numpy(col) -> np.ndarray:
    """A null-free numeric, boolean or timestamp column (chunked or not) as
    one numpy array, straight from the Arrow buffers (zero copy for one
    chunk). pyarrow's own ``to_numpy`` imports pandas, 0.5 s."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    parts = [_chunk(c) for c in chunks]
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return _chunk(pa.array([], col.type))
    return np.concatenate(parts)


def list_parts(col) -> tuple[np.ndarray, np.ndarray]:
    """A list column as (values, offsets) numpy arrays: row ``i`` is
    ``values[offsets[i]:offsets[i + 1]]`` (one copy when it has several
    chunks)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) and col.num_chunks != 1 else (
        col.chunk(0) if isinstance(col, pa.ChunkedArray) else col)
    if isinstance(arr, pa.ChunkedArray):  # zero chunks
        arr = pa.array([], col.type)
    return numpy(arr.values), numpy(arr.offsets)


def parsed_app(t):
    """``app_protocol`` where the flow's bytes showed it (``app_confidence``
    ``dpi``), null where only a well-known port names it: the protocol
    records (``flow.tls``, filters, ``ext_protocol``) need the former. A
    flow whose TLS hello was read inside another protocol (STARTTLS in
    ``smtp``, ``imap`` on 993, ``rdp``) is ``tls`` here, as the reference
    records its TLS layer."""
    import pyarrow.compute as pc

    app = t.column("app_protocol")
    if "app_confidence" not in t.column_names:
        return app
    app = pc.if_else(pc.equal(t.column("app_confidence"), "dpi"), app, None)
    if "tls_cipher_suites" not in t.column_names:
        return app
    hello = pc.or_(pc.is_valid(t.column("tls_cipher_suites")), pc.is_valid(t.column("tls_version")))
    own = pc.is_in(app, value_set=pa.array(["quic", "dtls"]))
    return pc.if_else(pc.and_(hello, pc.invert(pc.fill_null(own, False))), "tls", app)
