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

mod lex;
mod names;
mod parse;
#[cfg(test)]
mod tests;
mod tree;

use std::fmt;
use std::str::FromStr;

use crate::decode::Packet;
use lex::lex;
use parse::Parser;
use tree::Node;

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
