//! Keyed hashing wherever the input chooses the key.
//!
//! Captures come from attackers, and a table indexed by an unkeyed hash of
//! wire data can be flooded: keys chosen to share one hash turn every
//! lookup into a walk of all of them (80 000 crafted one-packet IPv6 flows
//! took 48.5 s instead of 0.52 s with the fixed mix this replaced, now
//! 0.46 s: `flow_index_collisions` in benches/hostile.rs; Zeek
//! and Suricata seed their tables for the same reason, CVE-2011-4815's
//! family). Two kinds of key, both SipHash-1-3:
//!
//! - [`table_state`]: a fresh secret per table, from the OS (std's
//!   `RandomState`), for in-memory indexes whose order never reaches the
//!   output (the flow table, defragmentation, the certificate cache):
//!   nothing of a run depends on it.
//! - [`DispatchKey`]: the secret that spreads packets over the workers of a
//!   packet-parallel job. Which worker holds a flow shows in its `flow_id`
//!   and file, so the key is one per dataset: drawn at random when the
//!   dataset is created, recorded in its settings (manifest and done
//!   markers) and reused on resume; `--hash-seed` fixes it for a dataset
//!   reproducible run to run. It uses the `siphasher` crate rather than
//!   std's `DefaultHasher`, whose output std does not promise to keep
//!   across releases: a recorded key must dispatch alike on every build.

use std::hash::{BuildHasher, Hasher, RandomState};

/// The builder of a table's hasher: a new secret key per call (std's
/// SipHash-1-3, keyed from the OS's randomness).
#[inline]
pub fn table_state() -> RandomState {
    RandomState::new()
}

/// The environment variable that fixes the dispatch key.
pub const HASH_SEED_ENV: &str = "WA1KPCAP_HASH_SEED";

/// The per-dataset secret of the worker choice (128 bits), written as 32
/// hex digits in JSON (settings, work units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchKey(u128);

impl DispatchKey {
    /// A key from the OS's randomness.
    pub fn random() -> DispatchKey {
        // Two fresh std keys (each drawn from the OS) hashed: 128 bits
        // nobody outside this process can predict, with no extra crate.
        let a = RandomState::new().hash_one(0x5eed_u64);
        let b = RandomState::new().hash_one(0xd15_u64);
        DispatchKey(u128::from(a) << 64 | u128::from(b))
    }

    pub fn from_u128(k: u128) -> DispatchKey {
        DispatchKey(k)
    }

    /// The key as it is written in a dataset's settings: 32 hex digits.
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }

    /// The key a run was asked for: `explicit` (`--hash-seed`), else the
    /// `WA1KPCAP_HASH_SEED` environment variable (as Python's
    /// `PYTHONHASHSEED`: a test suite or a pipeline that must give the
    /// same files every time sets it once), else none (the dataset's own,
    /// or a random one).
    pub fn requested(explicit: Option<DispatchKey>) -> Result<Option<DispatchKey>, String> {
        if explicit.is_some() {
            return Ok(explicit);
        }
        match std::env::var(HASH_SEED_ENV) {
            Ok(v) => DispatchKey::from_hex(v.trim())
                .map(Some)
                .ok_or_else(|| format!("{HASH_SEED_ENV}={v:?} is not 1 to 32 hex digits")),
            Err(_) => Ok(None),
        }
    }

    /// Parse [`DispatchKey::to_hex`]'s form (1 to 32 hex digits).
    pub fn from_hex(s: &str) -> Option<DispatchKey> {
        if s.is_empty() || s.len() > 32 {
            return None;
        }
        u128::from_str_radix(s, 16).ok().map(DispatchKey)
    }

    /// Hash of an unordered pair of 128-bit values (IPv4 as its 32 bits),
    /// equal for both orders: both directions of a flow and every fragment
    /// of a datagram meet in one worker.
    #[inline]
    pub fn pair(self, a: u128, b: u128) -> u64 {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut h =
            siphasher::sip::SipHasher13::new_with_keys(self.0 as u64, (self.0 >> 64) as u64);
        h.write(&lo.to_le_bytes());
        h.write(&hi.to_le_bytes());
        h.finish()
    }

    /// The worker (of `n`) for a pair's hash: the high bits of `h · n`.
    #[inline]
    pub fn worker(h: u64, n: usize) -> usize {
        ((u128::from(h) * n as u128) >> 64) as usize
    }
}

impl serde::Serialize for DispatchKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for DispatchKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DispatchKey, D::Error> {
        let s = String::deserialize(d)?;
        DispatchKey::from_hex(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("hash seed {s:?}: not 1 to 32 hex digits"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dispatch_key_is_symmetric_stable_and_secret() {
        let k = DispatchKey::from_u128(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(k.pair(1, 2), k.pair(2, 1));
        // another key, another hash
        assert_ne!(k.pair(1, 2), DispatchKey::from_u128(1).pair(1, 2));
        assert_ne!(DispatchKey::random(), DispatchKey::random());
        assert_eq!(DispatchKey::from_hex(&k.to_hex()), Some(k));
        assert_eq!(DispatchKey::from_hex(""), None);
        assert_eq!(DispatchKey::from_hex("xyz"), None);
        assert_eq!(DispatchKey::from_hex(&"f".repeat(33)), None);
        assert_eq!(DispatchKey::worker(u64::MAX, 3), 2);
        assert_eq!(DispatchKey::worker(0, 3), 0);
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, "\"0123456789abcdef0011223344556677\"");
        assert_eq!(serde_json::from_str::<DispatchKey>(&json).unwrap(), k);
        assert!(serde_json::from_str::<DispatchKey>("\"nothex\"").is_err());
        assert_eq!(DispatchKey::requested(Some(k)), Ok(Some(k)));
    }
}
