//! DNS by content: whether a payload off the DNS ports is a DNS message.
//!
//! Owns the false-positive guard. [`super::parse_message`] is lenient, as
//! TShark is on port 53: it keeps whatever a damaged message still shows.
//! Off those ports there is no port to vouch for the bytes, so a payload
//! is DNS only when the whole message is well formed and plausible:
//! - a standard query, notify or update (opcode 0, 4, 5), the Z bit clear,
//!   exactly one question, and a query's RCODE 0 with no answers;
//! - every count at most [`MAX_RECORDS`];
//! - the question's name made of 1–63-byte labels of letters, digits,
//!   `-` and `_` (the root name too), its type one IANA lists and its class
//!   IN, CH, HS, NONE or ANY;
//! - every record walked: names of labels or pointers to earlier offsets,
//!   its data inside the message (A 4 bytes, AAAA 16, NS/CNAME/PTR one
//!   name), and the last one ending the payload exactly (no trailing
//!   bytes).
//!
//! A random 64-byte payload passes with odds well below 2^-40 (the counts,
//! flags, name alphabet, type table and exact length must all agree); the
//! whole shared corpus shows no flow where TShark sees another protocol and
//! this says DNS (`tests/dns_oracle.rs`). Cost: one pass, no allocation.

use super::{be16, type_name, HEADER_BYTES, MAX_NAME_WIRE_BYTES, RECORD_FIXED_BYTES};

/// Entries per section a plausible message carries (a large answer to
/// `ANY` has a few dozen).
pub const MAX_RECORDS: u16 = 64;

/// Whether `bytes` is one whole, plausible DNS message (see the module).
pub fn is_plausible_message(bytes: &[u8]) -> bool {
    plausible(bytes).is_some()
}

/// Whether `stream` starts with a length prefix and a whole plausible DNS
/// message (DNS over TCP); `None` while too few bytes are there to tell.
pub fn is_plausible_tcp(stream: &[u8]) -> Option<bool> {
    let len = usize::from(be16(stream, 0)?);
    Some(len >= HEADER_BYTES + 5 && is_plausible_message(stream.get(2..2 + len)?))
}

fn plausible(b: &[u8]) -> Option<()> {
    let flags = be16(b, 2)?;
    let response = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0x0f;
    let rcode = flags & 0x000f;
    let counts = [be16(b, 4)?, be16(b, 6)?, be16(b, 8)?, be16(b, 10)?];
    let ok = matches!(opcode, 0 | 4 | 5)
        && flags & 0x0040 == 0
        && counts[0] == 1
        && counts.iter().all(|&c| c <= MAX_RECORDS)
        && (response || (rcode == 0 && counts[1] == 0));
    if !ok {
        return None;
    }
    // The question: plain labels only (nothing earlier to point at).
    let mut pos = HEADER_BYTES;
    let mut wire = 1;
    loop {
        let len = usize::from(*b.get(pos)?);
        if len == 0 {
            pos += 1;
            break;
        }
        let label = b.get(pos + 1..pos + 1 + len)?;
        wire += 1 + len;
        let hostname = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_';
        if len > 63 || wire > MAX_NAME_WIRE_BYTES || !label.iter().all(hostname) {
            return None;
        }
        pos += 1 + len;
    }
    let (qtype, qclass) = (be16(b, pos)?, be16(b, pos + 2)? & 0x7fff);
    if type_name(qtype) == "other" || !matches!(qclass, 1 | 3 | 4 | 254 | 255) {
        return None;
    }
    pos += 4;
    let records: usize = counts[1..].iter().map(|&c| usize::from(c)).sum();
    for _ in 0..records {
        pos = skip_name(b, pos)?;
        let rtype = be16(b, pos)?;
        let rdlen = usize::from(be16(b, pos + 8)?);
        let data = pos + RECORD_FIXED_BYTES;
        pos = data.checked_add(rdlen)?;
        if pos > b.len() {
            return None;
        }
        // The data of the common types must fit them.
        let fits = match rtype {
            1 => rdlen == 4,
            28 => rdlen == 16,
            2 | 5 | 12 => skip_name(b, data) == Some(pos),
            _ => true,
        };
        if !fits {
            return None;
        }
    }
    (pos == b.len()).then_some(())
}

/// The offset after the name at `pos`: labels, ended by the root or by a
/// pointer to an offset before `pos` (past the header).
fn skip_name(b: &[u8], mut pos: usize) -> Option<usize> {
    let start = pos;
    loop {
        let len = *b.get(pos)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(pos + 1),
            0x00 => pos += 1 + usize::from(len),
            0xc0 => {
                let target = usize::from(len & 0x3f) << 8 | usize::from(*b.get(pos + 1)?);
                return (HEADER_BYTES..start).contains(&target).then_some(pos + 2);
            }
            _ => return None,
        }
        if pos - start > MAX_NAME_WIRE_BYTES {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `name` of `qtype`, class IN, with `id`.
    fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for l in name.split('.').filter(|l| !l.is_empty()) {
            m.push(l.len() as u8);
            m.extend_from_slice(l.as_bytes());
        }
        m.push(0);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m
    }

    /// The response to `query` with one A record (a pointer to the name).
    fn response(query: &[u8]) -> Vec<u8> {
        let mut m = query.to_vec();
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = 1;
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
        m
    }

    #[test]
    fn queries_and_responses_pass() {
        let q = query(7, "2.dnscrypt-cert.example.net", 16);
        assert!(is_plausible_message(&q));
        assert!(is_plausible_message(&response(&q)));
        assert!(is_plausible_message(&query(1, "", 2)), "root NS");
        let mut tcp = (q.len() as u16).to_be_bytes().to_vec();
        tcp.extend_from_slice(&q);
        assert_eq!(is_plausible_tcp(&tcp), Some(true));
        assert_eq!(is_plausible_tcp(&tcp[..10]), None);
    }

    #[test]
    fn near_misses_fail() {
        let q = query(7, "www.example.com", 1);
        let mut trailing = q.clone();
        trailing.push(0);
        let mut two_questions = q.clone();
        two_questions[5] = 2;
        let mut answers_in_query = q.clone();
        answers_in_query[7] = 1;
        let mut z_bit = q.clone();
        z_bit[3] |= 0x40;
        let mut opcode = q.clone();
        opcode[2] |= 0x18;
        let mut odd_label = q.clone();
        odd_label[14] = b' ';
        for (what, m) in [
            ("trailing byte", trailing),
            ("two questions", two_questions),
            ("answers in a query", answers_in_query),
            ("Z bit", z_bit),
            ("opcode 3", opcode),
            ("space in a label", odd_label),
            ("unknown qtype", query(7, "www.example.com", 4242)),
            ("cut", q[..q.len() - 1].to_vec()),
        ] {
            assert!(!is_plausible_message(&m), "{what}");
        }
        let mut forward_pointer = response(&q);
        let at = q.len();
        forward_pointer[at + 1] = 200;
        assert!(!is_plausible_message(&forward_pointer));
    }

    #[test]
    fn random_payloads_fail() {
        // Deterministic noise of every length from 12 to 611 bytes.
        let mut noise = crate::sample::Noise::new(0x9e37_79b9_7f4a_7c15);
        let mut hits = 0;
        for i in 0..200_000usize {
            hits += usize::from(is_plausible_message(&noise.bytes(12 + i % 600)));
        }
        assert_eq!(hits, 0);
    }

    proptest::proptest! {
        /// Queries and A answers for any hostname and listed type are
        /// plausible; what is plausible parses whole with one question.
        #[test]
        fn generated_messages_are_plausible(
            labels in proptest::collection::vec("[a-z0-9_-]{1,20}", 0..6),
            qtype in proptest::sample::select(vec![1u16, 2, 5, 12, 15, 16, 28, 33, 65, 255]),
            id in proptest::num::u16::ANY,
            answer in proptest::bool::ANY,
        ) {
            let q = query(id, &labels.join("."), qtype);
            proptest::prop_assert!(is_plausible_message(&q));
            let m = if answer { response(&q) } else { q };
            proptest::prop_assert!(is_plausible_message(&m));
            let crate::proto::Parse::Done(parsed) = super::super::parse_message(&m) else {
                return Err(proptest::test_runner::TestCaseError::fail("not parsed"));
            };
            proptest::prop_assert_eq!(parsed.questions.len(), 1);
            proptest::prop_assert_eq!(parsed.anomaly, None);
        }

        /// Any bytes: no panic, and plausible means parsed whole.
        #[test]
        fn any_bytes(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if is_plausible_message(&data) {
                let parsed = super::super::parse_message(&data);
                proptest::prop_assert!(matches!(parsed, crate::proto::Parse::Done(ref m) if m.questions.len() == 1));
            }
            let _ = is_plausible_tcp(&data);
        }
    }
}
