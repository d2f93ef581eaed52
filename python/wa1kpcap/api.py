"""Arrow-native entry points: captures to the dataset's tables, in memory
(``read_flows``, ``read_tables``) or on disk (``convert``).

Options are the analyzer's, by the same names as ``Wa1kPcap``'s arguments
(``udp_timeout``, ``filter_ack``, ``bpf_filter``, ``app_layer_parsing`` …,
``threads``, ``stitch``, ``max_memory_mib``: 512 MiB unless given, ``None``
or 0 for no bound; ``hash_seed``, the key that spreads a large capture's
packets over the workers, hex digits or an int, else ``WA1KPCAP_HASH_SEED``,
else a secret drawn per dataset). Their defaults are those of
``wa1kpcap convert``, not of ``Wa1kPcap``: no default filter, so the
tables equal the CLI's dataset row for row (``default_filter=...`` gives
the reference's).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Optional, Union

import pyarrow as pa

from . import _native
from ._arrow import arrow_table
from .errors import CaptureError
from .filter import compile_filter
from .progress import progress_callback

PathLike = Union[str, Path]
_PARSING = {"full": True, "port_only": True, "none": False}


def parse_protocols(app_layer_parsing: str) -> bool:
    """``app_layer_parsing`` as the engine's switch: ``"full"`` and
    ``"port_only"`` parse by content (ports are hints either way),
    ``"none"`` parses nothing."""
    try:
        return _PARSING[app_layer_parsing]
    except (KeyError, TypeError):
        raise ValueError(f"app_layer_parsing must be 'full', 'port_only' or 'none', "
                         f"not {app_layer_parsing!r}") from None
_ENGINE_KEYS = {"udp_timeout", "tcp_cleanup_timeout", "filter_ack", "filter_rst", "filter_retrans",
                "compute_statistics", "enable_reassembly", "max_sequence_len", "max_flows", "threads", "stitch",
                "max_memory_mib", "hash_seed"}


def _paths(inputs: Union[PathLike, Iterable[PathLike]]) -> list[str]:
    if isinstance(inputs, (str, Path)):
        return [str(inputs)]
    return [str(p) for p in inputs]


def _engine_options(options: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    opts = dict(options)
    out: dict[str, Any] = {}
    flt = compile_filter(opts.pop("bpf_filter", None), opts.pop("default_filter", None))
    if flt.flow is not None:
        raise ValueError(f"filter {flt.text!r}: flow keywords (tls, dns, …) need Wa1kPcap; "
                         "here use SQL over the table, e.g. WHERE app_protocol = 'tls'")
    out["filter"] = flt.packet
    out["protocols"] = parse_protocols(opts.pop("app_layer_parsing", "full"))
    progress = opts.pop("progress", False)
    for k, v in opts.items():
        if k not in _ENGINE_KEYS:
            raise TypeError(f"unknown option {k!r}")
        out[k] = v
    return out, (progress_callback() if progress else None)


def read_tables(inputs, tables=("flows",), errors: str = "raise", **options) -> dict[str, pa.Table]:
    """The named tables (``flows``, ``packets``, ``dns``,
    ``tls_certificates``) of the captures, as ``pyarrow.Table`` with the
    dataset's schemas. A damaged capture raises ``CaptureError`` (its
    ``flows`` attribute holds the flows table of everything read, the
    other captures included); ``errors="warn"`` warns per damaged capture
    instead and returns the tables."""
    if errors not in ("raise", "warn"):
        raise ValueError("errors must be 'raise' or 'warn'")
    unknown = set(tables) - {"flows", "packets", "dns", "tls_certificates"}
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}")
    opts, cb = _engine_options(options)
    opts.update(packets="packets" in tables, dns="dns" in tables, certificates="tls_certificates" in tables)
    raw = _native.analyze(_paths(inputs), opts, cb)
    report = json.loads(raw.pop("report"))
    out = {name: arrow_table(raw[name]) for name in tables}
    bad = [r for r in report["inputs"] if r.get("error")]
    if bad and errors == "warn":
        import warnings

        for r in bad:
            warnings.warn(f"{r['path']}: {r['error']}", stacklevel=3)
    elif bad:
        raise CaptureError(bad[0]["path"], bad[0]["error"], out["flows"] if "flows" in out else None)
    return out


def read_flows(inputs, errors: str = "raise", **options) -> pa.Table:
    """The ``flows`` table of the captures (``schemas/flows.md``): a
    ``pyarrow.Table`` whose buffers the engine filled, handed over through
    the Arrow C stream interface without a copy. ``pl.from_arrow(t)``,
    ``pl.DataFrame(t)``, ``t.to_pandas()``, ``duckdb.sql('... FROM t')``
    take it as is."""
    return read_tables(inputs, ("flows",), errors=errors, **options)["flows"]


def convert(inputs, output: PathLike, partition_by: str = "none", format: str = "parquet",
            tables: Optional[Iterable[str]] = None, overwrite: bool = False, **options) -> dict:
    """Write the same dataset as ``wa1kpcap convert`` (layout, files,
    ``manifest.json``, flow ids; resumable) and return its manifest. A
    damaged capture is listed with its error in the manifest's ``inputs``
    (as the CLI does), not raised."""
    opts, cb = _engine_options(options)
    chosen = {"tls_certificates"} if tables is None else set(tables)
    unknown = chosen - {"packets", "dns", "tls_certificates", "none"}
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}")
    opts.update(partition_by=partition_by, format=format, overwrite=overwrite, packets="packets" in chosen,
                dns="dns" in chosen, certificates="tls_certificates" in chosen)
    return json.loads(_native.convert(_paths(inputs), str(output), opts, cb))


def write_sample(path: PathLike, kind: str = "sample", sessions: int = 20, ders=()) -> Path:
    """Write a generated capture and return its path: ``sample`` (the
    demo's mix: TLS, HTTP, DNS, IPv6, VLAN, fragments, GRE), ``traffic``
    (``sessions`` copies of it from as many clients) or ``tls_cert`` (a TLS
    1.2 session whose server sends the DER certificates ``ders``)."""
    _native.write_sample(str(path), kind, sessions, [bytes(d) for d in ders])
    return Path(path)
