//! Plaintext preambles before a tunnelled stream: SOCKS 4, 4a and 5
//! (RFC 1928, RFC 1929) and the PROXY protocol v1 and v2 (HAProxy's
//! `proxy-protocol.txt`). What follows them is the stream the client
//! meant (HTTP, TLS, …), read as if the connection started there.
//!
//! Owns: how long one direction's preamble is, told by its bytes alone (a
//! SOCKS client's greeting, optional username/password and request; a SOCKS
//! server's method choice, optional authentication status and reply; a
//! PROXY header). Does not own: the tunnelled protocol, or which side is
//! the client (each direction is tried both ways by the caller).
//!
//! Strict by design, since any flow's first bytes are tried: every field
//! must hold a value the protocol defines (versions, commands, address
//! types, a success reply), lengths must fit, and a SOCKS 4 user id or
//! PROXY v1 line is bounded. Work is linear in the bytes, nothing is
//! allocated and no input can make it panic.

use super::Parse;

/// Which preamble was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preamble {
    Socks4,
    Socks5,
    ProxyV1,
    ProxyV2,
}

impl Preamble {
    pub fn name(self) -> &'static str {
        match self {
            Preamble::Socks4 => "socks4",
            Preamble::Socks5 => "socks5",
            Preamble::ProxyV1 => "proxy_v1",
            Preamble::ProxyV2 => "proxy_v2",
        }
    }
}

/// SOCKS 4 user ids and 4a host names beyond this are not a preamble.
const MAX_SOCKS4_FIELD: usize = 255;
/// The longest PROXY v1 line, CRLF included.
const MAX_PROXY_V1: usize = 107;
const PROXY_V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// One preamble's reader: its length, or why the bytes are not it.
type Reader = fn(&[u8]) -> Parse<usize>;

/// The preamble at the front of one direction, client or server, and its
/// length: [`Parse::NeedMore`] while the bytes are a valid beginning of
/// one, [`Parse::Malformed`] when they start none.
pub fn preamble(b: &[u8]) -> Parse<(Preamble, usize)> {
    let tries: [(Reader, Preamble); 5] = [
        (socks4_request, Preamble::Socks4),
        (socks4_reply, Preamble::Socks4),
        (socks5_client, Preamble::Socks5),
        (socks5_server, Preamble::Socks5),
        (proxy_header, Preamble::ProxyV1),
    ];
    let mut need_more = false;
    for (f, kind) in tries {
        match f(b) {
            Parse::Done(n) => {
                let kind = match (kind, b.first()) {
                    (Preamble::ProxyV1, Some(b'\r')) => Preamble::ProxyV2,
                    (k, _) => k,
                };
                return Parse::Done((kind, n));
            }
            Parse::NeedMore => need_more = true,
            Parse::Malformed(_) => {}
        }
    }
    if need_more {
        Parse::NeedMore
    } else {
        Parse::Malformed("no SOCKS or PROXY preamble")
    }
}

/// A cursor answering `None` for "cut short".
struct Cur<'a>(&'a [u8], usize);

impl Cur<'_> {
    fn u8(&mut self) -> Option<u8> {
        let v = *self.0.get(self.1)?;
        self.1 += 1;
        Some(v)
    }
    fn skip(&mut self, n: usize) -> Option<()> {
        (self.0.len() >= self.1 + n).then(|| self.1 += n)
    }
    /// Bytes up to a NUL (included), at most `max` before it.
    fn c_string(&mut self, max: usize) -> Result<(), bool> {
        let rest = self.0.get(self.1..).unwrap_or_default();
        match rest.iter().take(max + 1).position(|&c| c == 0) {
            Some(i) => {
                self.1 += i + 1;
                Ok(())
            }
            None if rest.len() <= max => Err(true),
            None => Err(false),
        }
    }
}

/// Run a reader whose `None` means "cut short", `Some(false)` "not this".
fn run(b: &[u8], f: impl FnOnce(&mut Cur<'_>) -> Option<bool>) -> Parse<usize> {
    let mut c = Cur(b, 0);
    match f(&mut c) {
        Some(true) => Parse::Done(c.1),
        Some(false) => Parse::Malformed("not this preamble"),
        None => Parse::NeedMore,
    }
}

/// SOCKS 4/4a CONNECT or BIND: `04 cmd port ip userid\0 [host\0]`.
fn socks4_request(b: &[u8]) -> Parse<usize> {
    let (Some(&v), Some(&cmd)) = (b.first(), b.get(1)) else {
        return if b.first().is_none_or(|&v| v == 4) {
            Parse::NeedMore
        } else {
            Parse::Malformed("not a SOCKS 4 request")
        };
    };
    if v != 4 || !matches!(cmd, 1 | 2) {
        return Parse::Malformed("not a SOCKS 4 request");
    }
    let Some(ip) = b.get(4..8) else {
        return Parse::NeedMore;
    };
    if ip == [0; 4] {
        return Parse::Malformed("SOCKS 4 request to 0.0.0.0");
    }
    let mut c = Cur(b, 8);
    // 4a: 0.0.0.x (x ≠ 0) announces a host name after the user id.
    let fields = if ip[..3] == [0, 0, 0] { 2 } else { 1 };
    for _ in 0..fields {
        match c.c_string(MAX_SOCKS4_FIELD) {
            Ok(()) => {}
            Err(true) => return Parse::NeedMore,
            Err(false) => return Parse::Malformed("SOCKS 4 field too long"),
        }
    }
    Parse::Done(c.1)
}

/// SOCKS 4 reply granting the request: `00 5a port ip`.
fn socks4_reply(b: &[u8]) -> Parse<usize> {
    run(b, |c| {
        if c.u8()? != 0 || c.u8()? != 0x5a {
            return Some(false);
        }
        c.skip(6)?;
        Some(true)
    })
}

/// A SOCKS 5 address and port (`atyp addr port`); `Some(false)` for an
/// unknown address type.
fn socks5_address(c: &mut Cur<'_>) -> Option<bool> {
    let n = match c.u8()? {
        1 => 4,
        3 => usize::from(c.u8()?).max(1),
        4 => 16,
        _ => return Some(false),
    };
    c.skip(n + 2)?;
    Some(true)
}

/// SOCKS 5 client: greeting (`05 n methods`), optional RFC 1929
/// username/password, then the request (`05 cmd 00 address`).
fn socks5_client(b: &[u8]) -> Parse<usize> {
    run(b, |c| {
        if c.u8()? != 5 {
            return Some(false);
        }
        let n = c.u8()?;
        if n == 0 || n > 16 {
            return Some(false);
        }
        for _ in 0..n {
            if !matches!(c.u8()?, 0..=3 | 0x80..=0xfe) {
                return Some(false);
            }
        }
        if *c.0.get(c.1)? == 1 {
            c.u8()?;
            let user = c.u8()?;
            c.skip(usize::from(user))?;
            let pass = c.u8()?;
            c.skip(usize::from(pass))?;
        }
        if c.u8()? != 5 || !matches!(c.u8()?, 1..=3) || c.u8()? != 0 {
            return Some(false);
        }
        socks5_address(c)
    })
}

/// SOCKS 5 server: the method chosen (`05 m`), the authentication status
/// when username/password was chosen (`01 00`), then a success reply
/// (`05 00 00 address`).
fn socks5_server(b: &[u8]) -> Parse<usize> {
    run(b, |c| {
        if c.u8()? != 5 {
            return Some(false);
        }
        match c.u8()? {
            0 => {}
            2 => {
                if c.u8()? != 1 || c.u8()? != 0 {
                    return Some(false);
                }
            }
            _ => return Some(false),
        }
        if c.u8()? != 5 || c.u8()? != 0 || c.u8()? != 0 {
            return Some(false);
        }
        socks5_address(c)
    })
}

/// A PROXY v1 line (`PROXY TCP4|TCP6|UNKNOWN … \r\n`) or a v2 header.
fn proxy_header(b: &[u8]) -> Parse<usize> {
    if b.first() == Some(&b'\r') {
        return run(b, |c| {
            for &s in PROXY_V2_SIGNATURE {
                if c.u8()? != s {
                    return Some(false);
                }
            }
            if c.u8()? >> 4 != 2 {
                return Some(false);
            }
            c.u8()?; // family and transport
            let len = usize::from(c.u8()?) << 8 | usize::from(c.u8()?);
            c.skip(len)?;
            Some(true)
        });
    }
    const START: &[u8] = b"PROXY ";
    let head = &b[..b.len().min(START.len())];
    if !START.starts_with(head) {
        return Parse::Malformed("not a PROXY header");
    }
    let line = &b[..b.len().min(MAX_PROXY_V1)];
    match line.windows(2).position(|w| w == b"\r\n") {
        Some(i) => {
            let fields = &line[START.len().min(i)..i];
            let proto_ok = [&b"TCP4 "[..], b"TCP6 ", b"UNKNOWN"]
                .iter()
                .any(|p| fields.starts_with(p));
            if proto_ok && fields.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
                Parse::Done(i + 2)
            } else {
                Parse::Malformed("PROXY v1 line malformed")
            }
        }
        None if b.len() < MAX_PROXY_V1 => Parse::NeedMore,
        None => Parse::Malformed("PROXY v1 line too long"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socks_and_proxy_preambles_end_where_the_tunnel_starts() {
        let get = b"GET / HTTP/1.1\r\n";
        let cases: &[(&[u8], Preamble)] = &[
            (b"\x04\x01\x00\x50\x5d\xb8\xd8\x22user\0", Preamble::Socks4),
            (
                b"\x04\x01\x00\x50\x00\x00\x00\x01\0example.com\0",
                Preamble::Socks4,
            ),
            (b"\x00\x5a\x00\x50\x5d\xb8\xd8\x22", Preamble::Socks4),
            (
                b"\x05\x01\x00\x05\x01\x00\x01\x5d\xb8\xd8\x22\x01\xbb",
                Preamble::Socks5,
            ),
            (
                b"\x05\x02\x00\x02\x01\x03bob\x03pwd\x05\x01\x00\x03\x0bexample.com\x00\x50",
                Preamble::Socks5,
            ),
            (
                b"\x05\x00\x05\x00\x00\x01\x0a\x00\x00\x01\x04\x38",
                Preamble::Socks5,
            ),
            (
                b"\x05\x02\x01\x00\x05\x00\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x04\x38",
                Preamble::Socks5,
            ),
            (
                b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n",
                Preamble::ProxyV1,
            ),
            (b"PROXY UNKNOWN\r\n", Preamble::ProxyV1),
        ];
        for &(head, kind) in cases {
            let mut b = head.to_vec();
            b.extend_from_slice(get);
            assert_eq!(preamble(&b), Parse::Done((kind, head.len())), "{head:?}");
            // Every cut before the end asks for more.
            for cut in 1..head.len() {
                assert!(
                    preamble(&head[..cut]).is_need_more(),
                    "{head:?} cut at {cut}"
                );
            }
        }
        let mut v2 = PROXY_V2_SIGNATURE.to_vec();
        v2.extend([0x21, 0x11, 0, 12]);
        v2.extend([192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0x01, 0xbb]);
        let n = v2.len();
        v2.extend_from_slice(get);
        assert_eq!(preamble(&v2), Parse::Done((Preamble::ProxyV2, n)));
    }

    #[test]
    fn other_streams_are_not_preambles() {
        for b in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"\x00\x1c\x12\x34\x01\x00\x00\x01",
            // A failed SOCKS 5 reply and a refused SOCKS 4 one.
            b"\x05\x00\x05\x01\x00\x01\x0a\x00\x00\x01\x04\x38",
            b"\x00\x5b\x00\x50\x5d\xb8\xd8\x22",
            b"PROXY TCP9 nonsense\r\n",
        ] {
            assert!(preamble(b).is_malformed(), "{b:?}");
        }
        // Unbounded fields are refused, not waited on forever.
        let mut long = b"\x04\x01\x00\x50\x5d\xb8\xd8\x22".to_vec();
        long.extend([b'u'; 300]);
        assert!(preamble(&long).is_malformed());
        assert!(preamble(&[b'P'; 200]).is_malformed());
    }

    proptest::proptest! {
        /// Any bytes: no panic; a preamble found lies within them, is found
        /// the same on its own bytes, and each cut of it asks for more.
        #[test]
        fn any_bytes(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Parse::Done((kind, n)) = preamble(&data) {
                proptest::prop_assert!(n > 0 && n <= data.len());
                proptest::prop_assert_eq!(preamble(&data[..n]), Parse::Done((kind, n)));
                for cut in 1..n {
                    proptest::prop_assert!(preamble(&data[..cut]).is_need_more());
                }
            }
        }

        /// SOCKS 5 exchanges of any address and credentials are found
        /// whole, on both sides.
        #[test]
        fn socks5_exchanges(
            host in "[a-z0-9.-]{1,40}",
            port in proptest::num::u16::ANY,
            auth in proptest::option::of(("[a-z]{0,20}", "[a-z]{0,20}")),
        ) {
            let mut client = vec![5, 1, if auth.is_some() { 2 } else { 0 }];
            if let Some((u, p)) = &auth {
                client.push(1);
                client.push(u.len() as u8);
                client.extend(u.bytes());
                client.push(p.len() as u8);
                client.extend(p.bytes());
            }
            client.extend([5, 1, 0, 3, host.len() as u8]);
            client.extend(host.bytes());
            client.extend(port.to_be_bytes());
            let n = client.len();
            client.extend(b"\x16\x03\x01");
            proptest::prop_assert_eq!(preamble(&client), Parse::Done((Preamble::Socks5, n)));
            let mut server = vec![5, if auth.is_some() { 2 } else { 0 }];
            if auth.is_some() {
                server.extend([1, 0]);
            }
            server.extend([5, 0, 0, 1, 10, 0, 0, 1]);
            server.extend(port.to_be_bytes());
            let m = server.len();
            server.extend(b"HTTP/1.1 200 OK\r\n");
            proptest::prop_assert_eq!(preamble(&server), Parse::Done((Preamble::Socks5, m)));
        }
    }
}
