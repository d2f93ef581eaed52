//! Arbitrary pieces (offset, bytes) placed in a `RangeBuffer`: the result
//! equals a byte map where the first byte to arrive for a position wins;
//! the ranges are exactly the positions held, sorted and not touching; the
//! counts of new, overlapping and dropped bytes add up.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::decode::ranges::{Placed, RangeBuffer};

fuzz_target!(|data: &[u8]| {
    let Some((&c, mut rest)) = data.split_first() else {
        return;
    };
    let cap = usize::from(c) * 8 + 1;
    let mut b = RangeBuffer::new(cap);
    let mut model: Vec<Option<u8>> = vec![None; cap];
    while let [hi, lo, len, tail @ ..] = rest {
        let off = usize::from(*hi) << 8 | usize::from(*lo);
        let n = usize::from(*len).min(tail.len());
        let (piece, next) = tail.split_at(n);
        rest = next;
        let mut want = Placed::default();
        for (k, &byte) in piece.iter().enumerate() {
            match model.get_mut(off + k) {
                Some(slot @ None) => {
                    *slot = Some(byte);
                    want.new += 1;
                }
                Some(Some(_)) => want.overlap += 1,
                None => want.beyond += 1,
            }
        }
        assert_eq!(b.insert(off, piece), want);
    }
    let mut k = 0;
    let mut ranges = Vec::new();
    while k < cap {
        if model[k].is_some() {
            let s = k;
            while k < cap && model[k].is_some() {
                k += 1;
            }
            ranges.push((s, k));
        } else {
            k += 1;
        }
    }
    assert_eq!(b.ranges(), &ranges[..]);
    for &(s, e) in &ranges {
        for (have, want) in b.span()[s..e].iter().zip(&model[s..e]) {
            assert_eq!(Some(*have), *want);
        }
    }
    let prefix: Vec<u8> = model.iter().map_while(|x| *x).collect();
    assert_eq!(b.prefix(), &prefix[..]);
});
