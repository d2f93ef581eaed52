//! Google QUIC before TLS (Q0xx): the client's CHLO, a tag-value message
//! carrying the server name (`SNI`), the user agent (`UAID`) and the
//! version (`VER`).
//!
//! Owns: the cleartext client packets of Q043 (the gQUIC public header)
//! and Q046 (an IETF-shaped long header), whose payload follows a 12-byte
//! message hash, their STREAM frames on the crypto stream (stream 1), and
//! the CHLO format. Q050 packets are protected like IETF Initials (with its
//! own salt, see `keys.rs`) and carry the CHLO in CRYPTO-shaped frames; the
//! tracker opens them and hands the bytes here. Layouts as Chromium's
//! gQUIC and Wireshark read them. Bounds: one pass over the datagram, no
//! allocation but the strings kept; no input panics.

/// `Q043`, `Q046`, `Q050` in ASCII.
pub const Q043: u32 = 0x5130_3433;
pub const Q046: u32 = 0x5130_3436;
pub const Q050: u32 = 0x5130_3530;

/// The fields of a CHLO flow datasets want.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chlo {
    pub sni: Option<String>,
    pub user_agent: Option<String>,
    /// The `VER` tag: the version the client speaks.
    pub version: Option<u32>,
}

/// A CHLO at the front of a crypto stream: the message tag, a tag count,
/// then (tag, end offset) pairs and the values.
pub fn parse_chlo(b: &[u8]) -> Option<Chlo> {
    let [b'C', b'H', b'L', b'O', n0, n1, _, _, rest @ ..] = b else {
        return None;
    };
    let n = usize::from(u16::from_le_bytes([*n0, *n1]));
    let values = rest.get(8 * n..)?;
    let mut chlo = Chlo::default();
    let mut start = 0usize;
    for entry in rest.get(..8 * n)?.chunks_exact(8) {
        let end = u32::from_le_bytes([entry[4], entry[5], entry[6], entry[7]]) as usize;
        let value = values.get(start..end)?;
        let text = || Some(String::from_utf8_lossy(value).into_owned());
        match &entry[..4] {
            b"SNI\0" => chlo.sni = text(),
            b"UAID" => chlo.user_agent = text(),
            b"VER\0" => chlo.version = value.try_into().ok().map(u32::from_be_bytes),
            _ => {}
        }
        start = end;
    }
    Some(chlo)
}

/// The version and CHLO of a cleartext Q043 or Q046 client packet.
pub fn clear_chlo(d: &[u8]) -> Option<(u32, Chlo)> {
    let (version, payload) = match d {
        // Q043 public header: flags (version present, 8-byte CID, 1-byte
        // packet number), CID, version, packet number; then the hash.
        [flags, _, _, _, _, _, _, _, _, v @ ..] if flags & 0x39 == 0x09 => {
            let version = u32::from_be_bytes(v.get(..4)?.try_into().ok()?);
            (version == Q043).then_some(())?;
            (version, d.get(14 + 12..)?)
        }
        // Q046: long header, 8-byte DCID (lengths byte 0x50), 4-byte
        // packet number, then the hash.
        [0xc3, v0, v1, v2, v3, 0x50, ..] => {
            let version = u32::from_be_bytes([*v0, *v1, *v2, *v3]);
            (version == Q046).then_some(())?;
            (version, d.get(1 + 4 + 1 + 8 + 4 + 12..)?)
        }
        _ => return None,
    };
    Some((version, parse_chlo(crypto_stream_data(payload)?)?))
}

/// The data of the first STREAM frame on stream 1 (gQUIC frame format:
/// `1fdooossB`, big-endian lengths from Q039 on), after PADDING and at most
/// one ACK frame.
fn crypto_stream_data(p: &[u8]) -> Option<&[u8]> {
    let mut at = p.iter().position(|&b| b != 0)?;
    match p[at] {
        0x40 => at += 6,
        0x60 => at += 9,
        _ => {}
    }
    let ty = *p.get(at)?;
    if ty & 0x80 == 0 || ty & 0x20 == 0 {
        return None;
    }
    let offset_len = match (ty >> 2) & 0x07 {
        0 => 0,
        n => usize::from(n) + 1,
    };
    let id_len = usize::from(ty & 0x03) + 1;
    let id_at = at + 1;
    if p.get(id_at..id_at + id_len)?
        .iter()
        .fold(0u32, |v, b| v << 8 | u32::from(*b))
        != 1
    {
        return None;
    }
    let len_at = id_at + id_len + offset_len;
    let len = usize::from(u16::from_be_bytes(
        p.get(len_at..len_at + 2)?.try_into().ok()?,
    ));
    p.get(len_at + 2..len_at + 2 + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CHLO with `tags` (tag, value) in order.
    pub(crate) fn chlo(tags: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut m = b"CHLO".to_vec();
        m.extend((tags.len() as u16).to_le_bytes());
        m.extend([0, 0]);
        let mut end = 0u32;
        for (tag, value) in tags {
            end += value.len() as u32;
            m.extend_from_slice(*tag);
            m.extend(end.to_le_bytes());
        }
        for (_, value) in tags {
            m.extend_from_slice(value);
        }
        m
    }

    /// A STREAM frame on stream 1 at offset 0 with `data`.
    fn stream_frame(data: &[u8]) -> Vec<u8> {
        let mut f = vec![0xa0, 0x01];
        f.extend((data.len() as u16).to_be_bytes());
        f.extend_from_slice(data);
        f
    }

    #[test]
    fn q043_and_q046_client_hellos() {
        let m = chlo(&[
            (b"SNI\0", b"play.google.com"),
            (b"VER\0", b"Q046"),
            (b"UAID", b"Chrome/74.0 Android"),
        ]);
        let mut q46 = vec![0xc3];
        q46.extend(b"Q046");
        q46.push(0x50);
        q46.extend([7; 8]);
        q46.extend([0, 0, 0, 1]);
        q46.extend([0xaa; 12]);
        q46.extend(stream_frame(&m));
        q46.resize(1350, 0);
        let (v, c) = clear_chlo(&q46).expect("Q046 CHLO");
        assert_eq!(v, Q046);
        assert_eq!(c.sni.as_deref(), Some("play.google.com"));
        assert_eq!(c.user_agent.as_deref(), Some("Chrome/74.0 Android"));
        assert_eq!(c.version, Some(Q046));

        let mut q43 = vec![0x09];
        q43.extend([7; 8]);
        q43.extend(b"Q043");
        q43.push(1);
        q43.extend([0xbb; 12]);
        q43.extend(stream_frame(&chlo(&[(b"SNI\0", b"dns.google.com")])));
        let (v, c) = clear_chlo(&q43).expect("Q043 CHLO");
        assert_eq!((v, c.sni.as_deref()), (Q043, Some("dns.google.com")));
    }

    #[test]
    fn not_a_chlo() {
        assert_eq!(parse_chlo(b"SHLO\0\0\0\0"), None);
        // A tag whose end offset runs past the values.
        let mut bad = chlo(&[(b"SNI\0", b"x")]);
        bad[12] = 200;
        assert_eq!(parse_chlo(&bad), None);
        assert_eq!(clear_chlo(&[0xc3, b'Q', b'0', b'4', b'6', 0x50]), None);
        assert_eq!(clear_chlo(&[0x09; 40]), None);
    }
}
