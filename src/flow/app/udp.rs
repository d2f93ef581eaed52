//! Reading a UDP flow's datagrams: the handshake trackers (QUIC, DTLS),
//! DHCP, HTTP heads and DNS by port or content.

use super::*;

/// The handshake trackers of UDP protocols: one per flow, chosen by the
/// datagram that opened like it.
#[derive(Debug)]
pub(super) enum Handshake {
    Quic(QuicTracker),
    Dtls(DtlsTracker),
}

impl AppTracker {
    /// A UDP datagram sent by side `dir` (0 up, 1 down).
    pub(crate) fn datagram(&mut self, dir: usize, payload: &[u8], sink: &mut AppSink<'_>) {
        // A flow named by its first datagrams (STUN) may start DTLS later.
        if self.handshake.is_none() && self.info.ident.is_some() && starts_like_dtls(payload) {
            self.handshake = Some(Box::new(Handshake::Dtls(DtlsTracker::new())));
        }
        read_fields(&mut self.info, &mut self.fields_done, dir, payload);
        match self.handshake.as_deref_mut() {
            Some(Handshake::Quic(q)) => {
                if !q.is_finished() {
                    q.datagram(payload, dir == 0);
                }
                return;
            }
            Some(Handshake::Dtls(d)) => {
                d.datagram(payload);
                return;
            }
            None => {}
        }
        // The up side sent the flow's first packet: ports as it used them.
        let (sport, dport) = if dir == 0 {
            self.ports
        } else {
            (self.ports.1, self.ports.0)
        };
        match parse_dhcp(sport, dport, payload) {
            Some(Parse::Done(m)) => {
                self.info.dhcp.get_or_insert_with(Box::default).add(m);
                return;
            }
            Some(Parse::NeedMore) if !self.dns_port => {
                self.info
                    .refuse(sink.anomalies, Anomaly::DhcpMalformed, "message cut short");
                return;
            }
            Some(Parse::Malformed(why)) if !self.dns_port => {
                self.info
                    .refuse(sink.anomalies, Anomaly::DhcpMalformed, why);
                return;
            }
            _ => {}
        }
        if self.udp_http && self.http_datagram(payload) {
            return;
        }
        // On a DNS port, a datagram that is not a plausible DNS message may
        // be another protocol's there (DNSCrypt's responses on 5353).
        if self.dns_port && self.info.ident.is_none() && !is_plausible_message(payload) {
            self.info.ident = crate::proto::ident::identify_name(payload, false);
            if self.info.ident.is_some() {
                return;
            }
        }
        // By content, only whole plausible messages count; a datagram that
        // is not one is another protocol's, not a malformed DNS message.
        if self.dns_port || (self.dns_content && is_plausible_message(payload)) {
            match parse_message(payload) {
                Parse::Done(m) => {
                    self.info.dns.get_or_insert_with(Box::default).add(&m);
                    sink.dns(dir == 0, false, m);
                }
                Parse::NeedMore => {
                    self.info
                        .refuse(sink.anomalies, Anomaly::DnsMalformed, "message cut short");
                }
                Parse::Malformed(why) => {
                    self.info.refuse(sink.anomalies, Anomaly::DnsMalformed, why);
                }
            }
        }
    }

    /// An HTTP head filling a datagram (SSDP's M-SEARCH and NOTIFY, their
    /// responses): counted like a TCP connection's heads, the first request
    /// and response kept. Whether it was one.
    fn http_datagram(&mut self, payload: &[u8]) -> bool {
        if let Parse::Done(head) = parse_request_head(payload) {
            let http = self.info.http.get_or_insert_with(Box::default);
            http.requests += 1;
            http.request.get_or_insert(head);
            return true;
        }
        if let Parse::Done(head) = parse_response_head(payload) {
            let http = self.info.http.get_or_insert_with(Box::default);
            http.responses += 1;
            if head.status >= 200 {
                http.final_status.get_or_insert(head.status);
            }
            http.response.get_or_insert(head);
            return true;
        }
        false
    }
}
