//! A flow's end: what its parsers found, put together into its
//! [`AppInfo`] (certificates decoded, fingerprints computed, reasons kept).

use super::*;

/// Ports IANA registers for a service over TLS from the first byte, and
/// the service's name.
const IMPLICIT_TLS: &[(u16, &str)] = &[
    (465, "smtp"),
    (563, "nntp"),
    (636, "ldap"),
    (853, "dot"),
    (990, "ftp"),
    (993, "imap"),
    (995, "pop3"),
    (5061, "sip"),
    (8883, "mqtt"),
];

impl AppTracker {
    /// What was found, if anything; anomalies of the end go to `anomalies`.
    pub(crate) fn finish(
        mut self,
        anomalies: &mut Vec<Anomaly>,
        certs: &mut CertCache,
    ) -> Option<Box<AppInfo>> {
        // A server flight cut by the capture's end: take what is there.
        for side in &self.sides {
            let Side::Reading(r) = side else {
                continue;
            };
            let Mode::Certificates(at) = r.mode else {
                continue;
            };
            let bytes = r.bytes().get(at..).unwrap_or_default();
            if let Parse::Done(chain) = server_certificates(bytes, true) {
                if let Some(tls) = self.info.tls.as_mut() {
                    tls.chain_truncated = chain.truncated;
                }
                self.ders = chain.ders;
            }
        }
        if let Some(mut scanner) = self.http.take() {
            fn bytes(s: &Side) -> &[u8] {
                match s {
                    Side::Reading(r) => r.bytes(),
                    Side::Done => &[],
                }
            }
            scanner.finish(bytes(&self.sides[0]), bytes(&self.sides[1]));
            // A head that could not be read counts whether or not another
            // was: a head past 16 KiB with no head before it was silent.
            let mut malformed = false;
            for dir in 0..2 {
                // (a head past the bound counted `app_message_too_long`)
                if let Some(WalkEnd::Malformed(why)) = scanner.walk_end(dir) {
                    if why == crate::proto::http::HEAD_TOO_LONG {
                        continue;
                    }
                    malformed = true;
                    self.info.error("http", why);
                }
            }
            if malformed {
                anomalies.push(Anomaly::HttpMalformed);
            }
            let info = scanner.into_info();
            if info.request.is_some() || info.response.is_some() {
                if let Some(r) = &info.request {
                    let absolute = r
                        .target
                        .get(..7)
                        .is_some_and(|t| t.eq_ignore_ascii_case("http://"));
                    if r.method.eq_ignore_ascii_case("CONNECT") {
                        self.info.proxy.get_or_insert(Proxy::HttpConnect);
                    } else if absolute {
                        self.info.proxy.get_or_insert(Proxy::HttpForward);
                    }
                }
                self.info.http = Some(Box::new(info));
            }
        }
        let mut quic_hello = false;
        let (quic, dtls) = match self.handshake.take().map(|h| *h) {
            Some(Handshake::Quic(q)) => (Some(q), None),
            Some(Handshake::Dtls(d)) => (None, Some(d)),
            None => (None, None),
        };
        if let Some(q) = quic {
            if q.anomalies().next().is_some() {
                anomalies.push(Anomaly::QuicMalformed);
            }
            for a in q.anomalies() {
                self.info.error("quic", a.name());
            }
            let mut info = q.into_info();
            let server = info.server_hello.take();
            if let Some(ch) = info.client_hello.take() {
                quic_hello = true;
                self.info.tls = Some(Box::new(TlsInfo {
                    client: Some(ch),
                    server,
                    ..TlsInfo::default()
                }));
            }
            // A flow that opened like QUIC but showed no version is not.
            if info.version != 0 || quic_hello {
                self.info.quic = Some(Box::new(info));
            }
        }
        if let Some(d) = dtls {
            let info = d.into_info();
            if let Some(why) = info.malformed {
                anomalies.push(Anomaly::TlsMalformed);
                self.info.error("dtls", why);
            }
            if info.client_hello.is_some() || info.server_hello.is_some() {
                self.info.tls = Some(Box::new(TlsInfo {
                    client: info.client_hello,
                    server: info.server_hello,
                    dtls: true,
                    ..TlsInfo::default()
                }));
                self.ders = info.ders;
            }
        }
        if let Some(tls) = self.info.tls.as_mut() {
            for der in &self.ders {
                let (c, malformed) = certs.decode(der);
                if let Some(why) = malformed {
                    anomalies.push(Anomaly::CertMalformed);
                    if tls.errors.len() < MAX_APP_ERRORS {
                        tls.errors.push(why);
                    }
                }
                tls.certificates.push(c);
            }
            if let Some(c) = &tls.client {
                if c.lists_capped {
                    anomalies.push(Anomaly::TlsHelloCapped);
                    if tls.errors.len() < MAX_APP_ERRORS {
                        tls.errors
                            .push("hello list past 512 values: fingerprints over the first 512");
                    }
                }
                let ja3 = c.ja3_string();
                // No JA3 for an SSLv2 hello (an empty string), as TShark.
                tls.fingerprints.ja3_hash = if ja3.is_empty() {
                    String::new()
                } else {
                    crate::proto::tls::md5_hex(&ja3)
                };
                tls.fingerprints.ja3 = ja3;
                tls.fingerprints.ja4 = c.ja4_for(match (quic_hello, tls.dtls) {
                    (true, _) => 'q',
                    (_, true) => 'd',
                    _ => 't',
                });
            }
            if let Some(s) = &tls.server {
                let ja3s = s.ja3s_string();
                tls.fingerprints.ja3s_hash = crate::proto::tls::md5_hex(&ja3s);
                tls.fingerprints.ja3s = ja3s;
            }
        }
        if let Some(tls) = self.info.tls.as_mut() {
            for why in std::mem::take(&mut tls.errors) {
                self.info.error("x509", why);
            }
        }
        // A flow whose only messages were malformed keeps its reasons.
        self.info.role = self.role().and_then(crate::proto::ident::AppName::of);
        (self.info.protocol().is_some() || !self.info.errors().is_empty())
            .then(|| Box::new(self.info))
    }

    /// The name a parsed protocol takes in its role (`AppInfo::role`).
    fn role(&self) -> Option<&'static str> {
        let i = &self.info;
        let (a, b) = self.ports;
        let on = |p: u16| a == p || b == p;
        let ident = i.ident.map(|n| n.as_str());
        // DNSCrypt's responses, whatever port (5353 is common).
        if ident == Some("dnscrypt") {
            return Some("dnscrypt");
        }
        if i.quic.is_some() {
            return None;
        }
        if i.tls.is_some() || ident == Some("tls") {
            // TLS (a hello, or records of a capture that starts later) on
            // a port of implicit TLS: the service the port registers (DNS
            // over TLS, IMAPS, POP3S …), as nDPI names them. TLS itself is
            // known by its bytes; a protocol named by its plaintext keeps
            // its name.
            let dtls = i.tls.as_deref().is_some_and(|t| t.dtls);
            if dtls || ident.is_some_and(|n| n != "tls") {
                return None;
            }
            return IMPLICIT_TLS.iter().find(|(p, _)| on(*p)).map(|&(_, n)| n);
        }
        if let Some(dns) = i.dns.as_deref() {
            // nDPI's rule: DNSCrypt's resolvers answer certificate
            // queries for `2.dnscrypt-cert.<provider>`.
            if dns
                .queries
                .iter()
                .any(|q| q.starts_with("2.dnscrypt-cert."))
            {
                return Some("dnscrypt");
            }
            if on(5353) {
                return Some("mdns");
            }
            if on(5355) {
                return Some("llmnr");
            }
        }
        // HTTP over UDP is SSDP in practice (M-SEARCH, NOTIFY, answers).
        self.udp_http.then_some("ssdp")
    }
}
