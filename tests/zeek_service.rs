//! `app_protocol` against Zeek's `conn.log` `service` (the analyzers that
//! confirmed a connection's protocol) on Zeek's own traces: where Zeek
//! names a service we name too, the names must agree.

mod common;

use std::collections::BTreeSet;
use wa1kpcap::Analyzer;

/// Zeek's service names and the `app_protocol` values that agree.
const SERVICES: &[(&str, &[&str])] = &[
    // Zeek's DNS analyzer also reads NetBIOS name service (RFC 1002 uses
    // DNS's message format); nDPI and we name it NetBIOS.
    ("dns", &["dns", "mdns", "llmnr", "netbios"]),
    ("http", &["http", "websocket"]),
    ("dhcp", &["dhcp"]),
    ("ntp", &["ntp"]),
    ("ssl", &["tls", "dot", "imap", "pop3", "smtp", "ldap"]),
    ("ssh", &["ssh"]),
    ("smtp", &["smtp"]),
    ("ftp", &["ftp"]),
    ("sip", &["sip"]),
    ("quic", &["quic"]),
    ("krb", &["kerberos"]),
    ("radius", &["radius"]),
    ("mysql", &["mysql"]),
    ("rdp", &["rdp"]),
    ("snmp", &["snmp"]),
    ("syslog", &["syslog"]),
    ("dce_rpc", &["smb"]),
    ("smb", &["smb"]),
];

#[test]
fn app_protocol_agrees_with_zeek_services() {
    let Some(corpus) = common::corpus("the Zeek service oracle test") else {
        return;
    };
    let logs = common::files_under(&corpus.join("zeek/expected"), |p| {
        p.file_name().is_some_and(|n| n == "conn.log")
    });
    assert!(!logs.is_empty(), "no conn.log in the corpus");
    let (mut compared, mut agreed, mut not_found) = (0usize, 0usize, 0usize);
    let mut seen = BTreeSet::new();
    let mut misses = Vec::new();
    for log in logs {
        // expected/<trace>/<test>/conn.log
        let Some(trace) = log
            .parent()
            .and_then(|t| t.parent())
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
        else {
            continue;
        };
        let Ok(flows) = Analyzer::new().analyze_file(common::zeek_trace(&corpus, &trace)) else {
            continue;
        };
        for row in common::zeek_rows(&std::fs::read_to_string(&log).unwrap()) {
            let get = |k: &str| row.get(k).map(String::as_str).unwrap_or_default();
            // A service list: the first one Zeek confirmed that we name.
            let Some((service, accepted)) = get("service")
                .split(',')
                .find_map(|s| SERVICES.iter().find(|(z, _)| *z == s).map(|&(z, a)| (z, a)))
            else {
                continue;
            };
            let proto = match get("proto") {
                "tcp" => 6,
                "udp" => 17,
                _ => continue,
            };
            let (Ok(a), Ok(ap), Ok(b), Ok(bp)) = (
                get("id.orig_h").parse::<std::net::IpAddr>(),
                get("id.orig_p").parse::<u16>(),
                get("id.resp_h").parse::<std::net::IpAddr>(),
                get("id.resp_p").parse::<u16>(),
            ) else {
                continue;
            };
            if !seen.insert((trace.clone(), proto, a, ap, b, bp)) {
                continue;
            }
            let Some(flow) = common::flow_between(&flows, proto, (a, ap), (b, bp)) else {
                // Inside a tunnel we do not open (Teredo, AYIYA), or a
                // baseline made from another version of the trace.
                not_found += 1;
                continue;
            };
            let ours = flow.app.as_ref().and_then(|a| a.protocol());
            compared += 1;
            if ours.is_some_and(|o| accepted.contains(&o)) {
                agreed += 1;
            } else {
                misses.push(format!(
                    "{trace}: {service} {a}:{ap} -> {b}:{bp}, ours {ours:?}"
                ));
            }
        }
    }
    println!(
        "app_protocol vs Zeek's service: {agreed}/{compared} agree; {not_found} not in our flows"
    );
    for m in &misses {
        println!("  {m}");
    }
    assert!(compared >= 50, "too few connections compared: {compared}");
    assert_eq!(agreed, compared, "{misses:?}");
}
