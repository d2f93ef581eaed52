//! Packet filters in libpcap syntax (pcap-filter(7)), evaluated on decoded
//! packets: what `convert --filter EXPR` keeps.
//!
//! Owns: parsing a filter expression into a small tree of primitives
//! ([`PacketFilter::parse`]) and testing that tree against a
//! [`Packet`] ([`PacketFilter::matches`], no allocation per packet).
//! Does not own: decoding (the filter only reads what [`crate::decode`]
//! found), name resolution (host and network names are refused, never looked
//! up) or choosing which packets a pipeline filters.
//!
//! Semantics follow libpcap where they can, with one deliberate difference:
//! `host`, `net`, `port`, `proto`, `ip`, `ip6`, `tcp` … look at the
//! **innermost** IP header the decoder reached, through VLAN tags, MPLS,
//! PPPoE and tunnels (GRE, VXLAN, Geneve, GTP-U, IP-in-IP). libpcap looks
//! only at the outermost headers, so `tcp port 443` there misses VLAN-tagged
//! or tunnelled traffic; here it matches it. The grammar, every primitive and
//! the other (small) differences are listed in `schemas/filter.md`.
//!
//! Precedence is libpcap's: `not` binds tightest, `and` and `or` have equal
//! precedence and associate left to right (`a or b and c` is
//! `(a or b) and c`). A bare identifier after `and`/`or` repeats the
//! qualifiers of the primitive before it (`tcp port 80 or 8080`).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use crate::decode::{Layer, Packet, Transport};

/// Parentheses and `not`s nest at most this deep (the parser and the
/// evaluator recurse on them; `and`/`or` chains do not recurse).
const MAX_NESTING: usize = 64;

/// Why a filter expression was refused. `column` is 1-based, in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The parser needed something else here.
    #[error("filter column {column}: expected {expected}, found {found}")]
    Expected {
        column: usize,
        expected: &'static str,
        /// The offending text in backquotes, or "end of expression".
        found: String,
    },
    /// A libpcap keyword or construct this filter does not implement.
    #[error("filter column {column}: `{word}` is not supported: {why}")]
    Unsupported {
        column: usize,
        word: String,
        why: &'static str,
    },
    /// Well-formed, but out of range or contradictory (as libpcap rejects it).
    #[error("filter column {column}: `{word}`: {problem}")]
    Invalid {
        column: usize,
        word: String,
        problem: &'static str,
    },
}

/// A compiled filter expression.
#[derive(Debug, Clone)]
pub struct PacketFilter {
    expr: String,
    /// `None` for an empty expression, which (as in libpcap) matches all.
    root: Option<Node>,
}

impl PacketFilter {
    /// Compile `expr` (pcap-filter(7) syntax, see the module docs).
    pub fn parse(expr: &str) -> Result<PacketFilter, FilterError> {
        let tokens = lex(expr)?;
        let mut parser = Parser {
            src: expr,
            tokens,
            at: 0,
            depth: 0,
        };
        let root = parser.program()?;
        Ok(PacketFilter {
            expr: expr.to_owned(),
            root,
        })
    }

    /// Does the decoded packet `p` pass? `wire_len` is the original frame
    /// length (for `len`, `less`, `greater`).
    pub fn matches(&self, p: &Packet<'_>, wire_len: u32) -> bool {
        match &self.root {
            Some(node) => node.eval(p, wire_len),
            None => true,
        }
    }

    /// The source text the filter was compiled from.
    pub fn expr(&self) -> &str {
        &self.expr
    }
}

impl FromStr for PacketFilter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<PacketFilter, FilterError> {
        PacketFilter::parse(s)
    }
}

impl fmt::Display for PacketFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

// ---------------------------------------------------------------------------
// The compiled tree and its evaluation.

#[derive(Debug, Clone)]
enum Node {
    Prim(Prim),
    Not(Box<Node>),
    /// `first join₁ n₁ join₂ n₂ …` folded left to right: `and` and `or`
    /// have equal precedence in libpcap.
    Chain(Box<Node>, Vec<(Join, Node)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    And,
    Or,
}

/// Which address or port of a packet a primitive tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Src,
    Dst,
    SrcOrDst,
    SrcAndDst,
}

/// An IPv4 or IPv6 prefix (a host is a full-length prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IpNet {
    V4 { net: u32, mask: u32 },
    V6 { net: u128, mask: u128 },
}

/// Transport protocols a port test applies to, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PortProtos(u8);

/// IP versions a protocol-number test applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Any,
    V4,
    V6,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RelOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prim {
    /// `host`, `net`: the innermost IP source and/or destination.
    Net {
        net: IpNet,
        dir: Dir,
    },
    /// `port`, `portrange`: inclusive range on TCP/UDP/SCTP ports.
    Port {
        protos: PortProtos,
        dir: Dir,
        lo: u16,
        hi: u16,
    },
    /// `ip proto N`, `tcp`, `icmp` …: the innermost IP protocol number.
    Proto {
        family: Family,
        number: u8,
    },
    /// `ip` (4) or `ip6` (6): the innermost IP version.
    IpVersion(u8),
    Arp,
    /// `vlan` (any tag) or `vlan N` (the VLAN id of the innermost tag).
    Vlan(Option<u16>),
    Mpls,
    /// `len <op> N`, `less N`, `greater N` on the wire length.
    Len {
        op: RelOp,
        bytes: u32,
    },
}

impl Node {
    fn eval(&self, p: &Packet<'_>, wire_len: u32) -> bool {
        match self {
            Node::Prim(prim) => prim.matches(p, wire_len),
            Node::Not(n) => !n.eval(p, wire_len),
            Node::Chain(first, rest) => {
                let mut acc = first.eval(p, wire_len);
                for (join, n) in rest {
                    acc = match join {
                        Join::And => acc && n.eval(p, wire_len),
                        Join::Or => acc || n.eval(p, wire_len),
                    };
                }
                acc
            }
        }
    }
}

impl Dir {
    #[inline]
    fn test<T: Copy>(self, src: T, dst: T, f: impl Fn(T) -> bool) -> bool {
        match self {
            Dir::Src => f(src),
            Dir::Dst => f(dst),
            Dir::SrcOrDst => f(src) || f(dst),
            Dir::SrcAndDst => f(src) && f(dst),
        }
    }
}

impl IpNet {
    #[inline]
    fn contains(self, a: IpAddr) -> bool {
        match (self, a) {
            (IpNet::V4 { net, mask }, IpAddr::V4(a)) => u32::from(a) & mask == net,
            (IpNet::V6 { net, mask }, IpAddr::V6(a)) => u128::from(a) & mask == net,
            _ => false,
        }
    }
}

impl PortProtos {
    const TCP: PortProtos = PortProtos(1);
    const UDP: PortProtos = PortProtos(2);
    const SCTP: PortProtos = PortProtos(4);
    const TCP_UDP: PortProtos = PortProtos(3);
    const ALL: PortProtos = PortProtos(7);

    #[inline]
    fn has_ip_proto(self, number: u8) -> bool {
        let bit = match number {
            6 => 1,
            17 => 2,
            132 => 4,
            _ => return false,
        };
        self.0 & bit != 0
    }

    fn intersect(self, other: PortProtos) -> PortProtos {
        PortProtos(self.0 & other.0)
    }
}

impl RelOp {
    #[inline]
    fn holds(self, a: u32, b: u32) -> bool {
        match self {
            RelOp::Lt => a < b,
            RelOp::Le => a <= b,
            RelOp::Gt => a > b,
            RelOp::Ge => a >= b,
            RelOp::Eq => a == b,
            RelOp::Ne => a != b,
        }
    }
}

impl Prim {
    fn matches(&self, p: &Packet<'_>, wire_len: u32) -> bool {
        match *self {
            Prim::Net { net, dir } => match &p.ip {
                Some(ip) => dir.test(ip.src, ip.dst, |a| net.contains(a)),
                None => false,
            },
            Prim::Port {
                protos,
                dir,
                lo,
                hi,
            } => match ports(p, protos) {
                Some((src, dst)) => dir.test(src, dst, |port| lo <= port && port <= hi),
                None => false,
            },
            Prim::Proto { family, number } => match &p.ip {
                Some(ip) => {
                    let family_ok = match family {
                        Family::Any => true,
                        Family::V4 => ip.version == 4,
                        Family::V6 => ip.version == 6,
                    };
                    family_ok && ip.protocol == number
                }
                None => false,
            },
            Prim::IpVersion(v) => p.ip.as_ref().is_some_and(|ip| ip.version == v),
            Prim::Arp => p.layers.contains(Layer::Arp),
            Prim::Vlan(None) => p.layers.contains(Layer::Vlan),
            Prim::Vlan(Some(id)) => p.vlan_id == Some(id),
            Prim::Mpls => p.layers.contains(Layer::Mpls),
            Prim::Len { op, bytes } => op.holds(wire_len, bytes),
        }
    }
}

/// (source, destination) port of the innermost transport header when its
/// protocol is in `protos`. As libpcap: the first fragment of an IPv4
/// datagram has ports (read from its payload), later fragments have none,
/// and IPv6 fragments have none. A header cut too short to decode still has
/// ports when its first 4 bytes are there.
fn ports(p: &Packet<'_>, protos: PortProtos) -> Option<(u16, u16)> {
    let ip = p.ip.as_ref()?;
    if !protos.has_ip_proto(ip.protocol) {
        return None;
    }
    match p.transport {
        Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
        Transport::Udp(u) => Some((u.src_port, u.dst_port)),
        Transport::Sctp(s) => Some((s.src_port, s.dst_port)),
        Transport::Fragment | Transport::None => {
            if let Some(f) = ip.fragment {
                if ip.version != 4 || f.offset_bytes != 0 {
                    return None;
                }
            }
            match ip.payload() {
                [a, b, c, d, ..] => {
                    Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d])))
                }
                _ => None,
            }
        }
        Transport::Icmp(_) | Transport::Icmpv6(_) | Transport::Other(_) => None,
    }
}

// ---------------------------------------------------------------------------
// Registries (data, not match arms).

/// Service names libpcap resolves through /etc/services, as Debian's netbase
/// lists them: a name registered for TCP only matches TCP (`port http`).
const PORT_NAMES: &[(&str, u16, PortProtos)] = &[
    ("tcpmux", 1, PortProtos::TCP),
    ("echo", 7, PortProtos::TCP_UDP),
    ("discard", 9, PortProtos::TCP_UDP),
    ("daytime", 13, PortProtos::TCP_UDP),
    ("ftp-data", 20, PortProtos::TCP),
    ("ftp", 21, PortProtos::TCP),
    ("ssh", 22, PortProtos::TCP),
    ("telnet", 23, PortProtos::TCP),
    ("smtp", 25, PortProtos::TCP),
    ("time", 37, PortProtos::TCP_UDP),
    ("whois", 43, PortProtos::TCP),
    ("tacacs", 49, PortProtos::TCP_UDP),
    ("domain", 53, PortProtos::TCP_UDP),
    ("bootps", 67, PortProtos::UDP),
    ("bootpc", 68, PortProtos::UDP),
    ("tftp", 69, PortProtos::UDP),
    ("gopher", 70, PortProtos::TCP),
    ("finger", 79, PortProtos::TCP),
    ("http", 80, PortProtos::TCP),
    ("www", 80, PortProtos::TCP),
    ("kerberos", 88, PortProtos::TCP_UDP),
    ("pop3", 110, PortProtos::TCP),
    ("sunrpc", 111, PortProtos::TCP_UDP),
    ("auth", 113, PortProtos::TCP),
    ("nntp", 119, PortProtos::TCP),
    ("ntp", 123, PortProtos::UDP),
    ("epmap", 135, PortProtos::TCP),
    ("netbios-ns", 137, PortProtos::UDP),
    ("netbios-dgm", 138, PortProtos::UDP),
    ("netbios-ssn", 139, PortProtos::TCP),
    ("imap", 143, PortProtos::TCP),
    ("imap2", 143, PortProtos::TCP),
    ("snmp", 161, PortProtos::TCP_UDP),
    ("snmp-trap", 162, PortProtos::TCP_UDP),
    ("snmptrap", 162, PortProtos::TCP_UDP),
    ("bgp", 179, PortProtos::TCP),
    ("ldap", 389, PortProtos::TCP_UDP),
    ("https", 443, PortProtos::TCP_UDP),
    ("microsoft-ds", 445, PortProtos::TCP),
    ("isakmp", 500, PortProtos::UDP),
    ("syslog", 514, PortProtos::TCP_UDP),
    ("printer", 515, PortProtos::TCP),
    ("rtsp", 554, PortProtos::TCP_UDP),
    ("submission", 587, PortProtos::TCP),
    ("ldaps", 636, PortProtos::TCP_UDP),
    ("imaps", 993, PortProtos::TCP),
    ("pop3s", 995, PortProtos::TCP),
    ("openvpn", 1194, PortProtos::TCP_UDP),
    ("radius", 1812, PortProtos::TCP_UDP),
    ("nfs", 2049, PortProtos::TCP_UDP),
    ("mysql", 3306, PortProtos::TCP),
    ("ms-wbt-server", 3389, PortProtos::TCP),
    ("sip", 5060, PortProtos::TCP_UDP),
    ("xmpp-client", 5222, PortProtos::TCP),
    ("postgresql", 5432, PortProtos::TCP),
];

/// IP protocol names (/etc/protocols) for `ip proto \name`.
const PROTO_NAMES: &[(&str, u8)] = &[
    ("ip", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ipencap", 4),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("ipv6", 41),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("icmp6", 58),
    ("ospf", 89),
    ("pim", 103),
    ("vrrp", 112),
    ("l2tp", 115),
    ("sctp", 132),
];

/// libpcap keywords this filter does not implement (refused by name rather
/// than as a syntax error).
const UNSUPPORTED_KEYWORDS: &[&str] = &[
    "ether",
    "fddi",
    "tr",
    "wlan",
    "link",
    "ppp",
    "slip",
    "radio",
    "rarp",
    "decnet",
    "atalk",
    "aarp",
    "iso",
    "stp",
    "ipx",
    "netbeui",
    "lat",
    "moprc",
    "mopdl",
    "carp",
    "igrp",
    "gateway",
    "broadcast",
    "multicast",
    "protochain",
    "inbound",
    "outbound",
    "ifname",
    "on",
    "rnr",
    "rulenum",
    "reason",
    "rset",
    "ruleset",
    "srnr",
    "subrulenum",
    "action",
    "type",
    "subtype",
    "dir",
    "llc",
    "pppoed",
    "pppoes",
    "geneve",
    "clnp",
    "esis",
    "isis",
    "l1",
    "l2",
    "iih",
    "lsp",
    "snp",
    "csnp",
    "psnp",
    "vpi",
    "vci",
    "lane",
    "oamf4s",
    "oamf4e",
    "oamf4",
    "oam",
    "metac",
    "bcc",
    "sc",
    "ilmic",
    "connectmsg",
    "metaconnect",
    "ra",
    "ta",
    "addr1",
    "addr2",
    "addr3",
    "addr4",
];

/// Keywords of the supported grammar (besides `and`, `or`, `not`).
const KEYWORDS: &[&str] = &[
    "host",
    "net",
    "mask",
    "port",
    "portrange",
    "src",
    "dst",
    "proto",
    "ip",
    "ip6",
    "tcp",
    "udp",
    "sctp",
    "icmp",
    "icmp6",
    "igmp",
    "ah",
    "esp",
    "pim",
    "vrrp",
    "arp",
    "vlan",
    "mpls",
    "less",
    "greater",
    "len",
];

const UNSUPPORTED_WHY: &str = "this libpcap primitive is not implemented (see schemas/filter.md)";

fn is_keyword(w: &str) -> bool {
    KEYWORDS.contains(&w) || UNSUPPORTED_KEYWORDS.contains(&w)
}

// ---------------------------------------------------------------------------
// Lexer.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    /// Keyword, number, address or name.
    Word(&'a str),
    /// `\name`: a name that would otherwise be a keyword (`ip proto \tcp`).
    Escaped(&'a str),
    LParen,
    RParen,
    And,
    Or,
    Not,
    Slash,
    Rel(RelOp),
    End,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    tok: Tok<'a>,
    /// Byte offset of the token's first character.
    pos: usize,
    text: &'a str,
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

fn is_word_char(c: u8) -> bool {
    is_word_start(c) || c == b'.' || c == b'-'
}

fn column(src: &str, pos: usize) -> usize {
    src.get(..pos).map_or(pos, |s| s.chars().count()) + 1
}

const ARITHMETIC: &str =
    "arithmetic and packet-byte expressions (proto[offset]) are not implemented";

fn lex(src: &str) -> Result<Vec<Token<'_>>, FilterError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let next = b.get(i + 1).copied();
        let (tok, len) = match (c, next) {
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'/', _) => (Tok::Slash, 1),
            (b'&', Some(b'&')) => (Tok::And, 2),
            (b'|', Some(b'|')) => (Tok::Or, 2),
            (b'!', Some(b'=')) => (Tok::Rel(RelOp::Ne), 2),
            (b'!', _) => (Tok::Not, 1),
            (b'=', Some(b'=')) => (Tok::Rel(RelOp::Eq), 2),
            (b'=', _) => (Tok::Rel(RelOp::Eq), 1),
            (b'<', Some(b'=')) => (Tok::Rel(RelOp::Le), 2),
            (b'>', Some(b'=')) => (Tok::Rel(RelOp::Ge), 2),
            (b'<' | b'>', Some(b'<' | b'>')) => {
                return Err(unsupported(src, start, &src[start..start + 2], ARITHMETIC))
            }
            (b'<', _) => (Tok::Rel(RelOp::Lt), 1),
            (b'>', _) => (Tok::Rel(RelOp::Gt), 1),
            (b'\\', _) => {
                let end = scan_word(b, i + 1);
                if end == i + 1 {
                    return Err(FilterError::Expected {
                        column: column(src, start),
                        expected: "a name after `\\`",
                        found: found_at(src, i + 1),
                    });
                }
                (Tok::Escaped(&src[i + 1..end]), end - i)
            }
            (c, _) if is_word_start(c) => {
                let end = scan_word(b, i);
                let w = &src[i..end];
                let tok = match w {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    _ => Tok::Word(w),
                };
                (tok, end - i)
            }
            (b'[' | b']' | b'+' | b'-' | b'*' | b'%' | b'^' | b'&' | b'|', _) => {
                return Err(unsupported(src, start, &src[start..start + 1], ARITHMETIC))
            }
            _ => {
                return Err(FilterError::Expected {
                    column: column(src, start),
                    expected: "a word, `(`, `)`, `!`, `&&`, `||` or a comparison",
                    found: found_at(src, start),
                })
            }
        };
        i += len;
        out.push(Token {
            tok,
            pos: start,
            text: &src[start..i],
        });
    }
    out.push(Token {
        tok: Tok::End,
        pos: src.len(),
        text: "",
    });
    Ok(out)
}

fn scan_word(b: &[u8], from: usize) -> usize {
    let mut end = from;
    if b.get(end).is_some_and(|&c| is_word_start(c)) {
        while b.get(end).is_some_and(|&c| is_word_char(c)) {
            end += 1;
        }
    }
    end
}

/// The character at `pos` (or end of expression), for error messages.
fn found_at(src: &str, pos: usize) -> String {
    match src.get(pos..).and_then(|s| s.chars().next()) {
        Some(c) => format!("`{c}`"),
        None => "end of expression".to_owned(),
    }
}

fn unsupported(src: &str, pos: usize, word: &str, why: &'static str) -> FilterError {
    FilterError::Unsupported {
        column: column(src, pos),
        word: word.to_owned(),
        why,
    }
}

// ---------------------------------------------------------------------------
// Parser: recursive descent mirroring libpcap's grammar.y, including how an
// identifier inherits the qualifiers of what precedes it.

/// The protocol qualifier of a primitive (libpcap's `pqual`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProtoQual {
    Default,
    Ip,
    Ip6,
    Tcp,
    Udp,
    Sctp,
    Icmp,
    Icmp6,
    Igmp,
    Ah,
    Esp,
    Pim,
    Vrrp,
    Arp,
}

impl ProtoQual {
    fn from_keyword(w: &str) -> Option<ProtoQual> {
        Some(match w {
            "ip" => ProtoQual::Ip,
            "ip6" => ProtoQual::Ip6,
            "tcp" => ProtoQual::Tcp,
            "udp" => ProtoQual::Udp,
            "sctp" => ProtoQual::Sctp,
            "icmp" => ProtoQual::Icmp,
            "icmp6" => ProtoQual::Icmp6,
            "igmp" => ProtoQual::Igmp,
            "ah" => ProtoQual::Ah,
            "esp" => ProtoQual::Esp,
            "pim" => ProtoQual::Pim,
            "vrrp" => ProtoQual::Vrrp,
            "arp" => ProtoQual::Arp,
            _ => return None,
        })
    }

    /// The primitive the qualifier means on its own (`tcp`, `ip6`, `arp` …).
    fn bare(self) -> Prim {
        let proto = |family, number| Prim::Proto { family, number };
        match self {
            // Unreachable from the parser: a bare primitive always has a name.
            ProtoQual::Default | ProtoQual::Ip => Prim::IpVersion(4),
            ProtoQual::Ip6 => Prim::IpVersion(6),
            ProtoQual::Tcp => proto(Family::Any, 6),
            ProtoQual::Udp => proto(Family::Any, 17),
            ProtoQual::Sctp => proto(Family::Any, 132),
            ProtoQual::Icmp => proto(Family::V4, 1),
            ProtoQual::Icmp6 => proto(Family::V6, 58),
            ProtoQual::Igmp => proto(Family::V4, 2),
            ProtoQual::Ah => proto(Family::Any, 51),
            ProtoQual::Esp => proto(Family::Any, 50),
            ProtoQual::Pim => proto(Family::Any, 103),
            ProtoQual::Vrrp => proto(Family::V4, 112),
            ProtoQual::Arp => Prim::Arp,
        }
    }
}

/// The address-type qualifier (libpcap's `aqual`, plus `proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddrQual {
    /// No type given: `host` is assumed.
    Default,
    Host,
    Net,
    Port,
    PortRange,
    Proto,
}

/// The qualifiers an identifier is read with (libpcap's `struct qual`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Qual {
    proto: ProtoQual,
    dir: Dir,
    addr: AddrQual,
}

impl Qual {
    fn expects(self) -> &'static str {
        match self.addr {
            AddrQual::Default | AddrQual::Host => "an IPv4 or IPv6 address",
            AddrQual::Net => "a network (10.0.0.0/8, 10.1, 10.0.0.0 mask 255.0.0.0, 2001:db8::/32)",
            AddrQual::Port => "a port number or name",
            AddrQual::PortRange => "a port range (1000-2000)",
            AddrQual::Proto => "a protocol number or name (escape keyword names: \\tcp)",
        }
    }
}

/// What a word denotes syntactically (libpcap's NUM, HID, HID6, ID).
enum Form {
    Num(u32),
    /// Dotted IPv4 with 2 to 4 parts; `value` already shifted to the top.
    V4 {
        value: u32,
        bits: u8,
    },
    V6(u128),
    Name,
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token<'a>>,
    at: usize,
    depth: usize,
}

const PRIMITIVE: &str =
    "a primitive (host, net, port, portrange, proto, ip, ip6, tcp, udp, sctp, icmp, icmp6, arp, vlan, mpls, less, greater, len) or `(`";

impl<'a> Parser<'a> {
    fn peek(&self) -> Token<'a> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Token<'a> {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens
            .get((self.at + ahead).min(last))
            .copied()
            .unwrap_or(Token {
                tok: Tok::End,
                pos: self.src.len(),
                text: "",
            })
    }

    fn bump(&mut self) -> Token<'a> {
        let t = self.peek();
        if t.tok != Tok::End {
            self.at += 1;
        }
        t
    }

    fn peek_word(&self) -> Option<&'a str> {
        match self.peek().tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    /// Something else was needed at `t`; a libpcap keyword we do not
    /// implement is reported as such.
    fn expected(&self, t: Token<'a>, expected: &'static str) -> FilterError {
        if let Tok::Word(w) = t.tok {
            if UNSUPPORTED_KEYWORDS.contains(&w) {
                return unsupported(self.src, t.pos, w, UNSUPPORTED_WHY);
            }
        }
        FilterError::Expected {
            column: column(self.src, t.pos),
            expected,
            found: match t.tok {
                Tok::End => "end of expression".to_owned(),
                _ => format!("`{}`", t.text),
            },
        }
    }

    fn invalid(&self, t: Token<'a>, word: &str, problem: &'static str) -> FilterError {
        FilterError::Invalid {
            column: column(self.src, t.pos),
            word: word.to_owned(),
            problem,
        }
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let t = self.peek();
            return Err(self.invalid(t, t.text, "parentheses and `not` nest too deeply"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn program(&mut self) -> Result<Option<Node>, FilterError> {
        if self.peek().tok == Tok::End {
            return Ok(None);
        }
        let (node, _) = self.expr(None)?;
        let t = self.peek();
        if t.tok != Tok::End {
            return Err(self.expected(t, "`and`, `or` or the end of the expression"));
        }
        Ok(Some(node))
    }

    /// `expr: term | expr (and|or) term | expr (and|or) id`. `ctx` is the
    /// qualifier context before the expression (seen by a leading `(`);
    /// returns the node and the qualifiers a following bare id inherits.
    fn expr(&mut self, ctx: Option<Qual>) -> Result<(Node, Option<Qual>), FilterError> {
        let (first, mut q) = self.term(ctx)?;
        let mut rest = Vec::new();
        loop {
            let join = match self.peek().tok {
                Tok::And => Join::And,
                Tok::Or => Join::Or,
                _ => break,
            };
            self.bump();
            let (node, next_q) = if let Some(id_at) = self.id_follows() {
                let Some(inherited) = q else {
                    return Err(self.expected(
                        id_at,
                        "a primitive such as `host`, `port` or `tcp` (a bare address or number only repeats a preceding host/net/port/portrange/proto primitive)",
                    ));
                };
                (self.id(inherited)?, Some(inherited))
            } else {
                self.term(q)?
            };
            rest.push((join, node));
            q = next_q;
        }
        Ok((chain(first, rest), q))
    }

    /// After `and`/`or`: is the next thing (past `not`s and `(`s) a bare
    /// identifier rather than a primitive? Returns the identifier's token.
    fn id_follows(&self) -> Option<Token<'a>> {
        let mut ahead = 0;
        loop {
            let t = self.peek_at(ahead);
            match t.tok {
                Tok::Not | Tok::LParen => ahead += 1,
                Tok::Word(w) if !is_keyword(w) => return Some(t),
                Tok::Escaped(_) => return Some(t),
                _ => return None,
            }
        }
    }

    /// `term: not term | rterm`.
    fn term(&mut self, ctx: Option<Qual>) -> Result<(Node, Option<Qual>), FilterError> {
        if self.peek().tok == Tok::Not {
            self.bump();
            self.enter()?;
            let (node, q) = self.term(ctx)?;
            self.leave();
            return Ok((Node::Not(Box::new(node)), q));
        }
        self.rterm(ctx)
    }

    fn rterm(&mut self, ctx: Option<Qual>) -> Result<(Node, Option<Qual>), FilterError> {
        let t = self.peek();
        let w = match t.tok {
            Tok::LParen => {
                self.bump();
                self.enter()?;
                let (node, _) = self.expr(ctx)?;
                self.leave();
                self.expect_rparen()?;
                // libpcap: a parenthesised expression passes on the
                // qualifiers from before it, not from inside it.
                return Ok((node, ctx));
            }
            Tok::Word(w) => w,
            _ => return Err(self.expected(t, PRIMITIVE)),
        };
        if let Some(pq) = ProtoQual::from_keyword(w) {
            self.bump();
            return match self.head(pq)? {
                Some(q) => Ok((self.id(q)?, Some(q))),
                None => Ok((Node::Prim(pq.bare()), None)),
            };
        }
        match w {
            "src" | "dst" | "host" | "net" | "port" | "portrange" | "proto" => {
                match self.head(ProtoQual::Default)? {
                    Some(q) => Ok((self.id(q)?, Some(q))),
                    None => Err(self.expected(t, PRIMITIVE)),
                }
            }
            "less" | "greater" => {
                self.bump();
                let bytes = self.number_arg("a length in bytes")?;
                let op = if w == "less" { RelOp::Le } else { RelOp::Ge };
                Ok((Node::Prim(Prim::Len { op, bytes }), None))
            }
            "len" => {
                self.bump();
                let r = self.bump();
                let Tok::Rel(op) = r.tok else {
                    return Err(self.expected(r, "a comparison (<, <=, >, >=, =, !=) after `len`"));
                };
                let bytes = self.number_arg("a length in bytes")?;
                Ok((Node::Prim(Prim::Len { op, bytes }), None))
            }
            "vlan" => {
                self.bump();
                let id = match self.peek_word() {
                    Some(n) if !is_keyword(n) => {
                        let at = self.peek();
                        let v = self.number_arg("a VLAN id")?;
                        if v > 4095 {
                            return Err(self.invalid(at, n, "VLAN id above 4095"));
                        }
                        Some(v as u16)
                    }
                    _ => None,
                };
                Ok((Node::Prim(Prim::Vlan(id)), None))
            }
            "mpls" => {
                self.bump();
                if let Some(n) = self.peek_word().filter(|n| !is_keyword(n)) {
                    let at = self.peek();
                    return Err(unsupported(
                        self.src,
                        at.pos,
                        n,
                        "MPLS labels are not kept by the decoder; use bare `mpls`",
                    ));
                }
                Ok((Node::Prim(Prim::Mpls), None))
            }
            _ => Err(self.expected(t, PRIMITIVE)),
        }
    }

    fn expect_rparen(&mut self) -> Result<(), FilterError> {
        let t = self.bump();
        if t.tok != Tok::RParen {
            return Err(self.expected(t, "`)`"));
        }
        Ok(())
    }

    /// The rest of a `head` after the optional protocol qualifier:
    /// `[dqual] [aqual]` or `proto`. `None`: no qualifier followed (a bare
    /// protocol primitive such as `tcp`).
    fn head(&mut self, proto: ProtoQual) -> Result<Option<Qual>, FilterError> {
        if self.peek_word() == Some("proto") {
            self.bump();
            return Ok(Some(Qual {
                proto,
                dir: Dir::SrcOrDst,
                addr: AddrQual::Proto,
            }));
        }
        let dir = self.dir_qual();
        let addr = match self.peek_word() {
            Some("host") => Some(AddrQual::Host),
            Some("net") => Some(AddrQual::Net),
            Some("port") => Some(AddrQual::Port),
            Some("portrange") => Some(AddrQual::PortRange),
            _ => None,
        };
        if addr.is_some() {
            self.bump();
        }
        if dir.is_none() && addr.is_none() {
            return Ok(None);
        }
        Ok(Some(Qual {
            proto,
            dir: dir.unwrap_or(Dir::SrcOrDst),
            addr: addr.unwrap_or(AddrQual::Default),
        }))
    }

    /// `src`, `dst`, `src or dst`, `src and dst` (either order).
    fn dir_qual(&mut self) -> Option<Dir> {
        let first = match self.peek_word() {
            Some("src") => Dir::Src,
            Some("dst") => Dir::Dst,
            _ => return None,
        };
        self.bump();
        let other = if first == Dir::Src { "dst" } else { "src" };
        if self.peek_at(1).tok == Tok::Word(other) {
            let both = match self.peek().tok {
                Tok::Or => Some(Dir::SrcOrDst),
                Tok::And => Some(Dir::SrcAndDst),
                _ => None,
            };
            if let Some(d) = both {
                self.bump();
                self.bump();
                return Some(d);
            }
        }
        Some(first)
    }

    /// `id: nid | not id | ( id (and|or) id … )`, read with qualifiers `q`.
    fn id(&mut self, q: Qual) -> Result<Node, FilterError> {
        let t = self.peek();
        match t.tok {
            Tok::Not => {
                self.bump();
                self.enter()?;
                let node = self.id(q)?;
                self.leave();
                Ok(Node::Not(Box::new(node)))
            }
            Tok::LParen => {
                self.bump();
                self.enter()?;
                let first = self.id(q)?;
                let mut rest = Vec::new();
                loop {
                    let t = self.bump();
                    let join = match t.tok {
                        Tok::And => Join::And,
                        Tok::Or => Join::Or,
                        Tok::RParen => break,
                        _ => return Err(self.expected(t, "`and`, `or` or `)`")),
                    };
                    rest.push((join, self.id(q)?));
                }
                self.leave();
                Ok(chain(first, rest))
            }
            Tok::Word(w) if !is_keyword(w) => {
                self.bump();
                Ok(Node::Prim(self.nid(q, t, w)?))
            }
            Tok::Escaped(w) => {
                self.bump();
                Ok(Node::Prim(self.nid(q, t, w)?))
            }
            _ => Err(self.expected(t, q.expects())),
        }
    }

    /// One identifier (and its `/len` or `mask M` suffix) under `q`.
    fn nid(&mut self, q: Qual, t: Token<'a>, word: &'a str) -> Result<Prim, FilterError> {
        match q.addr {
            AddrQual::Port | AddrQual::PortRange => self.port(q, t, word),
            AddrQual::Proto => self.proto_number(q, t, word),
            AddrQual::Default | AddrQual::Host | AddrQual::Net => self.net(q, t, word),
        }
    }

    fn form(&self, t: Token<'a>, word: &str) -> Result<Form, FilterError> {
        if let Some(n) = parse_number(word).map_err(|p| self.invalid(t, word, p))? {
            return Ok(Form::Num(n));
        }
        if word.contains(':') {
            return word
                .parse::<Ipv6Addr>()
                .map(|a| Form::V6(u128::from(a)))
                .map_err(|_| self.invalid(t, word, "not an IPv6 address"));
        }
        let parts = word.split('.').count();
        if (2..=4).contains(&parts)
            && word
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        {
            let mut value = 0u32;
            for p in word.split('.') {
                match p.parse::<u8>() {
                    Ok(octet) => value = (value << 8) | u32::from(octet),
                    Err(_) => return Err(self.invalid(t, word, "invalid IPv4 address")),
                }
            }
            let bits = 8 * parts as u8;
            return Ok(Form::V4 {
                value: shl(value, 32 - u32::from(bits)),
                bits,
            });
        }
        Ok(Form::Name)
    }

    /// `host`/`net` (or no type): libpcap's gen_ncode, gen_mcode, gen_mcode6.
    fn net(&mut self, q: Qual, t: Token<'a>, word: &'a str) -> Result<Prim, FilterError> {
        let form = self.form(t, word)?;
        let is_net = q.addr == AddrQual::Net;
        let net = match form {
            Form::Name => {
                return Err(unsupported(
                    self.src,
                    t.pos,
                    word,
                    "host and network names are not resolved; use an address",
                ))
            }
            Form::Num(_) if self.peek().tok == Tok::Slash || self.peek_word() == Some("mask") => {
                return Err(self.invalid(
                    t,
                    word,
                    "a network with a mask must be dotted (10.0.0.0/8, 10.0.0.0 mask 255.0.0.0)",
                ));
            }
            Form::Num(v) if is_net => {
                // libpcap: a bare number is a short network (`net 10`).
                let (mut net, mut mask) = (v, u32::MAX);
                while net != 0 && net & 0xff00_0000 == 0 {
                    net <<= 8;
                    mask <<= 8;
                }
                IpNet::V4 { net, mask }
            }
            Form::Num(v) => IpNet::V4 {
                net: v,
                mask: u32::MAX,
            },
            Form::V4 { value, bits } => {
                let mask = if self.peek().tok == Tok::Slash {
                    self.bump();
                    let len_at = self.peek();
                    let len = self.number_arg("a prefix length")?;
                    if len > 32 {
                        return Err(self.invalid(
                            len_at,
                            len_at.text,
                            "IPv4 prefix length above 32",
                        ));
                    }
                    Some(shl(u32::MAX, 32 - len))
                } else if self.peek_word() == Some("mask") {
                    self.bump();
                    let m = self.bump();
                    let Tok::Word(mw) = m.tok else {
                        return Err(self.expected(m, "a dotted IPv4 netmask"));
                    };
                    match self.form(m, mw)? {
                        Form::V4 { value, .. } => Some(value),
                        _ => return Err(self.expected(m, "a dotted IPv4 netmask")),
                    }
                } else {
                    None
                };
                match mask {
                    Some(mask) => {
                        if value & !mask != 0 {
                            return Err(self.invalid(
                                t,
                                word,
                                "non-network bits set in the address",
                            ));
                        }
                        if !is_net {
                            return Err(self.invalid(
                                t,
                                word,
                                "a mask is for networks only (`net`)",
                            ));
                        }
                        IpNet::V4 { net: value, mask }
                    }
                    // libpcap promotes a short dotted address to a network
                    // (`host 10.1` is 10.1.0.0/16), for host and net alike.
                    None => IpNet::V4 {
                        net: value,
                        mask: shl(u32::MAX, 32 - u32::from(bits)),
                    },
                }
            }
            Form::V6(value) => {
                let mask = if self.peek().tok == Tok::Slash {
                    self.bump();
                    let len_at = self.peek();
                    let len = self.number_arg("a prefix length")?;
                    if len > 128 {
                        return Err(self.invalid(
                            len_at,
                            len_at.text,
                            "IPv6 prefix length above 128",
                        ));
                    }
                    if len == 0 {
                        0
                    } else {
                        u128::MAX << (128 - len)
                    }
                } else {
                    if self.peek_word() == Some("mask") {
                        let m = self.peek();
                        return Err(self.invalid(m, word, "`mask` is IPv4 only; write N/len"));
                    }
                    u128::MAX
                };
                if value & !mask != 0 {
                    return Err(self.invalid(t, word, "non-network bits set in the address"));
                }
                if !is_net && mask != u128::MAX {
                    return Err(self.invalid(t, word, "a mask is for networks only (`net`)"));
                }
                IpNet::V6 { net: value, mask }
            }
        };
        let v4 = matches!(net, IpNet::V4 { .. });
        match (q.proto, v4) {
            (ProtoQual::Default, _) | (ProtoQual::Ip, true) | (ProtoQual::Ip6, false) => {}
            (ProtoQual::Ip, false) => {
                return Err(self.invalid(t, word, "`ip` qualifier on an IPv6 address (use ip6)"))
            }
            (ProtoQual::Ip6, true) => {
                return Err(self.invalid(t, word, "`ip6` qualifier on an IPv4 address (use ip)"))
            }
            (ProtoQual::Arp, _) => {
                return Err(unsupported(
                    self.src,
                    t.pos,
                    word,
                    "ARP addresses are not decoded (`arp host`, `arp net`)",
                ))
            }
            _ => {
                return Err(self.invalid(
                    t,
                    word,
                    "host and net take only the ip or ip6 qualifier (not tcp, udp …)",
                ))
            }
        }
        Ok(Prim::Net { net, dir: q.dir })
    }

    /// `port P`, `portrange A-B` with an optional tcp/udp/sctp qualifier.
    fn port(&mut self, q: Qual, t: Token<'a>, word: &'a str) -> Result<Prim, FilterError> {
        let qual = match q.proto {
            ProtoQual::Default => PortProtos::ALL,
            ProtoQual::Tcp => PortProtos::TCP,
            ProtoQual::Udp => PortProtos::UDP,
            ProtoQual::Sctp => PortProtos::SCTP,
            _ => {
                return Err(self.invalid(
                    t,
                    word,
                    "port and portrange take only the tcp, udp or sctp qualifier",
                ))
            }
        };
        // `portrange 80` (a number) is a one-port range, as in libpcap.
        let single = q.addr == AddrQual::Port || parse_number(word).ok().flatten().is_some();
        let (lo, hi, named) = if single {
            let (port, protos) = self.one_port(t, word)?;
            (port, port, protos)
        } else {
            match word.split_once('-') {
                Some((a, b)) => {
                    let (a, pa) = self.one_port(t, a)?;
                    let (b, pb) = self.one_port(t, b)?;
                    let protos = if pa == pb { pa } else { PortProtos::ALL };
                    (a.min(b), a.max(b), protos)
                }
                None => {
                    return Err(self.invalid(
                        t,
                        word,
                        "a port range by name needs both ends (http-https)",
                    ))
                }
            }
        };
        let protos = qual.intersect(named);
        if protos.0 == 0 {
            return Err(self.invalid(
                t,
                word,
                "this service name is not registered for that protocol (e.g. `udp port http`)",
            ));
        }
        Ok(Prim::Port {
            protos,
            dir: q.dir,
            lo,
            hi,
        })
    }

    /// A port number, or a service name with the protocols it names.
    fn one_port(&self, t: Token<'a>, word: &str) -> Result<(u16, PortProtos), FilterError> {
        match parse_number(word).map_err(|p| self.invalid(t, word, p))? {
            Some(n) => match u16::try_from(n) {
                Ok(port) => Ok((port, PortProtos::ALL)),
                Err(_) => Err(self.invalid(t, word, "port number above 65535")),
            },
            None => PORT_NAMES
                .iter()
                .find(|(name, _, _)| *name == word)
                .map(|&(_, port, protos)| (port, protos))
                .ok_or_else(|| self.invalid(t, word, "unknown port name")),
        }
    }

    /// `[ip|ip6] proto N` / `proto \name`.
    fn proto_number(&self, q: Qual, t: Token<'a>, word: &str) -> Result<Prim, FilterError> {
        let family = match q.proto {
            ProtoQual::Default => Family::Any,
            ProtoQual::Ip => Family::V4,
            ProtoQual::Ip6 => Family::V6,
            _ => return Err(self.invalid(t, word, "proto takes only the ip or ip6 qualifier")),
        };
        let number = match parse_number(word).map_err(|p| self.invalid(t, word, p))? {
            Some(n) => {
                u8::try_from(n).map_err(|_| self.invalid(t, word, "protocol number above 255"))?
            }
            None => PROTO_NAMES
                .iter()
                .find(|(name, _)| *name == word)
                .map(|&(_, n)| n)
                .ok_or_else(|| self.invalid(t, word, "unknown protocol name"))?,
        };
        Ok(Prim::Proto { family, number })
    }

    /// A numeric argument (`less N`, `vlan N`, `/len`).
    fn number_arg(&mut self, what: &'static str) -> Result<u32, FilterError> {
        let t = self.bump();
        let Tok::Word(w) = t.tok else {
            return Err(self.expected(t, what));
        };
        match parse_number(w).map_err(|p| self.invalid(t, w, p))? {
            Some(n) => Ok(n),
            None => Err(self.expected(t, what)),
        }
    }
}

fn chain(first: Node, rest: Vec<(Join, Node)>) -> Node {
    if rest.is_empty() {
        first
    } else {
        Node::Chain(Box::new(first), rest)
    }
}

/// `v << by` that yields 0 for a full-width shift.
fn shl(v: u32, by: u32) -> u32 {
    v.checked_shl(by).unwrap_or(0)
}

/// libpcap number syntax: decimal, `0x` hex, or octal with a leading 0.
/// `Ok(None)`: not a number at all.
fn parse_number(w: &str) -> Result<Option<u32>, &'static str> {
    let (digits, radix) = if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        if h.is_empty() || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Ok(None);
        }
        (h, 16)
    } else if !w.is_empty() && w.bytes().all(|c| c.is_ascii_digit()) {
        if w.len() > 1 && w.starts_with('0') {
            if !w.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
                return Err("number with a leading 0 is octal and has a non-octal digit");
            }
            (&w[1..], 8)
        } else {
            (w, 10)
        }
    } else {
        return Ok(None);
    };
    u32::from_str_radix(digits, radix)
        .map(Some)
        .map_err(|_| "number too large")
}

#[cfg(test)]
mod tests {
    use etherparse::PacketBuilder;

    use super::*;
    use crate::capture::LinkType;
    use crate::decode::decode;
    use crate::sample::{ethernet, fragmented_udp, gre_wrap};

    fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16) -> Vec<u8> {
        let b = PacketBuilder::ipv4(src, dst, 64).tcp(sp, dp, 1, 1000);
        let mut v = Vec::new();
        b.write(&mut v, b"payload").unwrap();
        v
    }

    fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16) -> Vec<u8> {
        let b = PacketBuilder::ipv4(src, dst, 64).udp(sp, dp);
        let mut v = Vec::new();
        b.write(&mut v, b"payload").unwrap();
        v
    }

    fn ipv6_tcp(src: [u8; 16], dst: [u8; 16], sp: u16, dp: u16) -> Vec<u8> {
        let b = PacketBuilder::ipv6(src, dst, 64).tcp(sp, dp, 1, 1000);
        let mut v = Vec::new();
        b.write(&mut v, b"payload").unwrap();
        v
    }

    fn eth_ip(ip: &[u8]) -> Vec<u8> {
        let ty = if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
        ethernet(ty, ip)
    }

    fn v6(s: &str) -> [u8; 16] {
        s.parse::<Ipv6Addr>().unwrap().octets()
    }

    /// Does `expr` match the Ethernet frame `frame`?
    fn hits(expr: &str, frame: &[u8]) -> bool {
        let f = PacketFilter::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let p = decode(LinkType::ETHERNET, frame, frame.len() as u32);
        f.matches(&p, frame.len() as u32)
    }

    fn err(expr: &str) -> FilterError {
        match PacketFilter::parse(expr) {
            Ok(_) => panic!("{expr} parsed"),
            Err(e) => e,
        }
    }

    fn tcp_80() -> Vec<u8> {
        eth_ip(&ipv4_tcp([10, 0, 0, 1], [192, 168, 1, 9], 40000, 80))
    }

    fn udp_53() -> Vec<u8> {
        eth_ip(&ipv4_udp([10, 0, 0, 1], [8, 8, 8, 8], 5353, 53))
    }

    fn arp() -> Vec<u8> {
        let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
        a.extend_from_slice(&[2, 0, 0, 0, 0, 1, 10, 0, 0, 1]);
        a.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
        ethernet(0x0806, &a)
    }

    #[test]
    fn protocol_primitives() {
        let tcp = tcp_80();
        let udp = udp_53();
        let tcp6 = eth_ip(&ipv6_tcp(v6("2001:db8::1"), v6("2001:db8::2"), 1, 443));
        let icmp = {
            let b = PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9).icmpv4_echo_request(1, 1);
            let mut v = Vec::new();
            b.write(&mut v, b"x").unwrap();
            eth_ip(&v)
        };
        let icmp6 = {
            let b = PacketBuilder::ipv6(v6("::1"), v6("::2"), 9).icmpv6_echo_request(1, 1);
            let mut v = Vec::new();
            b.write(&mut v, b"x").unwrap();
            eth_ip(&v)
        };
        let arp = arp();
        // Frames: tcp, udp, tcp6, icmp, icmp6, arp.
        let cases: [(&str, [u8; 6]); 12] = [
            ("tcp", [1, 0, 1, 0, 0, 0]),
            ("udp", [0, 1, 0, 0, 0, 0]),
            ("ip", [1, 1, 0, 1, 0, 0]),
            ("ip6", [0, 0, 1, 0, 1, 0]),
            ("icmp", [0, 0, 0, 1, 0, 0]),
            ("icmp6", [0, 0, 0, 0, 1, 0]),
            ("arp", [0, 0, 0, 0, 0, 1]),
            ("not tcp", [0, 1, 0, 1, 1, 1]),
            ("ip proto 6", [1, 0, 0, 0, 0, 0]),
            ("ip6 proto \\tcp", [0, 0, 1, 0, 0, 0]),
            ("proto 6 or 17", [1, 1, 1, 0, 0, 0]),
            ("ip and not udp", [1, 0, 0, 1, 0, 0]),
        ];
        let frames = [&tcp, &udp, &tcp6, &icmp, &icmp6, &arp];
        for (expr, want) in cases {
            for (i, f) in frames.iter().enumerate() {
                assert_eq!(hits(expr, f), want[i] == 1, "{expr} on frame {i}");
            }
        }
    }

    #[test]
    fn host_net_and_direction() {
        let f = tcp_80(); // 10.0.0.1:40000 -> 192.168.1.9:80
        for (expr, want) in [
            ("host 10.0.0.1", true),
            ("src host 10.0.0.1", true),
            ("dst host 10.0.0.1", false),
            ("dst 192.168.1.9", true),
            ("src or dst 192.168.1.9", true),
            ("src and dst net 10.0.0.0/8", false),
            ("src and dst net 0.0.0.0/0", true),
            ("net 10", true),
            ("net 192.168", true),
            ("net 192.168.2", false),
            ("net 10.0.0.0 mask 255.0.0.0", true),
            ("ip net 192.168.0.0/16", true),
            ("host 10.0.0.2", false),
            ("ip host 10.0.0.1", true),
            ("host 10.0", true), // libpcap: short dotted host = network
            ("host 2001:db8::1", false),
        ] {
            assert_eq!(hits(expr, &f), want, "{expr}");
        }
        let f6 = eth_ip(&ipv6_tcp(v6("2001:db8::1"), v6("fe80::2"), 1, 443));
        for (expr, want) in [
            ("host 2001:db8::1", true),
            ("ip6 net 2001:db8::/32", true),
            ("dst net 2001:db8::/32", false),
            ("dst net fe80::/10", true),
            ("net ::/0", true),
            ("host 10.0.0.1", false),
        ] {
            assert_eq!(hits(expr, &f6), want, "{expr}");
        }
    }

    #[test]
    fn ports_and_ranges() {
        let tcp = tcp_80();
        let udp = udp_53();
        for (expr, want_tcp, want_udp) in [
            ("port 80", true, false),
            ("tcp port 80", true, false),
            ("udp port 80", false, false),
            ("dst port 80", true, false),
            ("src port 80", false, false),
            ("port 53", false, true),
            ("udp port domain", false, true),
            ("port http", true, false),
            ("port domain", false, true),
            ("portrange 50-100", true, true),
            ("portrange 100-50", true, true),
            ("src portrange 5000-6000", false, true),
            ("tcp portrange 1-1024", true, false),
            ("src and dst portrange 53-6000", false, true),
            ("sctp port 80", false, false),
            ("port 0x50", true, false),
            ("portrange http-https", true, false),
            ("portrange domain-http", true, true),
        ] {
            assert_eq!(hits(expr, &tcp), want_tcp, "{expr} on tcp");
            assert_eq!(hits(expr, &udp), want_udp, "{expr} on udp");
        }
    }

    #[test]
    fn and_or_have_equal_precedence_left_to_right() {
        let tcp = tcp_80();
        // C precedence would read `tcp or (udp and port 53)`: true.
        assert!(!hits("tcp or udp and port 53", &tcp));
        assert!(hits("udp and port 53 or tcp", &tcp));
        assert!(hits("tcp or (udp and port 53)", &tcp));
        // `not` binds tighter than both.
        assert!(!hits("not tcp and port 80", &tcp));
        assert!(hits("not udp and port 80", &tcp));
        assert!(hits("! udp && port 80 || icmp", &tcp));
        assert!(hits("not (udp or icmp)", &tcp));
        assert!(!hits("not not udp", &tcp));
    }

    #[test]
    fn qualifiers_repeat_onto_bare_identifiers() {
        let tcp_8080 = eth_ip(&ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 9], 1234, 8080));
        let udp_8080 = eth_ip(&ipv4_udp([10, 0, 0, 1], [10, 0, 0, 9], 1234, 8080));
        assert!(hits("tcp port 80 or 8080", &tcp_8080));
        assert!(!hits("tcp port 80 or 8080", &udp_8080));
        assert!(hits("port 80 or 443 or 8080", &udp_8080));
        assert!(hits("host 1.2.3.4 or 10.0.0.9", &tcp_8080));
        assert!(hits("dst host 1.2.3.4 or 10.0.0.9", &tcp_8080));
        assert!(!hits("src host 1.2.3.4 or 10.0.0.9", &tcp_8080));
        assert!(hits("host (1.2.3.4 or 10.0.0.9)", &tcp_8080));
        assert!(!hits("host (10.0.0.1 and not 10.0.0.9)", &tcp_8080));
        // `not host a and b` is `not host a and host b` (pcap-filter(7)).
        assert!(!hits("not host 10.0.0.1 and 10.0.0.9", &tcp_8080));
        assert!(hits("not host 10.0.0.7 and 10.0.0.9", &tcp_8080));
        // port 1234 and not port 8080
        assert!(!hits("port 1234 and not 8080", &tcp_8080));
        // After a parenthesised term the qualifiers from before it apply.
        assert!(hits(
            "host 1.1.1.1 or (host 2.2.2.2) or 10.0.0.9",
            &tcp_8080
        ));
        assert!(hits("ip proto 6 or 17", &udp_8080));
        // A protocol primitive has no qualifiers to repeat.
        assert!(matches!(
            err("tcp or 80"),
            FilterError::Expected { column: 8, .. }
        ));
        assert!(matches!(
            err("host 1.2.3.4 and tcp or 5.6.7.8"),
            FilterError::Expected { .. }
        ));
    }

    #[test]
    fn sees_through_vlan_mpls_and_tunnels() {
        let ip = ipv4_tcp([10, 1, 1, 1], [10, 2, 2, 2], 5555, 443);
        let mut tagged = vec![0x00, 0x07, 0x08, 0x00]; // VID 7, then IPv4
        tagged.extend_from_slice(&ip);
        let vlan = ethernet(0x8100, &tagged);
        let mut labelled = vec![0x00, 0x01, 0x01, 0x40]; // label 16, bottom of stack
        labelled.extend_from_slice(&ip);
        let mpls = ethernet(0x8847, &labelled);
        let gre = gre_wrap([172, 16, 0, 1], [172, 16, 0, 2], &ip);
        for f in [&vlan, &mpls, &gre] {
            assert!(hits("tcp port 443", f));
            assert!(hits("host 10.2.2.2", f));
            assert!(hits("ip", f));
        }
        assert!(hits("vlan", &vlan));
        assert!(hits("vlan 7", &vlan));
        assert!(!hits("vlan 8", &vlan));
        assert!(!hits("vlan", &mpls));
        assert!(hits("mpls and tcp", &mpls));
        assert!(!hits("mpls", &gre));
        // The outer tunnel addresses are not the packet's addresses.
        assert!(!hits("host 172.16.0.1", &gre));
        assert!(!hits("ip proto 47", &gre));
    }

    #[test]
    fn no_ip_no_host_net_or_port() {
        let a = arp(); // mentions 10.0.0.1 and 10.0.0.2
        for expr in [
            "host 10.0.0.1",
            "net 10.0.0.0/8",
            "port 1",
            "portrange 0-65535",
            "ip",
            "tcp",
        ] {
            assert!(!hits(expr, &a), "{expr}");
        }
        assert!(hits("not host 10.0.0.1", &a));
    }

    #[test]
    fn fragments_follow_libpcap() {
        let frames = fragmented_udp([10, 0, 0, 1], [10, 0, 0, 2], 7, 3000, 1480).unwrap();
        assert!(frames.len() >= 2);
        let (first, later) = (&frames[0], &frames[1]);
        // Every fragment carries the protocol number …
        assert!(hits("udp", first) && hits("udp", later));
        // … but only the first has ports (4000 -> 4001).
        assert!(hits("udp port 4000", first));
        assert!(hits("dst port 4001", first));
        assert!(!hits("port 4000", later));
        assert!(hits("not port 4000", later));
        assert!(hits("host 10.0.0.2", later));
    }

    #[test]
    fn cut_short_transport_header_still_has_ports() {
        // Snapped 4 bytes into the TCP header: the decoder has no segment,
        // but the ports were captured (libpcap reads them too).
        let f = tcp_80();
        let cut = &f[..14 + 20 + 4];
        let p = decode(LinkType::ETHERNET, cut, f.len() as u32);
        assert!(matches!(p.transport, Transport::None));
        let m = |e: &str| PacketFilter::parse(e).unwrap().matches(&p, f.len() as u32);
        assert!(m("tcp port 80"));
        assert!(m("src port 40000"));
        assert!(!m("udp port 80"));
        let cut = &f[..14 + 20 + 3];
        let p = decode(LinkType::ETHERNET, cut, f.len() as u32);
        assert!(!PacketFilter::parse("port 80")
            .unwrap()
            .matches(&p, f.len() as u32));
    }

    #[test]
    fn lengths() {
        let f = tcp_80();
        let n = f.len() as u32;
        let filter = |e: &str| PacketFilter::parse(e).unwrap();
        let p = decode(LinkType::ETHERNET, &f, n);
        assert!(filter(&format!("less {n}")).matches(&p, n));
        assert!(!filter(&format!("less {}", n - 1)).matches(&p, n));
        assert!(filter(&format!("greater {n}")).matches(&p, n));
        assert!(!filter(&format!("greater {}", n + 1)).matches(&p, n));
        // The wire length counts, not the captured bytes.
        assert!(filter("greater 1000").matches(&p, 1500));
        for (expr, want) in [
            ("len > 100", true),
            ("len <= 100", false),
            ("len = 1500", true),
            ("len != 1500", false),
            ("len == 1500", true),
            ("len >= 1500", true),
            ("len < 1500", false),
        ] {
            assert_eq!(filter(expr).matches(&p, 1500), want, "{expr}");
        }
    }

    #[test]
    fn empty_matches_everything_and_api() {
        let f: PacketFilter = "  ".parse().unwrap();
        let a = arp();
        let p = decode(LinkType::ETHERNET, &a, a.len() as u32);
        assert!(f.matches(&p, 42));
        let f: PacketFilter = "tcp port 80".parse().unwrap();
        assert_eq!(f.expr(), "tcp port 80");
        assert_eq!(f.to_string(), "tcp port 80");
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = err("tcp and foo");
        assert!(
            matches!(e, FilterError::Expected { column: 9, .. }),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("column 9") && msg.contains("expected") && msg.contains("`foo`"),
            "{msg}"
        );
        assert!(
            matches!(err("host"), FilterError::Expected { column: 5, ref found, .. } if found == "end of expression")
        );
        assert!(matches!(err("tcp port"), FilterError::Expected { .. }));
        assert!(matches!(
            err("host 1.2.3.4 and"),
            FilterError::Expected { .. }
        ));
        assert!(matches!(err("(tcp"), FilterError::Expected { .. }));
        assert!(matches!(
            err("tcp)"),
            FilterError::Expected { column: 4, .. }
        ));
        assert!(matches!(
            err("host 1.2.3.4 5.6.7.8"),
            FilterError::Expected { column: 14, .. }
        ));
        assert!(matches!(
            err("1.2.3.4"),
            FilterError::Expected { column: 1, .. }
        ));
        assert!(matches!(err("10.0.0.0/8"), FilterError::Expected { .. }));
        assert!(matches!(err("ip proto tcp"), FilterError::Expected { .. }));
        assert!(matches!(err("Tcp"), FilterError::Expected { .. }));
        assert!(matches!(
            err("tcp port 80 é"),
            FilterError::Expected { column: 13, .. }
        ));
        // Out of range and contradictions, as libpcap refuses them.
        for bad in [
            "port 99999",
            "port 080",
            "port foo",
            "port 80-90",
            "portrange http",
            "net 10.0.0.1/8",
            "host 10.0.0.0/8",
            "net 10.0.0.0/33",
            "net 2001:db8::1/32",
            "host 2001:db8::/32",
            "host 256.1.1.1",
            "host 1:2:3",
            "tcp host 1.2.3.4",
            "ip port 80",
            "icmp port 80",
            "udp port http",
            "ip host ::1",
            "ip6 host 1.2.3.4",
            "ip proto 256",
            "ip proto \\nosuch",
            "tcp proto 6",
            "vlan 4096",
            "net 10/8",
            "less 4294967296",
        ] {
            assert!(
                matches!(err(bad), FilterError::Invalid { .. }),
                "{bad}: {:?}",
                err(bad)
            );
        }
        // libpcap primitives we do not implement are named as such.
        for bad in [
            "ether host 1:2:3:4:5:6",
            "tcp[13] & 2 != 0",
            "len - 14 > 10",
            "host example.com",
            "arp host 1.2.3.4",
            "mpls 100",
            "gateway x",
            "ip broadcast",
        ] {
            assert!(
                matches!(err(bad), FilterError::Unsupported { .. }),
                "{bad}: {:?}",
                err(bad)
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}tcp{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(err(&deep), FilterError::Invalid { .. }));
        let nots = format!("{}tcp", "not ".repeat(10_000));
        assert!(matches!(err(&nots), FilterError::Invalid { .. }));
        let host_parens = format!("host {}1.2.3.4{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(err(&host_parens), FilterError::Invalid { .. }));
        // Long and/or chains do not recurse.
        let long = vec!["tcp"; 100_000].join(" or ");
        assert!(hits(&long, &tcp_80()));
        let ok = format!("{}tcp{}", "(".repeat(30), ")".repeat(30));
        assert!(hits(&ok, &tcp_80()));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "(",
            ")",
            "!",
            "&&",
            "||",
            "\\",
            "\\tcp",
            "host \\",
            "net 1.2.3.4 mask",
            "net 1.2.3.4 mask ::1",
            "net ::1 mask 255.0.0.0",
            "port 0x",
            "portrange -",
            "portrange 1-",
            "len",
            "len >",
            "len > x",
            "vlan and",
            "src or",
            "src or dst",
            "dst and src port",
            "host 1.2.3.4 or (",
            "host (1.2.3.4",
            "host (1.2.3.4 tcp)",
            "less",
            "ip6 net ::/",
            "==",
            "<<",
            "tcp port 80 or not",
            "::",
            ":::",
            "host 1.2.3.4.5",
            "net 1...",
            "port 65535",
            "port 0",
            "vlan 0",
            "not(tcp)or(udp)",
        ] {
            let _ = PacketFilter::parse(s);
        }
        assert!(PacketFilter::parse("vlan and tcp").is_ok());
        assert!(PacketFilter::parse("not(tcp)or(udp)").is_ok());
        assert!(PacketFilter::parse("dst and src port 53").is_ok());
    }
}
