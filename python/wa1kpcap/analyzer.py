"""``Wa1kPcap``: the reference's analyzer, every argument effective.

One call runs the Rust engine once (off the GIL, all cores, packet-parallel
for large files) and keeps its ``flows`` table; the returned ``Flow``
objects are views of its rows (``flow.py``). What each argument does:

==========================  ===================================================
``udp_timeout``             UDP flows idle longer than this end (0: never)
``tcp_cleanup_timeout``     TCP flows idle longer than this end (0.2.0: unused)
``filter_ack``              drop pure ACKs (no payload, no options)
``filter_rst``              drop packets with RST
``filter_retrans``          drop retransmissions (counted in ``retrans_count``)
``bpf_filter``              ``filter.py``: the reference's language or libpcap
``default_filter``          AND-ed packet filter; ``None`` or ``""`` disables
``min_packets``             drop flows with fewer counted packets
``verbose_mode``            keep the packets table: ``flow.packets``
``save_raw_bytes``          with ``verbose_mode``: ``ParsedPacket.raw_data``
``compute_statistics``      off: statistic columns are not computed (zeros)
``enable_reassembly``       IP fragment reassembly (0.2.0: unused)
``app_layer_parsing``       ``"full"``/``"port_only"``: TLS, QUIC, HTTP, DNS,
                            DHCP by content (ports are hints either way);
                            ``"none"``: no application parsing
==========================  ===================================================

Keyword-only extras: ``threads``, ``max_sequence_len``, ``max_flows``,
``max_memory_mib`` (no bound unless given: every flow is returned whole;
``convert`` and the CLI default to 512 MiB), ``progress`` (a progress bar
on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _native
from ._arrow import arrow_table, numpy
from .api import parse_protocols
from .errors import CaptureError
from .features import BaseIncrementalFeature, run_features
from .filter import DEFAULT_FILTER, compile_filter
from .flow import Flow, FlowTable
from .progress import progress_callback

PathLike = Union[str, Path]


class Wa1kPcap:
    def __init__(
        self,
        udp_timeout: float = 0,
        tcp_cleanup_timeout: float = 300.0,
        filter_ack: bool = False,
        filter_rst: bool = False,
        filter_retrans: bool = True,
        bpf_filter: Optional[str] = None,
        default_filter: Optional[str] = DEFAULT_FILTER,
        min_packets: int = 1,
        verbose_mode: bool = False,
        save_raw_bytes: bool = False,
        compute_statistics: bool = True,
        enable_reassembly: bool = True,
        app_layer_parsing: str = "full",
        *,
        threads: Optional[int] = None,
        max_sequence_len: Optional[int] = None,
        max_flows: int = 1_000_000,
        max_memory_mib: Optional[int] = None,
        progress: bool = False,
    ):
        protocols = parse_protocols(app_layer_parsing)
        if udp_timeout < 0 or tcp_cleanup_timeout < 0:
            raise ValueError("timeouts must be ≥ 0")
        if int(min_packets) < 0:
            raise ValueError("min_packets must be ≥ 0")
        self.udp_timeout = udp_timeout
        self.tcp_cleanup_timeout = tcp_cleanup_timeout
        self.filter_ack = filter_ack
        self.filter_rst = filter_rst
        self.filter_retrans = filter_retrans
        self.bpf_filter = bpf_filter
        self.default_filter = default_filter
        self.min_packets = int(min_packets)
        self.verbose_mode = verbose_mode
        self.save_raw_bytes = save_raw_bytes
        self.compute_statistics = compute_statistics
        self.enable_reassembly = enable_reassembly
        self.app_layer_parsing = app_layer_parsing
        self._protocols = protocols
        self.threads = threads
        self.max_sequence_len = max_sequence_len
        self.max_flows = max_flows
        self.max_memory_mib = max_memory_mib
        self.progress = progress
        # Compiled now, so a bad filter is a ValueError at construction.
        self._filter = compile_filter(bpf_filter, default_filter)
        self._custom_features: dict[str, BaseIncrementalFeature] = {}
        self._stats = _empty_stats()

    # -- the engine's options for one call
    def _options(self) -> dict[str, Any]:
        # Packets are kept only when someone will read them.
        packets = bool(self.verbose_mode or self._custom_features)
        return {
            "udp_timeout": float(self.udp_timeout),
            "tcp_cleanup_timeout": float(self.tcp_cleanup_timeout),
            "filter_ack": bool(self.filter_ack),
            "filter_rst": bool(self.filter_rst),
            "filter_retrans": bool(self.filter_retrans),
            "compute_statistics": bool(self.compute_statistics),
            "enable_reassembly": bool(self.enable_reassembly),
            "protocols": self._protocols,
            "max_sequence_len": self.max_sequence_len,
            "max_flows": int(self.max_flows),
            "max_memory_mib": self.max_memory_mib,
            "threads": self.threads,
            "filter": self._filter.packet,
            "packets": packets,
            "raw_bytes": bool(self.save_raw_bytes and packets),
            "certificates": False,
        }

    def register_feature(self, name: str, processor: BaseIncrementalFeature) -> None:
        """Add a custom incremental feature (``features.py``): after the
        engine's pass, ``processor.initialize(flow)``, then
        ``processor.update(flow, pkt)`` for each packet, then
        ``processor.get_value(flow)``; read back with
        ``flow.get_features()``. Opt-in: it makes the engine keep the
        packets table and runs Python per packet."""
        for method in ("initialize", "update", "get_value"):
            if not callable(getattr(processor, method, None)):
                raise TypeError(f"a feature processor needs a {method}() method")
        self._custom_features[name] = processor

    def _run(self, paths: list[Path]) -> dict:
        result = _native.analyze([str(p) for p in paths], self._options(),
                                 progress_callback() if self.progress else None)
        report = json.loads(result.pop("report"))
        return {"tables": result, "report": report}

    def _flows(self, flows: pa.Table, packets: Optional[pa.Table]) -> list[Flow]:
        """Views of the kept rows, by (start time, flow id): filters and the
        order are row numbers, so the engine's table is never copied."""
        keep = np.ones(flows.num_rows, dtype=bool)
        mask = self._filter.flow_mask(flows)
        if mask is not None:
            keep &= numpy(pc.fill_null(mask, False))
        if self.min_packets > 1:
            keep &= numpy(flows.column("packet_count")) >= self.min_packets
        start = numpy(pc.cast(flows.column("start_time"), pa.int64()))
        order = np.lexsort((numpy(flows.column("flow_id")), start))
        rows = order[keep[order]]
        table = FlowTable(flows, packets)
        if self._custom_features:
            run_features(table, self._custom_features, rows)
        return [Flow(table, i) for i in rows.tolist()]

    def _account(self, report: dict, flows_returned: int, files: int) -> None:
        s = report["summary"]
        t = s.get("table", {})
        self._stats["files_processed"] += files
        self._stats["packets_processed"] += s.get("packets_read", 0)
        self._stats["packets_filtered"] += s.get("packets_filtered_expr", 0) + sum(
            t.get(k, 0) for k in ("packets_filtered_ack", "packets_filtered_rst", "packets_filtered_retrans"))
        self._stats["flows_created"] += flows_returned

    def analyze_file(self, pcap_path: PathLike) -> list[Flow]:
        """The flows of one capture (pcap µs/ns, pcapng, gzip/zstd), sorted
        by start time. ``FileNotFoundError`` if it is missing; a
        ``CaptureError`` if it is damaged, with the flows of the packets
        before the damage in its ``flows``."""
        path = Path(pcap_path)
        if not path.is_file():
            raise FileNotFoundError(2, "No such file", str(path))
        run = self._run([path])
        tables, report = run["tables"], run["report"]
        flows = self._flows(arrow_table(tables["flows"]), _maybe(tables["packets"]))
        self._account(report, len(flows), 1)
        error = report["inputs"][0].get("error") if report["inputs"] else None
        if error:
            self._stats["errors"].append(f"{path}: {error}")
            raise CaptureError(str(path), error, flows)
        return flows

    def analyze_directory(self, directory: PathLike, pattern: str = "*.pcap") -> dict[str, list[Flow]]:
        """Every capture in ``directory`` matching ``pattern`` (any format
        the engine reads), analysed in one engine run (files side by side on
        all cores). Keys are the paths relative to ``directory``; a file
        that fails is left out and its error appended to
        ``stats['errors']``."""
        root = Path(directory)
        if not root.is_dir():
            raise FileNotFoundError(2, "No such directory", str(root))
        files = sorted(p for p in root.glob(pattern) if p.is_file())
        if not files:
            return {}
        run = self._run(files)
        tables, report = run["tables"], run["report"]
        flows_all = arrow_table(tables["flows"])
        packets_all = _maybe(tables["packets"])
        # Job i is input i here, flow ids carry it in their high bits, and
        # the engine hands out every table grouped by job.
        def jobs(t: pa.Table) -> np.ndarray:
            return numpy(pc.shift_right(t.column("flow_id"), 40))

        job = jobs(flows_all)
        packet_job = None if packets_all is None else jobs(packets_all)
        out: dict[str, list[Flow]] = {}
        total = 0
        for i, (path, rep) in enumerate(zip(files, report["inputs"])):
            name = str(path.relative_to(root))
            if rep.get("error"):
                self._stats["errors"].append(f"{path}: {rep['error']}")
                continue
            packets = None if packets_all is None else _rows_of_job(packets_all, packet_job, i)
            out[name] = self._flows(_rows_of_job(flows_all, job, i), packets)
            total += len(out[name])
        self._account(report, total, len(files))
        return out

    @property
    def stats(self) -> dict:
        """Cumulative over calls: files, packets read, packets filtered
        (filter, ACK/RST, retransmissions), flows returned, errors."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self._stats.items()}

    def reset_stats(self) -> None:
        self._stats = _empty_stats()


def _empty_stats() -> dict:
    return {"files_processed": 0, "packets_processed": 0, "packets_filtered": 0, "flows_created": 0, "errors": []}


def _rows_of_job(t: pa.Table, job: np.ndarray, i: int) -> pa.Table:
    """The rows of job ``i`` (``job`` sorted, as the engine writes it)."""
    lo, hi = np.searchsorted(job, i, "left"), np.searchsorted(job, i, "right")
    return t.slice(lo, hi - lo)


def _maybe(t) -> Optional[pa.Table]:
    return None if t is None else arrow_table(t)
