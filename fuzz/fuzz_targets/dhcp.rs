//! Arbitrary UDP payloads never panic the DHCPv4 and DHCPv6 parsers, and a
//! parsed message's lists never outgrow the payload.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::dhcp::{parse_dhcp, parse_dhcpv4, parse_dhcpv6, MAGIC_COOKIE};
use wa1kpcap::proto::Parse;

fuzz_target!(|data: &[u8]| {
    // Also as a DHCPv4 body behind a valid BOOTP header and cookie, so the
    // option walk is reached on most inputs.
    let mut v4 = vec![0u8; 236];
    v4[0] = 1 + (data.first().copied().unwrap_or(0) & 1);
    v4[2] = 6;
    v4.extend_from_slice(&MAGIC_COOKIE);
    v4.extend_from_slice(data);
    for (payload, parsed) in [
        (data, parse_dhcpv4(data)),
        (data, parse_dhcpv6(data)),
        (&v4[..], parse_dhcpv4(&v4)),
    ] {
        if let Parse::Done(m) = parsed {
            let _ = (m.message_type_name(), m.lease_addr());
            assert!(m.options.len() <= payload.len());
            assert!(m.parameter_requests.len() <= payload.len());
            assert!(m.addresses.len() * 16 <= payload.len());
        }
    }
    let _ = parse_dhcp(547, 546, data);
});
