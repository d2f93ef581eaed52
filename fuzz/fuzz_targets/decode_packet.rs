//! Any bytes under any link type decode without panic, and every decoded
//! slice lies inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::capture::LinkType;
use wa1kpcap::decode::{decode, Transport};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let lt = LinkType(u16::from_le_bytes([data[0], data[1]]) % 300);
    let frame = &data[2..];
    let p = decode(lt, frame, frame.len() as u32 + u32::from(data[2] & 1));
    let range = frame.as_ptr_range();
    if let Some(ip) = p.ip {
        assert!(ip.bytes.is_empty() || range.contains(&ip.bytes.as_ptr()));
        assert!(usize::from(ip.header_len) <= ip.bytes.len());
    }
    if let Transport::Tcp(t) = p.transport {
        assert!(t.payload.len() <= frame.len());
    }
});
