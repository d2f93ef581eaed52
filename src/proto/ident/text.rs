//! Detectors of line-oriented protocols: a first line (banner, greeting,
//! command or request line) that only the protocol writes.

use super::{contains_ci, first_line, starts_ci};

/// `SSH-2.0-…` / `SSH-1.99-…` / `SSH-1.5-…` identification string.
pub(super) fn ssh(b: &[u8]) -> bool {
    b.starts_with(b"SSH-")
        && first_line(b).is_some_and(|l| {
            l.starts_with(b"SSH-2.0-") || l.starts_with(b"SSH-1.99-") || l.starts_with(b"SSH-1.5-")
        })
}

/// A greeting line of reply code 220 (`220 text` or `220-text`).
fn greeting_220(l: &[u8]) -> bool {
    l.starts_with(b"220 ") || l.starts_with(b"220-")
}

/// A server greeting `220 … SMTP` / `ESMTP`, or a client's `EHLO`/`HELO`.
pub(super) fn smtp(b: &[u8]) -> bool {
    matches!(b.first(), Some(b'2' | b'E' | b'H' | b'e' | b'h'))
        && first_line(b).is_some_and(|l| {
            (greeting_220(l) && contains_ci(l, b"SMTP"))
                || starts_ci(l, b"EHLO ")
                || starts_ci(l, b"HELO ")
        })
}

/// A server greeting `220 … FTP`.
pub(super) fn ftp(b: &[u8]) -> bool {
    b.starts_with(b"220")
        && first_line(b).is_some_and(|l| greeting_220(l) && contains_ci(l, b"FTP"))
}

/// A server greeting `+OK …` (the first bytes of a server direction).
pub(super) fn pop3(b: &[u8]) -> bool {
    b.starts_with(b"+OK") && first_line(b).is_some_and(|l| l.starts_with(b"+OK"))
}

/// A server greeting `* OK …` / `* PREAUTH …`.
pub(super) fn imap(b: &[u8]) -> bool {
    b.starts_with(b"* ")
        && first_line(b).is_some_and(|l| l.starts_with(b"* OK") || l.starts_with(b"* PREAUTH"))
}

/// A request line ending in ` <proto>/<d>.<d>` with an upper-case method,
/// or a status line `<proto>/<d>.<d> nnn`.
fn start_line(l: &[u8], proto: &[u8]) -> bool {
    let version = |v: &[u8]| {
        v.len() == proto.len() + 4
            && v.starts_with(proto)
            && v[proto.len()] == b'/'
            && v[proto.len() + 1].is_ascii_digit()
            && v[proto.len() + 2] == b'.'
            && v[proto.len() + 3].is_ascii_digit()
    };
    let n = proto.len() + 4;
    let status = l.len() >= n + 4
        && version(&l[..n])
        && l[n] == b' '
        && l[n + 1..n + 4].iter().all(u8::is_ascii_digit);
    let request = l.len() > n + 2
        && l.first().is_some_and(u8::is_ascii_uppercase)
        && l[l.len() - n - 1] == b' '
        && version(&l[l.len() - n..]);
    status || request
}

/// A SIP request line (`INVITE sip:… SIP/2.0`) or status line.
pub(super) fn sip(b: &[u8]) -> bool {
    b.first().is_some_and(u8::is_ascii_uppercase)
        && first_line(b).is_some_and(|l| start_line(l, b"SIP"))
}

/// An RTSP request line (`OPTIONS rtsp://… RTSP/1.0`) or status line.
pub(super) fn rtsp(b: &[u8]) -> bool {
    b.first().is_some_and(u8::is_ascii_uppercase)
        && first_line(b).is_some_and(|l| start_line(l, b"RTSP"))
}

/// SSDP's request lines alone (an `M-SEARCH` or `NOTIFY` datagram cut
/// before its empty line; whole heads are read as HTTP).
pub(super) fn ssdp(b: &[u8]) -> bool {
    matches!(b.first(), Some(b'M' | b'N'))
        && first_line(b).is_some_and(|l| l == b"M-SEARCH * HTTP/1.1" || l == b"NOTIFY * HTTP/1.1")
}

/// A RESP array command (`*<n>\r\n$<len>\r\n…`).
pub(super) fn redis(b: &[u8]) -> bool {
    if b.first() != Some(&b'*') {
        return false;
    }
    let Some(line) = first_line(b) else {
        return false;
    };
    let [b'*', digits @ ..] = line else {
        return false;
    };
    !digits.is_empty()
        && digits.len() <= 4
        && digits.iter().all(u8::is_ascii_digit)
        && b.get(line.len() + 2) == Some(&b'$')
}

/// Option negotiation: `IAC` (0xff) then `WILL`/`WONT`/`DO`/`DONT` and an
/// option, at least twice in a row, or once filling the bytes.
pub(super) fn telnet(b: &[u8]) -> bool {
    let mut n = 0;
    let mut at = 0;
    while let Some(&[0xff, cmd, opt]) = b.get(at..at + 3) {
        if !(0xfb..=0xfe).contains(&cmd) || (opt > 49 && opt != 0xff) {
            break;
        }
        n += 1;
        at += 3;
    }
    n >= 2 || (n == 1 && at == b.len())
}

/// `<PRI>` (0–191) then a timestamp or version and text; over TCP the
/// message may be framed by its length (RFC 6587 octet counting).
pub(super) fn syslog(b: &[u8]) -> bool {
    let digits = b.iter().take(6).take_while(|c| c.is_ascii_digit()).count();
    let b = match b.get(digits..digits + 2) {
        Some(b" <") if digits > 0 => &b[digits + 1..],
        _ => b,
    };
    let [b'<', rest @ ..] = b else {
        return false;
    };
    let Some(close) = rest.iter().take(4).position(|&c| c == b'>') else {
        return false;
    };
    let pri = &rest[..close];
    !pri.is_empty()
        && pri.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(pri)
            .ok()
            .and_then(|d| d.parse::<u16>().ok())
            .is_some_and(|p| p <= 191)
        && rest[close + 1..]
            .iter()
            .take(16)
            .all(|c| c.is_ascii_graphic() || *c == b' ')
        && rest.len() > close + 4
}

/// A memcached text command with its exact syntax (`get <keys>`,
/// `set <key> <flags> <exptime> <bytes>`, …) or a `VALUE` reply, or a
/// binary-protocol header whose lengths agree.
pub(super) fn memcached(b: &[u8]) -> bool {
    if let [0x80 | 0x81, op, k0, k1, extras, 0, _, _, t0, t1, t2, t3, ..] = b {
        let key = usize::from(u16::from_be_bytes([*k0, *k1]));
        let body = u32::from_be_bytes([*t0, *t1, *t2, *t3]) as usize;
        return *op <= 0x48
            && body >= key + usize::from(*extras)
            && (body + 24 == b.len() || (body + 24 > b.len() && b.len() >= 64));
    }
    if !matches!(b.first(), Some(b'a'..=b'z' | b'V' | b'S')) {
        return false;
    }
    let Some(line) = first_line(b) else {
        return false;
    };
    if b.get(line.len()) != Some(&b'\r') {
        return false;
    }
    let mut words = line.split(|&c| c == b' ');
    let key = |w: Option<&[u8]>| {
        w.is_some_and(|k| !k.is_empty() && k.len() <= 250 && k.iter().all(u8::is_ascii_graphic))
    };
    let number = |w: Option<&[u8]>| {
        w.is_some_and(|n| !n.is_empty() && n.len() <= 20 && n.iter().all(u8::is_ascii_digit))
    };
    match words.next() {
        Some(b"get" | b"gets") => {
            let mut n = 0;
            for w in words {
                if !key(Some(w)) {
                    return false;
                }
                n += 1;
            }
            n > 0
        }
        Some(b"set" | b"add" | b"replace" | b"append" | b"prepend") => {
            key(words.next())
                && number(words.next())
                && number(words.next())
                && number(words.next())
                && matches!(words.next(), None | Some(b"noreply"))
                && words.next().is_none()
        }
        // The answer to `stats`: its first statistic is the pid.
        Some(b"STAT") => words.next() == Some(b"pid") && number(words.next()),
        Some(b"VALUE") => {
            key(words.next())
                && number(words.next())
                && number(words.next())
                && {
                    let cas = words.next();
                    cas.is_none() || number(cas)
                }
                && words.next().is_none()
        }
        _ => false,
    }
}

/// An XMPP stream header: `<stream:stream`, after an XML declaration or
/// not, within the first bytes.
pub(super) fn xmpp(b: &[u8]) -> bool {
    if b.first() != Some(&b'<') {
        return false;
    }
    let head = &b[..b.len().min(512)];
    let open = |h: &[u8]| h.starts_with(b"<stream:stream") || h.starts_with(b"<stream ");
    open(head)
        || stanza(head)
        || (head.starts_with(b"<?xml")
            && head
                .iter()
                .position(|&c| c == b'>')
                .is_some_and(|e| open(head[e + 1..].trim_ascii_start())))
}

/// An XMPP stanza of a capture that starts after the stream header: a
/// `<presence`, `<message` or `<iq` tag whose attributes include one XMPP
/// addresses stanzas with, quoted.
fn stanza(b: &[u8]) -> bool {
    let tag = [&b"<presence"[..], b"<message ", b"<iq "]
        .into_iter()
        .find(|t| b.starts_with(t));
    let (Some(tag), Some(end)) = (tag, b.iter().position(|&c| c == b'>')) else {
        return false;
    };
    let attrs = b.get(tag.len()..end).unwrap_or_default();
    [
        &b"to='"[..],
        b"to=\"",
        b"from='",
        b"from=\"",
        b"type='",
        b"type=\"",
        b"xml:lang='",
    ]
    .iter()
    .any(|a| attrs.windows(a.len()).any(|w| w == *a))
}

/// A Git protocol request: a pkt-line (4 hex digits of length) naming a
/// service.
pub(super) fn git(b: &[u8]) -> bool {
    let [a, c, d, e, rest @ ..] = b else {
        return false;
    };
    [a, c, d, e].iter().all(|x| x.is_ascii_hexdigit())
        && [
            &b"git-upload-pack "[..],
            b"git-receive-pack ",
            b"git-upload-archive ",
        ]
        .iter()
        .any(|s| rest.starts_with(s))
}

/// NATS: the server's `INFO {…}` or the client's `CONNECT {…}`.
pub(super) fn nats(b: &[u8]) -> bool {
    b.starts_with(b"INFO {\"") || b.starts_with(b"CONNECT {\"")
}

/// A STOMP frame opening a session: `CONNECT`, `STOMP` or `CONNECTED` on
/// its own line, then a version header.
pub(super) fn stomp(b: &[u8]) -> bool {
    if !matches!(b.first(), Some(b'C' | b'S')) {
        return false;
    }
    let Some(line) = first_line(b) else {
        return false;
    };
    matches!(line, b"CONNECT" | b"STOMP" | b"CONNECTED") && {
        let rest = &b[line.len()..];
        let rest = rest.strip_prefix(b"\r").unwrap_or(rest);
        let rest = rest.strip_prefix(b"\n").unwrap_or_default();
        rest.split(|&c| c == b'\n')
            .take(16)
            .any(|h| h.starts_with(b"accept-version:") || h.starts_with(b"version:"))
    }
}

/// A Stratum mining request or answer: a JSON-RPC object naming a
/// `mining.` method (subscribe, authorize, submit …) or XMRig's `login`
/// with an agent.
pub(super) fn stratum(b: &[u8]) -> bool {
    if b.first() != Some(&b'{') {
        return false;
    }
    let head = &b[..b.len().min(256)];
    let has = |k: &[u8]| head.windows(k.len()).any(|w| w == k);
    head.starts_with(b"{")
        && (has(b"\"method\":\"mining.")
            || has(b"\"method\": \"mining.")
            || (has(b"\"method\":\"login\"") && has(b"\"agent\"")))
}

/// A FIX session message: `8=FIX` (or `8=FIXT`) begin string, then the
/// body length tag, SOH-separated.
pub(super) fn fix(b: &[u8]) -> bool {
    (b.starts_with(b"8=FIX.") || b.starts_with(b"8=FIXT."))
        && b.iter()
            .take(16)
            .position(|&c| c == 1)
            .is_some_and(|i| b[i + 1..].starts_with(b"9="))
}

/// An NNTP server greeting (`200`/`201` naming NNTP or news) or a
/// reader's `MODE READER`.
pub(super) fn nntp(b: &[u8]) -> bool {
    if !matches!(b.first(), Some(b'2' | b'M')) {
        return false;
    }
    first_line(b).is_some_and(|l| {
        ((l.starts_with(b"200 ") || l.starts_with(b"201 "))
            && (contains_ci(l, b"NNTP") || contains_ci(l, b"news")))
            || l == b"MODE READER"
    })
}

/// TiVo's discovery beacon: `tivoconnect=1` first.
pub(super) fn tivoconnect(b: &[u8]) -> bool {
    super::starts_ci(b, b"tivoconnect=")
}

/// A Megaco/H.248 text message: `MEGACO/1` or its compact `!/1`, then a
/// message identifier (`[address]` or `<name>`).
pub(super) fn megaco(b: &[u8]) -> bool {
    let rest = if let Some(r) = b.strip_prefix(b"MEGACO/") {
        r
    } else if let Some(r) = b.strip_prefix(b"!/") {
        r
    } else {
        return false;
    };
    matches!(rest, [b'1'..=b'3', b' ', b'[' | b'<', ..])
}

/// Checkmk's agent output header.
pub(super) fn checkmk(b: &[u8]) -> bool {
    b.starts_with(b"<<<check_mk>>>")
}

/// The rsync daemon greeting `@RSYNCD: <version>`.
pub(super) fn rsync(b: &[u8]) -> bool {
    b.starts_with(b"@RSYNCD: ") && b.get(9).is_some_and(u8::is_ascii_digit)
}
