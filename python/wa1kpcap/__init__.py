"""wa1kpcap: packet captures to flow features, on a Rust engine.

The API of wa1kpcap 0.2.0 (``Wa1kPcap().analyze_file(p)``,
``to_dataframe(flows)``, the exporters), every argument effective, plus
Arrow-native calls: ``read_flows`` (the dataset's ``flows`` table in memory,
no copy) and ``convert`` (the same dataset as ``wa1kpcap convert``).
"""

from ._native import __version__
from .analyzer import Wa1kPcap
from .api import convert, read_flows, read_tables, write_sample
from .errors import CaptureError
from .exporters import FlowExporter, to_arrow, to_csv, to_dataframe, to_dict, to_json, to_list_of_dicts
from .features import BaseIncrementalFeature, FeatureType
from .filter import DEFAULT_FILTER, compile_filter
from .flow import DNSInfo, Flow, FlowFeatures, FlowKey, FlowMetrics, HTTPInfo, QUICInfo, TLSInfo
from .packet import ParsedPacket

__all__ = [
    "__version__", "Wa1kPcap", "Flow", "FlowKey", "FlowMetrics", "FlowFeatures", "TLSInfo", "HTTPInfo",
    "DNSInfo", "QUICInfo", "ParsedPacket", "BaseIncrementalFeature", "FeatureType", "CaptureError",
    "to_dataframe", "to_dict", "to_list_of_dicts", "to_json", "to_csv", "to_arrow", "FlowExporter",
    "read_flows", "read_tables", "convert", "write_sample", "compile_filter", "DEFAULT_FILTER",
]
