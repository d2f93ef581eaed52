//! DTLS 1.0, 1.2 and 1.3 handshakes over UDP (RFC 6347, RFC 9147, and
//! OpenSSL's pre-standard version 0x0100), read
//! from the outside: the ClientHello (SNI, ALPN, JA3, JA4 with the `d`
//! prefix), the ServerHello (JA3S, cipher) and, before DTLS 1.3, the
//! server's certificates.
//!
//! Owns: the DTLS record and handshake headers (13 and 12 bytes), putting
//! fragmented handshake messages together by (type, message_seq) and
//! offset, and handing each whole message to the TLS parsers in their
//! TLS form (the ClientHello without its cookie). Does not own: the TLS
//! message formats ([`super::tls`], [`super::cert`]), encrypted records
//! (epoch > 0), or flows.
//!
//! Bounds: at most [`MAX_DATAGRAMS`] datagrams are read, [`MAX_MESSAGES`]
//! messages held at once, each at most [`MAX_MESSAGE_BYTES`]; everything is
//! freed once the hellos (and certificates) are read. No input panics.

use super::cert::{certificate_message, Chain};
use super::tls::{
    parse_client_hello_message, parse_server_hello_message, ClientHello, ServerHello,
};
use super::Parse;
use crate::decode::ranges::RangeBuffer;

/// Datagrams a tracker reads before it stops (both sides).
pub const MAX_DATAGRAMS: u32 = 32;
/// Handshake messages being put together at once.
pub const MAX_MESSAGES: usize = 8;
/// A handshake message longer than this is not read (a certificate chain
/// fits in 16 KiB but for rare chains, as over TCP).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

const RECORD_HEADER: usize = 13;
const HANDSHAKE_HEADER: usize = 12;
const HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const CERTIFICATE: u8 = 11;

/// Whether a datagram starts with a clear DTLS handshake record (epoch 0)
/// carrying a ClientHello, ServerHello or HelloVerifyRequest. Cheap.
pub fn starts_like_dtls(d: &[u8]) -> bool {
    let [HANDSHAKE, v0, v1, 0, 0, .., msg] = d.get(..RECORD_HEADER + 1).unwrap_or_default() else {
        return false;
    };
    is_dtls_version(*v0, *v1) && matches!(msg, 1..=3) && d.len() >= RECORD_HEADER + HANDSHAKE_HEADER
}

/// What a flow's DTLS handshake showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DtlsInfo {
    pub client_hello: Option<ClientHello>,
    pub server_hello: Option<ServerHello>,
    /// The server's chain (DTLS ≤ 1.2), leaf first.
    pub ders: Vec<Vec<u8>>,
    /// A message was refused: the parser's reason.
    pub malformed: Option<&'static str>,
}

/// One handshake message being put together.
#[derive(Debug)]
struct Message {
    msg_type: u8,
    seq: u16,
    len: usize,
    body: RangeBuffer,
}

/// One flow's DTLS handshake, fed datagram by datagram.
#[derive(Debug, Default)]
pub struct DtlsTracker {
    info: DtlsInfo,
    datagrams: u32,
    pending: Vec<Message>,
    certificates_done: bool,
}

impl DtlsTracker {
    pub fn new() -> DtlsTracker {
        DtlsTracker::default()
    }

    /// Nothing more can be learnt: both hellos read, and the certificates
    /// (or the hellos say there are none in the clear), or the budget spent.
    pub fn is_finished(&self) -> bool {
        let hellos = self.info.client_hello.is_some() && self.info.server_hello.is_some();
        let clear_certs = self
            .info
            .server_hello
            .as_ref()
            .is_some_and(|s| s.negotiated_version() != 0xfefc);
        (hellos && (self.certificates_done || !clear_certs)) || self.datagrams >= MAX_DATAGRAMS
    }

    /// Read one UDP payload (either side).
    pub fn datagram(&mut self, mut d: &[u8]) {
        if self.is_finished() {
            return;
        }
        self.datagrams += 1;
        while let [content, v0, v1, e0, e1, _, _, _, _, _, _, l0, l1, ..] = *d {
            if !is_dtls_version(v0, v1) {
                return;
            }
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            let Some(body) = d.get(RECORD_HEADER..RECORD_HEADER + len) else {
                return;
            };
            d = &d[RECORD_HEADER + len..];
            // Epoch 0 is the clear handshake; later epochs are encrypted.
            if content == HANDSHAKE && (e0, e1) == (0, 0) {
                self.record(body);
            }
        }
    }

    /// The handshake messages (or fragments) of one record.
    fn record(&mut self, mut r: &[u8]) {
        while let [t, a, b, c, s0, s1, o0, o1, o2, f0, f1, f2, ..] = *r {
            let len = u24(a, b, c);
            let (off, flen) = (u24(o0, o1, o2), u24(f0, f1, f2));
            let Some(frag) = r.get(HANDSHAKE_HEADER..HANDSHAKE_HEADER + flen) else {
                return;
            };
            r = &r[HANDSHAKE_HEADER + flen..];
            if off + flen > len || len > MAX_MESSAGE_BYTES {
                continue;
            }
            self.fragment(t, u16::from_be_bytes([s0, s1]), len, off, frag);
        }
    }

    fn fragment(&mut self, msg_type: u8, seq: u16, len: usize, off: usize, frag: &[u8]) {
        let wanted = match msg_type {
            CLIENT_HELLO => self.info.client_hello.is_none(),
            SERVER_HELLO => self.info.server_hello.is_none(),
            CERTIFICATE => !self.certificates_done,
            _ => false,
        };
        if !wanted {
            return;
        }
        let at = match self
            .pending
            .iter()
            .position(|m| m.msg_type == msg_type && m.seq == seq && m.len == len)
        {
            Some(at) => at,
            None if self.pending.len() < MAX_MESSAGES => {
                self.pending.push(Message {
                    msg_type,
                    seq,
                    len,
                    body: RangeBuffer::new(len),
                });
                self.pending.len() - 1
            }
            None => return,
        };
        let m = &mut self.pending[at];
        m.body.insert(off, frag);
        if m.body.prefix_len() < len {
            return;
        }
        let m = self.pending.swap_remove(at);
        self.message(m.msg_type, m.body.prefix());
    }

    /// A whole handshake message, as its TLS form.
    fn message(&mut self, msg_type: u8, body: &[u8]) {
        match msg_type {
            CLIENT_HELLO => match client_hello(body) {
                Parse::Done(ch) => self.info.client_hello = Some(ch),
                Parse::Malformed(why) => self.info.malformed = Some(why),
                Parse::NeedMore => self.info.malformed = Some("ClientHello cut short"),
            },
            SERVER_HELLO => match server_hello(body) {
                Parse::Done(sh) => self.info.server_hello = Some(sh),
                Parse::Malformed(why) => self.info.malformed = Some(why),
                Parse::NeedMore => self.info.malformed = Some("ServerHello cut short"),
            },
            _ => {
                self.certificates_done = true;
                match certificate_message(body) {
                    Parse::Done(Chain { ders, .. }) => self.info.ders = ders,
                    Parse::Malformed(why) => self.info.malformed = Some(why),
                    Parse::NeedMore => {}
                }
            }
        }
        if self.is_finished() {
            self.pending = Vec::new();
        }
    }

    pub fn info(&self) -> &DtlsInfo {
        &self.info
    }

    pub fn into_info(self) -> DtlsInfo {
        self.info
    }
}

/// A DTLS ClientHello body read as TLS: its cookie (after the session id)
/// taken out.
fn client_hello(body: &[u8]) -> Parse<ClientHello> {
    let sid_at = 2 + 32;
    let Some(&sid_len) = body.get(sid_at) else {
        return Parse::Malformed("DTLS ClientHello cut before its session id");
    };
    let cookie_at = sid_at + 1 + usize::from(sid_len);
    let Some(&cookie_len) = body.get(cookie_at) else {
        return Parse::Malformed("DTLS ClientHello cut before its cookie");
    };
    let rest_at = cookie_at + 1 + usize::from(cookie_len);
    let Some(rest) = body.get(rest_at..) else {
        return Parse::Malformed("DTLS ClientHello cookie overruns the message");
    };
    let mut tls_body = body[..cookie_at].to_vec();
    tls_body.extend_from_slice(rest);
    parse_client_hello_message(&tls_message(CLIENT_HELLO, &tls_body))
}

/// A DTLS ServerHello body read as TLS. The TLS parser knows TLS
/// versions only: DTLS 1.0 is read as TLS 1.1 and 1.2 as 1.2, their shapes,
/// then the DTLS version is put back.
fn server_hello(body: &[u8]) -> Parse<ServerHello> {
    let (Some(&[v0, v1]), Some(rest)) =
        (body.get(..2).map(|v| [v[0], v[1]]).as_ref(), body.get(2..))
    else {
        return Parse::Malformed("DTLS ServerHello cut before its version");
    };
    let tls = match (v0, v1) {
        (0xfe, 0xff) | (1, 0) => [3, 2],
        (0xfe, _) => [3, 3],
        _ => return Parse::Malformed("DTLS ServerHello version is not DTLS"),
    };
    let mut as_tls = tls.to_vec();
    as_tls.extend_from_slice(rest);
    match parse_server_hello_message(&tls_message(SERVER_HELLO, &as_tls)) {
        Parse::Done(mut sh) => {
            sh.legacy_version = u16::from_be_bytes([v0, v1]);
            Parse::Done(sh)
        }
        other => other,
    }
}

/// A TLS handshake message: type, 3-byte length, body.
fn tls_message(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(4 + body.len());
    m.push(msg_type);
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

/// A DTLS record version: 0xfeff (1.0), 0xfefd (1.2), 0xfefc (1.3), or
/// OpenSSL's pre-standard 0x0100.
fn is_dtls_version(v0: u8, v1: u8) -> bool {
    matches!((v0, v1), (0xfe, 0xff | 0xfd | 0xfc) | (1, 0))
}

fn u24(a: u8, b: u8, c: u8) -> usize {
    usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{tls_client_hello, tls_server_hello};

    /// A TLS record's handshake message turned into DTLS records: a
    /// cookie added to a ClientHello, cut into fragments of `frag` bytes.
    fn dtls_records(tls_record: &[u8], seq: u16, frag: usize, cookie: &[u8]) -> Vec<Vec<u8>> {
        let msg_type = tls_record[5];
        let mut body = tls_record[9..].to_vec();
        if msg_type == CLIENT_HELLO {
            body[0..2].copy_from_slice(&[0xfe, 0xfd]);
            let at = 2 + 32 + 1 + usize::from(body[34]);
            let mut c = vec![cookie.len() as u8];
            c.extend_from_slice(cookie);
            body.splice(at..at, c);
        } else {
            body[0..2].copy_from_slice(&[0xfe, 0xfd]);
        }
        let len = body.len();
        body.chunks(frag)
            .enumerate()
            .map(|(i, piece)| {
                let mut hs = vec![msg_type];
                hs.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
                hs.extend_from_slice(&seq.to_be_bytes());
                hs.extend_from_slice(&((i * frag) as u32).to_be_bytes()[1..]);
                hs.extend_from_slice(&(piece.len() as u32).to_be_bytes()[1..]);
                hs.extend_from_slice(piece);
                let mut rec = vec![HANDSHAKE, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, i as u8];
                rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
                rec.extend_from_slice(&hs);
                rec
            })
            .collect()
    }

    #[test]
    fn hellos_in_fragments_out_of_order_with_a_cookie() {
        let ch = dtls_records(
            &tls_client_hello("dtls.example", &["webrtc"]),
            1,
            40,
            b"cookie!",
        );
        let sh = dtls_records(&tls_server_hello(0xc02b), 1, 30, b"");
        assert!(starts_like_dtls(&ch[0]) && starts_like_dtls(&sh[0]));
        let mut t = DtlsTracker::new();
        for r in ch.iter().rev() {
            t.datagram(r);
        }
        // Two records in one datagram.
        t.datagram(&[sh[1].clone(), sh[0].clone()].concat());
        for r in &sh[2..] {
            t.datagram(r);
        }
        let info = t.info();
        let c = info.client_hello.as_ref().expect("ClientHello");
        assert_eq!(
            (c.sni.as_deref(), c.legacy_version),
            (Some("dtls.example"), 0xfefd)
        );
        assert_eq!(c.alpn, ["webrtc"]);
        assert!(c.ja4_for('d').starts_with("dd2d04"), "{}", c.ja4_for('d'));
        let s = info.server_hello.as_ref().expect("ServerHello");
        assert_eq!(s.cipher, 0xc02b);
        assert!(s.ja3s_string().starts_with("65277,49195,"));
        assert_eq!(info.malformed, None);
    }

    #[test]
    fn encrypted_epochs_and_junk_are_skipped() {
        let mut t = DtlsTracker::new();
        let mut enc = vec![23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 4];
        enc.extend([1, 2, 3, 4]);
        t.datagram(&enc);
        t.datagram(&[HANDSHAKE, 0xfe, 0xfd, 0, 0]);
        t.datagram(&[0xff; 40]);
        assert_eq!(t.info(), &DtlsInfo::default());
        assert!(!starts_like_dtls(&enc));
    }

    proptest::proptest! {
        /// A ClientHello cut into fragments of any size, delivered in any
        /// order with repeats (within the datagram budget), reads back as
        /// the same hello.
        #[test]
        fn any_fragmentation(frag in 24usize..300, order in proptest::collection::vec(0usize..64, 0..16)) {
            let records = dtls_records(&tls_client_hello("frag.example", &["h2"]), 0, frag, b"");
            let mut t = DtlsTracker::new();
            for k in &order {
                t.datagram(&records[k % records.len()]);
            }
            for r in &records {
                t.datagram(r);
            }
            let c = t.info().client_hello.as_ref().expect("ClientHello");
            proptest::prop_assert_eq!(c.sni.as_deref(), Some("frag.example"));
        }
    }
}
