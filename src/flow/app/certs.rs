//! The per-worker cache of decoded certificates.

use super::*;

/// Certificates already decoded by this worker, by their DER: servers send
/// the same chain on every connection, and decoding (X.509 parse, SHA-1,
/// SHA-256) is most of the cost of a TLS ≤ 1.2 flow. Bounded by two
/// generations of [`CertCache::GENERATION`] entries: when the current one
/// fills, it becomes the previous one (whose hits move back), so a busy
/// server's chain survives while one-off certificates age out — never a
/// wholesale clear. The DER is the server's choice, so it is hashed with a
/// secret key ([`crate::keyed`]; an unkeyed FxHash let crafted certificates
/// share a bucket); equal keys are compared in full, so a collision costs
/// time, never a wrong certificate.
#[derive(Debug, Default)]
pub(crate) struct CertCache {
    current: CertMap,
    previous: CertMap,
}

type CertMap = std::collections::HashMap<Vec<u8>, (Certificate, Option<&'static str>)>;

impl CertCache {
    pub(crate) const GENERATION: usize = 512;

    /// The certificate, and why its DER could not be read, if so.
    pub(super) fn decode(&mut self, der: &[u8]) -> (Certificate, Option<&'static str>) {
        if let Some(hit) = self.current.get(der) {
            return hit.clone();
        }
        let (key, value) = self.previous.remove_entry(der).unwrap_or_else(|| {
            let (c, error) = decode_certificate(der);
            (der.to_vec(), (c, error))
        });
        if self.current.len() >= Self::GENERATION {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key, value.clone());
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_cache_answers_as_decoding_does_and_stays_bounded() {
        let mut cache = CertCache::default();
        // Distinct DER-looking blobs (most will not parse: the cache must
        // keep the "could not be read" flag too).
        let der = |i: usize| {
            let mut d = vec![0x30, 0x82, 0x01, 0x00];
            d.extend((0..300).map(|k| (i * 31 + k) as u8));
            d.extend_from_slice(&i.to_be_bytes());
            d
        };
        let hot = der(0);
        for i in 0..5 * CertCache::GENERATION {
            let d = der(i + 1);
            let want = decode_certificate(&d);
            assert_eq!(cache.decode(&d), want);
            // A chain seen on every connection stays cached and correct.
            let want = decode_certificate(&hot);
            assert_eq!(cache.decode(&hot), want);
            assert!(cache.current.len() + cache.previous.len() <= 2 * CertCache::GENERATION);
        }
        assert!(cache.current.contains_key(&hot) || cache.previous.contains_key(&hot));
    }
}
