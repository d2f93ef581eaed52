//! Arbitrary bytes offered to every content detector, as a TCP direction
//! and as a UDP datagram: no panic, and a name found is one the registry
//! knows.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::ident::{identify, AppName, DETECTORS};

fuzz_target!(|data: &[u8]| {
    for tcp in [true, false] {
        if let Some(name) = identify(data, tcp) {
            assert!(DETECTORS.iter().any(|d| d.name == name));
            assert_eq!(AppName::of(name).map(AppName::as_str), Some(name));
        }
    }
});
