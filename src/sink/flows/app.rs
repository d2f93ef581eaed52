//! The application-protocol columns of the `flows` table (from
//! `app_protocol` on): what each protocol's summary in
//! [`crate::flow::AppInfo`] puts in a row, null when the protocol was not
//! seen. Their meanings are in `schemas/flows.md`, the rules behind
//! `app_protocol` in `schemas/protocols.md`.

use super::*;

fn tls(f: &Flow) -> Option<&TlsInfo> {
    f.app.as_ref()?.tls.as_deref()
}

fn client(f: &Flow) -> Option<&ClientHello> {
    tls(f)?.client.as_ref()
}

fn server(f: &Flow) -> Option<&ServerHello> {
    tls(f)?.server.as_ref()
}

/// The leaf certificate (the first of the server's chain).
fn leaf(f: &Flow) -> Option<&Certificate> {
    tls(f)?.certificates.first()
}

/// The leaf, when its DER could be read (else only its fingerprint and the
/// chain length are known: the other cert_* columns are null, as in the
/// tls_certificates table).
fn leaf_read(f: &Flow) -> Option<&Certificate> {
    leaf(f).filter(|c| c.version > 0)
}

fn quic(f: &Flow) -> Option<&crate::proto::quic::QuicInfo> {
    f.app.as_ref()?.quic.as_deref()
}

/// QUIC version as people name it: `1`, `2`, `draft-29`, else hex.
fn quic_version_text(v: u32, b: &mut StringBuilder) -> bool {
    match v {
        0x0000_0001 => b.write_str("1"),
        0x6b33_43cf => b.write_str("2"),
        v if v >> 8 == 0x00ff_0000 => write!(b, "draft-{}", v & 0xff),
        // Google QUIC: Q043, T051 … in ASCII.
        v if matches!(v >> 24, 0x51 | 0x54)
            && v.to_be_bytes()[1..].iter().all(u8::is_ascii_digit) =>
        {
            b.write_str(&String::from_utf8_lossy(&v.to_be_bytes()))
        }
        v => write!(b, "0x{v:08x}"),
    }
    .is_ok()
}

fn http(f: &Flow) -> Option<&crate::proto::http::HttpInfo> {
    f.app.as_ref()?.http.as_deref()
}

fn dhcp(f: &Flow) -> Option<&crate::flow::DhcpInfo> {
    f.app.as_ref()?.dhcp.as_deref()
}

fn opt_text(v: Option<&str>, b: &mut StringBuilder) -> bool {
    v.is_some_and(|s| b.write_str(s).is_ok())
}

fn dns(f: &Flow) -> Option<&DnsInfo> {
    f.app.as_ref()?.dns.as_deref()
}

/// A nullable timestamp column (µs UTC) from seconds.
fn opt_ts_s_col(name: &str, meaning: &str, f: fn(&Flow) -> Option<i64>) -> ColumnSpec {
    let mut c = col(
        name,
        ColType::TimestampUs,
        meaning,
        "µs since epoch, UTC",
        Box::new(move |rows| {
            Arc::new(
                rows.iter()
                    .map(|r| f(r.flow).map(|s| s.saturating_mul(1_000_000)))
                    .collect::<TimestampMicrosecondArray>()
                    .with_timezone("UTC"),
            )
        }),
    );
    c.nullable = true;
    c
}

fn str_list(values: Option<&Vec<String>>, b: &mut StringBuilder) -> bool {
    match values {
        Some(v) => {
            v.iter().for_each(|x| b.append_value(x));
            true
        }
        None => false,
    }
}

/// A fingerprint computed at the flow's end; null when empty (no hello).
fn fingerprint(f: &Flow, pick: fn(&Fingerprints) -> &String, b: &mut StringBuilder) -> bool {
    tls(f)
        .map(|t| pick(&t.fingerprints))
        .is_some_and(|v| !v.is_empty() && b.write_str(v).is_ok())
}

fn u16_list(values: Option<&Vec<u16>>, b: &mut Int32Builder) -> bool {
    match values {
        Some(v) => {
            v.iter().for_each(|&x| b.append_value(i32::from(x)));
            true
        }
        None => false,
    }
}

/// The application-protocol columns (null when absent; `schemas/tls.md`,
/// `schemas/dns.md`).
pub(super) fn app_columns() -> Vec<ColumnSpec> {
    vec![
        opt_str_col(
            "app_protocol",
            "application protocol: from the flow's bytes (a protocol IP carries directly: its protocol number), else (app_confidence port) from its well-known port; names in `schemas/protocols.md`; null if neither",
            |f, b| f.app_protocol().is_some_and(|(p, _)| b.write_str(p).is_ok()),
        ),
        str_col(
            "app_confidence",
            "how app_protocol was found: dpi (the bytes), port (a well-known port only), none",
            |r, b| {
                let _ = b.write_str(r.flow.app_protocol().map_or("none", |(_, c)| c));
            },
        ),
        opt_str_col("sni", "server name of the TLS or QUIC ClientHello (SNI), or of a Google QUIC CHLO", |f, b| {
            client(f)
                .and_then(|c| c.sni.as_deref())
                .or_else(|| quic(f)?.chlo.as_ref()?.sni.as_deref())
                .is_some_and(|s| b.write_str(s).is_ok())
        }),
        opt_list_col::<StringBuilder>(
            "alpn",
            ColType::ListUtf8,
            "ALPN protocols the client offered, in order",
            |f, b| str_list(client(f).map(|c| &c.alpn), b),
        ),
        opt_str_col(
            "alpn_selected",
            "ALPN protocol the server selected",
            |f, b| {
                server(f)
                    .and_then(|s| s.alpn.as_deref())
                    .is_some_and(|a| b.write_str(a).is_ok())
            },
        ),
        opt_str_col(
            "tls_version",
            "negotiated TLS version (ServerHello; supported_versions wins over the legacy field)",
            |f, b| {
                server(f).is_some_and(|s| b.write_str(version_name(s.negotiated_version())).is_ok())
            },
        ),
        opt_list_col::<Int32Builder>(
            "tls_cipher_suites",
            ColType::ListInt32,
            "cipher suites the client offered, in order (GREASE included)",
            |f, b| u16_list(client(f).map(|c| &c.cipher_suites), b),
        ),
        opt_i32_col("tls_cipher", "cipher suite the server selected", |f| {
            server(f).map(|s| i32::from(s.cipher))
        }),
        opt_list_col::<Int32Builder>(
            "tls_extensions",
            ColType::ListInt32,
            "ClientHello extension types, in order (GREASE included)",
            |f, b| u16_list(client(f).map(|c| &c.extensions), b),
        ),
        opt_list_col::<Int32Builder>(
            "tls_supported_groups",
            ColType::ListInt32,
            "supported groups the client offered, in order",
            |f, b| u16_list(client(f).map(|c| &c.supported_groups), b),
        ),
        opt_list_col::<Int32Builder>(
            "tls_signature_algorithms",
            ColType::ListInt32,
            "signature algorithms the client offered, in order",
            |f, b| u16_list(client(f).map(|c| &c.signature_algorithms), b),
        ),
        opt_str_col("ja3", "JA3 string of the ClientHello", |f, b| {
            fingerprint(f, |p| &p.ja3, b)
        }),
        opt_str_col("ja3_hash", "JA3 (MD5 of the JA3 string, hex)", |f, b| {
            fingerprint(f, |p| &p.ja3_hash, b)
        }),
        opt_str_col("ja3s", "JA3S string of the ServerHello", |f, b| {
            fingerprint(f, |p| &p.ja3s, b)
        }),
        opt_str_col("ja3s_hash", "JA3S (MD5 of the JA3S string, hex)", |f, b| {
            fingerprint(f, |p| &p.ja3s_hash, b)
        }),
        opt_str_col("ja4", "JA4 client fingerprint (FoxIO; q… for QUIC)", |f, b| {
            fingerprint(f, |p| &p.ja4, b)
        }),
        opt_str_col(
            "quic_version",
            "QUIC version of the client's Initials (1, 2, draft-NN, Google's Q0xx/T0xx, else hex)",
            |f, b| quic(f).is_some_and(|q| quic_version_text(q.version, b)),
        ),
        opt_str_col(
            "cert_subject",
            "subject of the server's leaf certificate (RFC 4514, TLS <= 1.2)",
            |f, b| leaf_read(f).is_some_and(|c| b.write_str(&c.subject).is_ok()),
        ),
        opt_str_col("cert_issuer", "issuer of the leaf certificate (RFC 4514)", |f, b| {
            leaf_read(f).is_some_and(|c| b.write_str(&c.issuer).is_ok())
        }),
        opt_str_col(
            "cert_serial",
            "serial number of the leaf certificate (upper-case hex)",
            |f, b| leaf_read(f).is_some_and(|c| b.write_str(&c.serial).is_ok()),
        ),
        opt_ts_s_col("cert_not_before", "leaf certificate valid from", |f| {
            leaf_read(f).map(|c| c.not_before)
        }),
        opt_ts_s_col("cert_not_after", "leaf certificate valid until", |f| {
            leaf_read(f).map(|c| c.not_after)
        }),
        opt_list_col::<StringBuilder>(
            "cert_san",
            ColType::ListUtf8,
            "subjectAltName entries of the leaf certificate (DNS, IP, e-mail, URI)",
            |f, b| str_list(leaf_read(f).map(|c| &c.san), b),
        ),
        opt_str_col(
            "cert_sha256",
            "SHA-256 of the leaf certificate's DER (lower-case hex)",
            |f, b| leaf(f).is_some_and(|c| b.write_str(&c.sha256).is_ok()),
        ),
        opt_i32_col(
            "cert_chain_len",
            "certificates in the server's Certificate message (kept: at most 16)",
            |f| {
                tls(f)
                    .filter(|t| !t.certificates.is_empty())
                    .map(|t| t.certificates.len() as i32)
            },
        ),
        opt_str_col("dns_query", "first DNS question name of the flow", |f, b| {
            dns(f)
                .and_then(|d| d.query.as_ref())
                .is_some_and(|q| b.write_str(&q.name).is_ok())
        }),
        opt_str_col(
            "dns_qtype",
            "type of the first question (A, AAAA, … or TYPEnnn)",
            |f, b| {
                dns(f)
                    .and_then(|d| d.query.as_ref())
                    .is_some_and(|q| type_text(q.qtype, b).is_ok())
            },
        ),
        opt_str_col(
            "dns_rcode",
            "response code of the first response (NOERROR, NXDOMAIN, … or RCODEnn)",
            |f, b| {
                dns(f)
                    .and_then(|d| d.rcode)
                    .is_some_and(|r| rcode_name(r, b).is_ok())
            },
        ),
        opt_list_col::<StringBuilder>(
            "dns_queries",
            ColType::ListUtf8,
            "distinct question names of the flow's messages, in order (at most 32)",
            |f, b| str_list(dns(f).map(|d| &d.queries), b),
        ),
        opt_str_col("http_method", "method of the first HTTP request", |f, b| {
            opt_text(http(f).and_then(|h| h.request.as_ref()).map(|r| r.method.as_str()), b)
        }),
        opt_str_col("http_host", "Host header of the first HTTP request", |f, b| {
            opt_text(http(f).and_then(|h| h.request.as_ref()?.host.as_deref()), b)
        }),
        opt_str_col("http_uri", "request target of the first HTTP request", |f, b| {
            opt_text(http(f).and_then(|h| h.request.as_ref()).map(|r| r.target.as_str()), b)
        }),
        opt_str_col("http_user_agent", "User-Agent of the first HTTP request", |f, b| {
            opt_text(http(f).and_then(|h| h.request.as_ref()?.user_agent.as_deref()), b)
        }),
        opt_i32_col(
            "http_status",
            "status of the first final (non-1xx) HTTP response",
            |f| http(f).and_then(|h| h.final_status).map(i32::from),
        ),
        opt_str_col(
            "http_content_type",
            "Content-Type of the first HTTP response",
            |f, b| opt_text(http(f).and_then(|h| h.response.as_ref()?.content_type.as_deref()), b),
        ),
        opt_str_col("http_server", "Server header of the first HTTP response", |f, b| {
            opt_text(http(f).and_then(|h| h.response.as_ref()?.server.as_deref()), b)
        }),
        opt_i32_col(
            "http_requests",
            "HTTP request heads read (within the first 16 KiB of the direction)",
            |f| http(f).map(|h| h.requests as i32),
        ),
        opt_i32_col(
            "http_responses",
            "HTTP response heads read, 1xx included (within the first 16 KiB)",
            |f| http(f).map(|h| h.responses as i32),
        ),
        opt_list_col::<StringBuilder>(
            "dhcp_message_types",
            ColType::ListUtf8,
            "DHCP/DHCPv6 message types of the flow, in order (at most 16)",
            |f, b| match dhcp(f) {
                Some(d) => {
                    d.message_types.iter().for_each(|t| b.append_value(t));
                    true
                }
                None => false,
            },
        ),
        opt_str_col("dhcp_client_mac", "client hardware address (chaddr, or a DHCPv6 link-layer DUID's)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.client_mac.as_deref()), b)
        }),
        opt_str_col("dhcp_client_id", "client identifier (option 61) or DHCPv6 client DUID, hex", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.client_id.as_deref()), b)
        }),
        opt_str_col("dhcp_hostname", "host name (option 12)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.hostname.as_deref()), b)
        }),
        opt_str_col("dhcp_fqdn", "client FQDN (DHCPv4 option 81, DHCPv6 option 39)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.fqdn.as_deref()), b)
        }),
        opt_str_col("dhcp_requested_addr", "requested address (option 50)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.requested_addr.as_deref()), b)
        }),
        opt_str_col("dhcp_assigned_addr", "address offered or assigned (yiaddr, DHCPv6 IA address)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.assigned_addr.as_deref()), b)
        }),
        opt_str_col("dhcp_vendor_class", "vendor class (DHCPv4 option 60, DHCPv6 option 16)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.vendor_class.as_deref()), b)
        }),
        opt_str_col("dhcp_server_id", "server identifier (option 54, DHCPv6 server DUID)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.server_id.as_deref()), b)
        }),
        opt_list_col::<Int32Builder>(
            "dhcp_param_request_list",
            ColType::ListInt32,
            "options the client asked for (option 55, DHCPv6 ORO), in order",
            |f, b| u16_list(dhcp(f).map(|d| &d.parameter_requests), b),
        ),
        opt_list_col::<StringBuilder>(
            "dns_answers",
            ColType::ListUtf8,
            "distinct answer values (address, name or text) of the flow's responses, in order (at most 64)",
            |f, b| str_list(dns(f).map(|d| &d.answers), b),
        ),
        opt_list_col::<StringBuilder>(
            "app_errors",
            ColType::ListUtf8,
            "why the flow's malformed messages were refused, `protocol: reason` (distinct, at most 8)",
            |f, b| {
                let errors = f.app.as_ref().map(|a| a.errors()).filter(|e| !e.is_empty());
                for (proto, why) in errors.into_iter().flatten() {
                    b.append_value(format!("{proto}: {why}"));
                }
                errors.is_some()
            },
        ),
        opt_str_col(
            "app_proxy",
            "the proxy the flow's bytes show: socks4, socks5, proxy_v1, proxy_v2 (PROXY protocol), http_connect, http (absolute-form requests); app_protocol names what it carried",
            |f, b| opt_text(f.app.as_ref().and_then(|a| a.proxy).map(|p| p.name()), b),
        ),
        opt_str_col("ssh_client", "SSH identification string of the flow's opening side (`SSH-2.0-OpenSSH_9.6`)", |f, b| {
            opt_text(fields(f).and_then(|x| x.ssh_client.as_deref()), b)
        }),
        opt_str_col("ssh_server", "SSH identification string of the other side", |f, b| {
            opt_text(fields(f).and_then(|x| x.ssh_server.as_deref()), b)
        }),
        opt_str_col("app_banner", "the server's greeting line (SMTP, FTP, POP3, IMAP)", |f, b| {
            opt_text(fields(f).and_then(|x| x.banner.as_deref()), b)
        }),
        opt_str_col("krb_realm", "Kerberos realm of the first message that names one", |f, b| {
            opt_text(fields(f).and_then(|x| x.krb_realm.as_deref()), b)
        }),
        opt_str_col("krb_principal", "Kerberos client principal (name strings joined by /)", |f, b| {
            opt_text(fields(f).and_then(|x| x.krb_principal.as_deref()), b)
        }),
        opt_str_col("sip_from", "SIP From address (the URI) of the first message", |f, b| {
            opt_text(fields(f).and_then(|x| x.sip_from.as_deref()), b)
        }),
        opt_str_col("sip_to", "SIP To address (the URI) of the first message", |f, b| {
            opt_text(fields(f).and_then(|x| x.sip_to.as_deref()), b)
        }),
        opt_str_col("sip_user_agent", "User-Agent of the first SIP request", |f, b| {
            opt_text(fields(f).and_then(|x| x.sip_user_agent.as_deref()), b)
        }),
        opt_str_col("mqtt_client_id", "client identifier of the MQTT CONNECT", |f, b| {
            opt_text(fields(f).and_then(|x| x.mqtt_client_id.as_deref()), b)
        }),
    ]
}

fn fields(f: &Flow) -> Option<&crate::flow::AppFields> {
    f.app.as_ref()?.fields.as_deref()
}
