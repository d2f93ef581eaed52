//! The few fields an identified protocol offers in its first bytes, for
//! the `flows` columns users ask for: SSH banners (client software and
//! version, the classic fingerprint), the server greeting of SMTP, FTP,
//! POP3 and IMAP (server software, host name), the Kerberos realm and
//! client principal (who authenticated), SIP's From, To and User-Agent
//! (who called whom, with what), and MQTT's client id (which device).
//!
//! Each value is cut to [`MAX_FIELD_BYTES`] and kept as text (invalid
//! UTF-8 replaced); the first value seen is kept.

use super::asn1;
use super::stream::mqtt_connect_body;

/// Longest value kept per field.
pub const MAX_FIELD_BYTES: usize = 255;

/// The fields read (each `None` until seen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppFields {
    pub ssh_client: Option<String>,
    pub ssh_server: Option<String>,
    /// The server's greeting line (SMTP, FTP, POP3, IMAP).
    pub banner: Option<String>,
    pub krb_realm: Option<String>,
    /// Client principal name strings joined by `/` (`user`,
    /// `host/server.example.org`).
    pub krb_principal: Option<String>,
    /// The address of a SIP request's From and To (the URI inside `<>`,
    /// or the value before its parameters).
    pub sip_from: Option<String>,
    pub sip_to: Option<String>,
    pub sip_user_agent: Option<String>,
    pub mqtt_client_id: Option<String>,
}

impl AppFields {
    pub fn is_empty(&self) -> bool {
        *self == AppFields::default()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(MAX_FIELD_BYTES)]).into_owned()
}

fn keep(slot: &mut Option<String>, v: &[u8]) {
    if slot.is_none() && !v.is_empty() {
        *slot = Some(text(v));
    }
}

/// The first line, if whole.
fn line(b: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b'\n', &b[..b.len().min(1024)])?;
    Some(b[..end].strip_suffix(b"\r").unwrap_or(&b[..end]))
}

/// Read what the first bytes `b` of one side of a flow identified as
/// `name` offer; `client` when the side opened the flow. Whether this
/// side has nothing more to give (its fields read, or none to read).
pub fn read(name: &str, client: bool, b: &[u8], f: &mut AppFields) -> bool {
    match name {
        "ssh" => match line(b) {
            Some(l) if l.starts_with(b"SSH-") => {
                keep(
                    if client {
                        &mut f.ssh_client
                    } else {
                        &mut f.ssh_server
                    },
                    l,
                );
                true
            }
            Some(_) => true,
            None => b.len() >= 1024,
        },
        "smtp" | "ftp" | "pop3" | "imap" => match line(b) {
            Some(l) => {
                let greeting = l.starts_with(b"220")
                    || l.starts_with(b"+OK")
                    || l.starts_with(b"* OK")
                    || l.starts_with(b"* PREAUTH");
                if greeting {
                    keep(&mut f.banner, l);
                }
                true
            }
            None => b.len() >= 1024,
        },
        "kerberos" => {
            // Over TCP a 4-byte length comes first.
            let m = match b {
                [0, _, _, _, rest @ ..] => rest,
                _ => b,
            };
            let (realm, principal) = asn1::kerberos_names(m);
            if let Some(r) = realm {
                keep(&mut f.krb_realm, r.as_bytes());
            }
            if let Some(p) = principal {
                keep(&mut f.krb_principal, p.as_bytes());
            }
            f.krb_realm.is_some() && f.krb_principal.is_some()
        }
        "sip" => {
            sip(b, f);
            f.sip_from.is_some() || b.len() >= 2048
        }
        "mqtt" => {
            if let Some(id) = mqtt_client_id(b) {
                keep(&mut f.mqtt_client_id, id);
            }
            true
        }
        _ => true,
    }
}

/// From, To (long or compact names) and User-Agent of a SIP request.
fn sip(b: &[u8], f: &mut AppFields) {
    let mut lines = b[..b.len().min(4096)].split(|&c| c == b'\n');
    let Some(first) = lines.next() else {
        return;
    };
    // Responses name the same parties; only requests carry the caller's
    // User-Agent.
    let request = !first.starts_with(b"SIP/");
    for l in lines {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.is_empty() {
            break;
        }
        let Some(colon) = l.iter().position(|&c| c == b':') else {
            continue;
        };
        let name = l[..colon].trim_ascii();
        let value = l[colon + 1..].trim_ascii();
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("from") || is("f") {
            keep(&mut f.sip_from, address(value));
        } else if is("to") || is("t") {
            keep(&mut f.sip_to, address(value));
        } else if request && is("user-agent") {
            keep(&mut f.sip_user_agent, value);
        }
    }
}

/// The URI of a name-addr (`"Bob" <sip:bob@example.com>;tag=1`) or the
/// addr-spec before its parameters.
fn address(v: &[u8]) -> &[u8] {
    if let (Some(open), Some(close)) = (
        v.iter().position(|&c| c == b'<'),
        v.iter().position(|&c| c == b'>'),
    ) {
        if open < close {
            return &v[open + 1..close];
        }
    }
    let end = v.iter().position(|&c| c == b';').unwrap_or(v.len());
    v[..end].trim_ascii()
}

/// The client identifier of an MQTT CONNECT (3.1, 3.1.1 or 5).
fn mqtt_client_id(b: &[u8]) -> Option<&[u8]> {
    let (body, level) = mqtt_connect_body(b)?;
    // Connect flags, keep alive.
    let mut rest = body.get(3..)?;
    if level == 5 {
        // Properties: a variable-length integer, then that many bytes.
        let n = rest.iter().take(4).position(|&c| c & 0x80 == 0)?;
        let len = rest[..=n]
            .iter()
            .rev()
            .fold(0usize, |a, &c| a << 7 | usize::from(c & 0x7f));
        rest = rest.get(n + 1 + len..)?;
    }
    let [l0, l1, id @ ..] = rest else {
        return None;
    };
    id.get(..usize::from(u16::from_be_bytes([*l0, *l1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_each_protocol() {
        let mut f = AppFields::default();
        assert!(read(
            "ssh",
            true,
            b"SSH-2.0-OpenSSH_9.6p1 Ubuntu\r\n",
            &mut f
        ));
        assert!(read("ssh", false, b"SSH-2.0-dropbear_2022.83\r\n", &mut f));
        assert_eq!(
            f.ssh_client.as_deref(),
            Some("SSH-2.0-OpenSSH_9.6p1 Ubuntu")
        );
        assert_eq!(f.ssh_server.as_deref(), Some("SSH-2.0-dropbear_2022.83"));
        assert!(read("smtp", true, b"EHLO client.example\r\n", &mut f));
        assert_eq!(f.banner, None);
        assert!(!read("smtp", false, b"220 mx.example.com ESMTP", &mut f));
        assert!(read("smtp", false, b"220 mx.example.com ESMTP\r\n", &mut f));
        assert_eq!(f.banner.as_deref(), Some("220 mx.example.com ESMTP"));

        let invite = b"INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a\r\n\
From: \"Alice\" <sip:alice@a.example>;tag=1\r\nt: sip:bob@b.example;x=y\r\n\
User-Agent: Linphone/5.0\r\n\r\n";
        read("sip", true, invite, &mut f);
        assert_eq!(f.sip_from.as_deref(), Some("sip:alice@a.example"));
        assert_eq!(f.sip_to.as_deref(), Some("sip:bob@b.example"));
        assert_eq!(f.sip_user_agent.as_deref(), Some("Linphone/5.0"));

        // MQTT 3.1.1 and 5 CONNECT (5 with a 5-byte property block).
        let v4 = b"\x10\x14\x00\x04MQTT\x04\x02\x00\x3c\x00\x08sensor-1";
        let v5 = b"\x10\x1a\x00\x04MQTT\x05\x02\x00\x3c\x05\x11\x00\x00\x0e\x10\x00\x08sensor-2";
        assert_eq!(mqtt_client_id(v4), Some(&b"sensor-1"[..]));
        assert_eq!(mqtt_client_id(v5), Some(&b"sensor-2"[..]));

        let krb = asn1::tests::as_req();
        assert!(read("kerberos", true, &krb, &mut f));
        assert_eq!(f.krb_realm.as_deref(), Some("EXAMPLE.ORG"));
        assert_eq!(f.krb_principal.as_deref(), Some("user"));
    }
}
