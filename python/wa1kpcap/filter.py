"""Filters: the reference's ``bpf_filter`` language, made to mean what it says.

wa1kpcap 0.2.0 takes a small language of its own (``tcp``, ``host 10.0.0.1``,
``port 443``, ``dns``, ``tls`` … joined by ``and``/``or``/``not`` and
parentheses). Its filter silently stops filtering packets when an
application keyword appears, and its ``gre``/``vxlan``/``vlan`` filters
match nothing. Here:

* an expression made only of packet keywords becomes a libpcap expression
  for the engine's packet filter (``icmpv6`` → ``icmp6``, ``dhcp`` → UDP
  ports 67/68, …), evaluated on every packet as decoded (through VLAN, MPLS
  and tunnels);
* an expression with a flow keyword (``tls``, ``http``, ``dns``, ``quic``,
  ``gre``, ``vxlan``, ``vlan``, ``mpls``) is evaluated per *flow* on the
  flow's columns: ``tls`` is ``app_protocol == 'tls'`` found in its bytes (not by port), ``host X`` is either
  end of the flow, ``src X`` its up side (the first packet's sender);
* anything the reference language cannot read is tried as libpcap syntax
  (``tcp port 443``, ``net 10.0.0.0/8``) and, failing both, is a
  ``ValueError`` naming the problem.

The default filter (the reference's: no ARP, ICMP, ICMPv6, DHCP, DHCPv6)
is always a packet filter, also when ``bpf_filter`` is a flow filter.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Optional, Union

import pyarrow as pa
import pyarrow.compute as pc

from . import _native
from ._arrow import parsed_app

DEFAULT_FILTER = "not arp and not icmp and not icmpv6 and not dhcp and not dhcpv6"

# Keywords that name a property of the whole flow, not of one packet.
FLOW_KEYWORDS = {"tls", "http", "dns", "quic", "gre", "vxlan", "vlan", "mpls"}
PACKET_KEYWORDS = {"tcp", "udp", "icmp", "icmpv6", "arp", "ip", "ipv6", "dhcp", "dhcpv6"}
_LIBPCAP = {
    "tcp": "tcp",
    "udp": "udp",
    "icmp": "icmp",
    "icmpv6": "icmp6",
    "arp": "arp",
    "ip": "ip",
    "ipv6": "ip6",
    "dhcp": "(udp port 67 or udp port 68)",
    "dhcpv6": "(udp port 546 or udp port 547)",
}


@dataclass(frozen=True)
class _Atom:
    kind: str  # a keyword, or host/src/dst, port/src_port/dst_port
    value: Optional[str] = None


@dataclass(frozen=True)
class _Not:
    arg: "_Node"


@dataclass(frozen=True)
class _Bin:
    op: str  # "and" | "or"
    left: "_Node"
    right: "_Node"


_Node = Union[_Atom, _Not, _Bin]


class _Syntax(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for word in text.replace("(", " ( ").replace(")", " ) ").split():
        out.append(word if word in "()" else word.lower() if not _is_ip(word) else word)
    return out


def _is_ip(word: str) -> bool:
    try:
        ipaddress.ip_address(word)
        return True
    except ValueError:
        return False


def _port(word: Optional[str]) -> str:
    if word is None or not word.isdigit() or not 0 <= int(word) <= 65535:
        raise _Syntax(f"a port number is needed, not {word!r}")
    return str(int(word))


def _ip(word: Optional[str]) -> str:
    if word is None or not _is_ip(word):
        raise _Syntax(f"an IP address is needed, not {word!r}")
    return str(ipaddress.ip_address(word))


class _Parser:
    """or_expr := and_expr ('or' and_expr)*; and_expr := not_expr ('and'
    not_expr)*; not_expr := 'not' not_expr | '(' or_expr ')' | atom — the
    reference's grammar (C precedence: ``and`` binds tighter)."""

    def __init__(self, text: str):
        self.t = _tokens(text)
        self.i = 0

    def peek(self) -> Optional[str]:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> Optional[str]:
        w = self.peek()
        self.i += 1
        return w

    def parse(self) -> _Node:
        if not self.t:
            raise _Syntax("empty filter")
        node = self.or_expr()
        if self.peek() is not None:
            raise _Syntax(f"unexpected {self.peek()!r}")
        return node

    def or_expr(self) -> _Node:
        node = self.and_expr()
        while self.peek() in ("or", "||"):
            self.take()
            node = _Bin("or", node, self.and_expr())
        return node

    def and_expr(self) -> _Node:
        node = self.not_expr()
        while self.peek() in ("and", "&&"):
            self.take()
            node = _Bin("and", node, self.not_expr())
        return node

    def not_expr(self) -> _Node:
        w = self.peek()
        if w in ("not", "!"):
            self.take()
            return _Not(self.not_expr())
        if w == "(":
            self.take()
            node = self.or_expr()
            if self.take() != ")":
                raise _Syntax("missing ')'")
            return node
        return self.atom()

    def atom(self) -> _Node:
        w = self.take()
        if w is None:
            raise _Syntax("expression ends too early")
        if w in PACKET_KEYWORDS or w in FLOW_KEYWORDS:
            return _Atom(w)
        if w in ("src", "dst"):
            if self.peek() == "port":
                self.take()
                return _Atom(f"{w}_port", _port(self.take()))
            if self.peek() == "host":
                self.take()
            return _Atom(w, _ip(self.take()))
        if w == "host":
            return _Atom("host", _ip(self.take()))
        if w == "port":
            return _Atom("port", _port(self.take()))
        if _is_ip(w):
            return _Atom("host", _ip(w))
        raise _Syntax(f"unknown word {w!r}")


def _has_flow_atom(n: _Node) -> bool:
    if isinstance(n, _Atom):
        return n.kind in FLOW_KEYWORDS
    if isinstance(n, _Not):
        return _has_flow_atom(n.arg)
    return _has_flow_atom(n.left) or _has_flow_atom(n.right)


def _libpcap(n: _Node) -> str:
    if isinstance(n, _Not):
        return f"not ({_libpcap(n.arg)})"
    if isinstance(n, _Bin):
        return f"({_libpcap(n.left)}) {n.op} ({_libpcap(n.right)})"
    k, v = n.kind, n.value
    if k in _LIBPCAP:
        return _LIBPCAP[k]
    if k == "host":
        return f"host {v}"
    if k in ("src", "dst"):
        return f"{k} host {v}"
    if k == "port":
        return f"port {v}"
    if k in ("src_port", "dst_port"):
        return f"{k.split('_')[0]} port {v}"
    raise _Syntax(f"{k!r} is a flow keyword")  # never: checked before


def _flow_mask(n: _Node, t: pa.Table) -> pa.ChunkedArray:
    """The expression as a boolean per flow of ``t`` (a flows table)."""
    if isinstance(n, _Not):
        return pc.invert(_flow_mask(n.arg, t))
    if isinstance(n, _Bin):
        f = pc.and_kleene if n.op == "and" else pc.or_kleene
        return f(_flow_mask(n.left, t), _flow_mask(n.right, t))
    k, v = n.kind, n.value
    proto = t.column("protocol")
    v6 = pc.match_substring(t.column("src_ip"), ":")
    app = pc.fill_null(parsed_app(t), "")

    def const(b: bool):
        return pa.chunked_array([pa.array([b] * t.num_rows, pa.bool_())])

    if k in ("tcp", "udp", "icmp", "icmpv6"):
        return pc.equal(proto, {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}[k])
    if k == "ip":
        return pc.invert(v6)
    if k == "ipv6":
        return v6
    if k == "arp":
        return const(False)  # ARP never forms a flow
    if k in ("tls", "http", "dns", "quic"):
        return pc.equal(app, k)
    if k in ("dhcp", "dhcpv6"):
        return pc.and_(pc.equal(app, "dhcp"), v6 if k == "dhcpv6" else pc.invert(v6))
    if k == "vlan":
        return pc.not_equal(t.column("vlan_id"), 0)
    if k == "gre":
        return pc.is_in(t.column("tunnel"), pa.array(["gre", "erspan"]))
    if k == "vxlan":
        return pc.equal(t.column("tunnel"), "vxlan")
    if k == "mpls":
        return const(False)  # MPLS labels are not kept per flow
    if k == "host":
        return pc.or_(pc.equal(t.column("src_ip"), v), pc.equal(t.column("dst_ip"), v))
    if k in ("src", "dst"):
        return pc.equal(t.column(f"{k}_ip"), v)
    if k == "port":
        p = int(v)
        return pc.or_(pc.equal(t.column("src_port"), p), pc.equal(t.column("dst_port"), p))
    if k in ("src_port", "dst_port"):
        return pc.equal(t.column(k), int(v))
    raise _Syntax(f"unknown word {k!r}")


@dataclass
class CompiledFilter:
    """``packet``: a libpcap expression for the engine (None: every packet);
    ``flow``: a predicate over the flows table (None: every flow)."""

    packet: Optional[str]
    flow: Optional[_Node]
    text: str

    def flow_mask(self, table: pa.Table):
        return None if self.flow is None else _flow_mask(self.flow, table)


def _one(text: str) -> tuple[Optional[str], Optional[_Node]]:
    """(libpcap text, flow predicate) of one expression."""
    try:
        ast = _Parser(text).parse()
    except _Syntax as ref_error:
        try:
            _native.check_filter(text)
        except ValueError as pcap_error:
            raise ValueError(
                f"invalid filter {text!r}: not the reference's filter language "
                f"({ref_error}) nor libpcap syntax ({pcap_error})"
            ) from None
        return text, None
    if _has_flow_atom(ast):
        return None, ast
    return _libpcap(ast), None


def compile_filter(bpf_filter: Optional[str], default_filter: Optional[str] = DEFAULT_FILTER) -> CompiledFilter:
    """Compile the analyzer's two filters (AND-ed, as in the reference)."""
    packet: list[str] = []
    flow: Optional[_Node] = None
    for text in (default_filter, bpf_filter):
        if text is None or not text.strip():
            continue
        p, f = _one(text)
        if p is not None:
            packet.append(p)
        if f is not None:
            flow = f if flow is None else _Bin("and", flow, f)
    expr = " and ".join(f"({p})" for p in packet) if packet else None
    if expr is not None:
        _native.check_filter(expr)
    text = " and ".join(t for t in (default_filter, bpf_filter) if t and t.strip())
    return CompiledFilter(packet=expr, flow=flow, text=text)
