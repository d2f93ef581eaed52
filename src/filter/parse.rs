//! The parser: recursive descent mirroring libpcap's grammar.y, including
//! how an identifier inherits the qualifiers of what precedes it.

use std::net::Ipv6Addr;

use super::lex::*;
use super::names::*;
use super::tree::*;
use super::*;

// identifier inherits the qualifiers of what precedes it.

/// The protocol qualifier of a primitive (libpcap's `pqual`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ProtoQual {
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
    pub(super) fn from_keyword(w: &str) -> Option<ProtoQual> {
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
    pub(super) fn bare(self) -> Prim {
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
pub(super) enum AddrQual {
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
pub(super) struct Qual {
    pub(super) proto: ProtoQual,
    pub(super) dir: Dir,
    pub(super) addr: AddrQual,
}

impl Qual {
    pub(super) fn expects(self) -> &'static str {
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
pub(super) enum Form {
    Num(u32),
    /// Dotted IPv4 with 2 to 4 parts; `value` already shifted to the top.
    V4 {
        value: u32,
        bits: u8,
    },
    V6(u128),
    Name,
}

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) tokens: Vec<Token<'a>>,
    pub(super) at: usize,
    pub(super) depth: usize,
}

pub(super) const PRIMITIVE: &str =
    "a primitive (host, net, port, portrange, proto, ip, ip6, tcp, udp, sctp, icmp, icmp6, arp, vlan, mpls, less, greater, len) or `(`";

impl<'a> Parser<'a> {
    pub(super) fn peek(&self) -> Token<'a> {
        self.peek_at(0)
    }

    pub(super) fn peek_at(&self, ahead: usize) -> Token<'a> {
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

    pub(super) fn bump(&mut self) -> Token<'a> {
        let t = self.peek();
        if t.tok != Tok::End {
            self.at += 1;
        }
        t
    }

    pub(super) fn peek_word(&self) -> Option<&'a str> {
        match self.peek().tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    /// Something else was needed at `t`; a libpcap keyword we do not
    /// implement is reported as such.
    pub(super) fn expected(&self, t: Token<'a>, expected: &'static str) -> FilterError {
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

    pub(super) fn invalid(&self, t: Token<'a>, word: &str, problem: &'static str) -> FilterError {
        FilterError::Invalid {
            column: column(self.src, t.pos),
            word: word.to_owned(),
            problem,
        }
    }

    pub(super) fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let t = self.peek();
            return Err(self.invalid(t, t.text, "parentheses and `not` nest too deeply"));
        }
        Ok(())
    }

    pub(super) fn leave(&mut self) {
        self.depth -= 1;
    }

    pub(super) fn program(&mut self) -> Result<Option<Node>, FilterError> {
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
    pub(super) fn expr(&mut self, ctx: Option<Qual>) -> Result<(Node, Option<Qual>), FilterError> {
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
    pub(super) fn id_follows(&self) -> Option<Token<'a>> {
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
    pub(super) fn term(&mut self, ctx: Option<Qual>) -> Result<(Node, Option<Qual>), FilterError> {
        if self.peek().tok == Tok::Not {
            self.bump();
            self.enter()?;
            let (node, q) = self.term(ctx)?;
            self.leave();
            return Ok((Node::Not(Box::new(node)), q));
        }
        self.rterm(ctx)
    }

    pub(super) fn rterm(&mut self, ctx: Option<Qual>) -> Result<(Node, Option<Qual>), FilterError> {
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

    pub(super) fn expect_rparen(&mut self) -> Result<(), FilterError> {
        let t = self.bump();
        if t.tok != Tok::RParen {
            return Err(self.expected(t, "`)`"));
        }
        Ok(())
    }

    /// The rest of a `head` after the optional protocol qualifier:
    /// `[dqual] [aqual]` or `proto`. `None`: no qualifier followed (a bare
    /// protocol primitive such as `tcp`).
    pub(super) fn head(&mut self, proto: ProtoQual) -> Result<Option<Qual>, FilterError> {
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
    pub(super) fn dir_qual(&mut self) -> Option<Dir> {
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
    pub(super) fn id(&mut self, q: Qual) -> Result<Node, FilterError> {
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
    pub(super) fn nid(
        &mut self,
        q: Qual,
        t: Token<'a>,
        word: &'a str,
    ) -> Result<Prim, FilterError> {
        match q.addr {
            AddrQual::Port | AddrQual::PortRange => self.port(q, t, word),
            AddrQual::Proto => self.proto_number(q, t, word),
            AddrQual::Default | AddrQual::Host | AddrQual::Net => self.net(q, t, word),
        }
    }

    pub(super) fn form(&self, t: Token<'a>, word: &str) -> Result<Form, FilterError> {
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
    pub(super) fn net(
        &mut self,
        q: Qual,
        t: Token<'a>,
        word: &'a str,
    ) -> Result<Prim, FilterError> {
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
    pub(super) fn port(
        &mut self,
        q: Qual,
        t: Token<'a>,
        word: &'a str,
    ) -> Result<Prim, FilterError> {
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
    pub(super) fn one_port(
        &self,
        t: Token<'a>,
        word: &str,
    ) -> Result<(u16, PortProtos), FilterError> {
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
    pub(super) fn proto_number(
        &self,
        q: Qual,
        t: Token<'a>,
        word: &str,
    ) -> Result<Prim, FilterError> {
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
    pub(super) fn number_arg(&mut self, what: &'static str) -> Result<u32, FilterError> {
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

pub(super) fn chain(first: Node, rest: Vec<(Join, Node)>) -> Node {
    if rest.is_empty() {
        first
    } else {
        Node::Chain(Box::new(first), rest)
    }
}

/// `v << by` that yields 0 for a full-width shift.
pub(super) fn shl(v: u32, by: u32) -> u32 {
    v.checked_shl(by).unwrap_or(0)
}

/// libpcap number syntax: decimal, `0x` hex, or octal with a leading 0.
/// `Ok(None)`: not a number at all.
pub(super) fn parse_number(w: &str) -> Result<Option<u32>, &'static str> {
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
