//! Arbitrary bytes offered to every content detector, as a TCP direction
//! and as a UDP datagram, and to every protocol's field reader: no panic,
//! a name found is one the registry knows, a field kept is bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::ident::fields::{read, AppFields, MAX_FIELD_BYTES};
use wa1kpcap::proto::ident::{identify, rtp_header, AppName, DETECTORS};

fuzz_target!(|data: &[u8]| {
    for tcp in [true, false] {
        if let Some(name) = identify(data, tcp) {
            assert!(DETECTORS.iter().any(|d| d.name == name));
            assert_eq!(AppName::of(name).map(AppName::as_str), Some(name));
        }
    }
    let _ = rtp_header(data);
    for name in ["ssh", "smtp", "kerberos", "sip", "mqtt"] {
        let mut f = AppFields::default();
        read(name, true, data, &mut f);
        for v in [&f.ssh_client, &f.banner, &f.krb_realm, &f.krb_principal, &f.sip_from, &f.sip_user_agent, &f.mqtt_client_id] {
            // Lossy UTF-8 may replace a byte by three.
            assert!(v.as_ref().is_none_or(|s| s.len() <= 3 * MAX_FIELD_BYTES));
        }
    }
});
