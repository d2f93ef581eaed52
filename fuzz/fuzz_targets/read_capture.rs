//! Any file either fails with a named error or yields packets whose bytes
//! lie inside the file; packet counts agree between the two readers.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::capture::{Capture, SlicePackets};

fuzz_target!(|data: &[u8]| {
    let range = data.as_ptr_range();
    if let Ok(it) = SlicePackets::new(data) {
        let mut n = 0u64;
        for p in it {
            assert!(p.data.is_empty() || range.contains(&p.data.as_ptr()));
            n += 1;
        }
        if let Ok(mut c) = Capture::from_bytes(data.to_vec()) {
            let out = c.for_each_packet(|_| {}).expect("header parsed once already");
            assert_eq!(out.packets, n);
        }
    }
});
