//! What a flow's application bytes say: the per-flow driver of the pure
//! parsers in [`crate::proto`]. Owns, per TCP flow, the two bounded
//! directional streams and when to try the parsers on them; the parsers
//! themselves own the formats.
//!
//! Bounds: each direction keeps at most [`STREAM_BYTES`] bytes, and a
//! direction stops being read once its hello parsed, proved malformed, or
//! the bound was reached; the streams are freed then. Cost per packet after
//! that: one branch.

use crate::decode::TcpSegment;
use crate::proto::stream::TcpStream;
use crate::proto::tls::{parse_client_hello, parse_server_hello, ClientHello, ServerHello};
use crate::proto::Parse;

/// Bytes of each direction kept for the parsers: a ClientHello is at most
/// a few KiB; 16 KiB also covers post-quantum key shares.
pub const STREAM_BYTES: usize = 16 * 1024;

/// The TLS hellos of a flow: the ClientHello and the ServerHello at the
/// start of its two directions (found by content: either side may be the
/// flow's up side), as far as they were seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    pub client: Option<ClientHello>,
    pub server: Option<ServerHello>,
    /// Fingerprints, computed once when the flow ends.
    pub fingerprints: Fingerprints,
}

/// JA3, JA3S and JA4 of a flow's hellos (empty strings when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprints {
    pub ja3: String,
    pub ja3_hash: String,
    pub ja3s: String,
    pub ja3s_hash: String,
    pub ja4: String,
}

#[derive(Debug)]
enum Side {
    Reading(TcpStream),
    Done,
}

/// Per-flow parser state (TCP flows only, allocated at their first packet).
#[derive(Debug)]
pub(crate) struct AppTracker {
    sides: [Side; 2],
    tls: TlsInfo,
}

impl AppTracker {
    pub(crate) fn new() -> AppTracker {
        AppTracker {
            sides: [
                Side::Reading(TcpStream::new(STREAM_BYTES)),
                Side::Reading(TcpStream::new(STREAM_BYTES)),
            ],
            tls: TlsInfo::default(),
        }
    }

    /// A TCP segment sent by side `dir` (0 up, 1 down).
    #[inline]
    pub(crate) fn segment(&mut self, dir: usize, t: &TcpSegment<'_>) {
        let Some(Side::Reading(stream)) = self.sides.get_mut(dir) else {
            return;
        };
        if t.flags & TcpSegment::SYN != 0 {
            stream.syn(t.seq);
        }
        if !stream.segment(t.seq, t.payload) {
            return;
        }
        // Which hello by content, not by side: the flow's up side is its
        // first packet's sender, which is the server when the capture
        // starts after the SYN.
        let bytes = stream.bytes();
        let finished = match bytes.get(5) {
            None if !stream.is_full() => false,
            Some(1) if self.tls.client.is_none() => match parse_client_hello(bytes) {
                Parse::Done(ch) => {
                    self.tls.client = Some(ch);
                    true
                }
                Parse::NeedMore => stream.is_full(),
                Parse::Malformed(_) => true,
            },
            Some(2) if self.tls.server.is_none() => match parse_server_hello(bytes) {
                Parse::Done(sh) => {
                    self.tls.server = Some(sh);
                    true
                }
                Parse::NeedMore => stream.is_full(),
                Parse::Malformed(_) => true,
            },
            _ => true,
        };
        if finished {
            self.sides[dir] = Side::Done;
        }
    }

    /// What was found, if anything.
    pub(crate) fn finish(self) -> Option<Box<TlsInfo>> {
        let mut tls = self.tls;
        if tls.client.is_none() && tls.server.is_none() {
            return None;
        }
        if let Some(c) = &tls.client {
            let ja3 = c.ja3_string();
            tls.fingerprints.ja3_hash = crate::proto::tls::md5_hex(&ja3);
            tls.fingerprints.ja3 = ja3;
            tls.fingerprints.ja4 = c.ja4(false);
        }
        if let Some(s) = &tls.server {
            let ja3s = s.ja3s_string();
            tls.fingerprints.ja3s_hash = crate::proto::tls::md5_hex(&ja3s);
            tls.fingerprints.ja3s = ja3s;
        }
        Some(Box::new(tls))
    }
}
