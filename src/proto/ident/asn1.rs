//! The BER/DER-framed protocols: Kerberos and LDAP messages, recognised by
//! their outer tags, lengths that agree with the bytes and the fields each
//! opens with; and the Kerberos names users ask for (realm, client
//! principal). A bounded TLV reader: nothing is allocated until a name is
//! kept, no input panics.

/// One TLV: its tag, its value (cut to the bytes there are), and whether
/// the value was whole.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
    whole: bool,
    /// Bytes from the tag to the end of the value (as far as it goes).
    used: usize,
}

/// The TLV at the start of `b` (definite lengths of up to 4 bytes; a
/// single tag byte, as every tag read here is).
fn tlv(b: &[u8]) -> Option<Tlv<'_>> {
    let [tag, l, rest @ ..] = b else {
        return None;
    };
    let (len, n) = if l & 0x80 == 0 {
        (usize::from(*l), 0)
    } else {
        let n = usize::from(l & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = rest.get(..n)?;
        (
            bytes.iter().fold(0usize, |a, &x| a << 8 | usize::from(x)),
            n,
        )
    };
    let value = &rest[n..];
    let whole = value.len() >= len;
    let value = &value[..len.min(value.len())];
    Some(Tlv {
        tag: *tag,
        value,
        whole,
        used: 2 + n + value.len(),
    })
}

/// The TLVs inside a constructed value, in order.
fn children(mut b: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    std::iter::from_fn(move || {
        let t = tlv(b)?;
        b = &b[t.used..];
        Some(t)
    })
}

/// The Kerberos message type of a whole (or long first piece of a)
/// message: AS/TGS request or reply, AP request or reply, KRB-ERROR, with
/// its SEQUENCE and the protocol version 5 as first field.
pub(super) fn kerberos(b: &[u8]) -> Option<u8> {
    let outer = tlv(b)?;
    if !matches!(outer.tag, 0x6a..=0x6f | 0x7e)
        || !(outer.whole && outer.used == b.len() || b.len() >= 64 && !outer.whole)
    {
        return None;
    }
    let seq = tlv(outer.value)?;
    (seq.tag == 0x30 && matches!(seq.value, [0xa0 | 0xa1, 3, 2, 1, 5, ..])).then_some(outer.tag)
}

/// Realm and client principal (name strings joined by `/`) of a Kerberos
/// message: a request's body (`cname`, `realm`), a reply's `crealm` and
/// `cname`, an error's `crealm`/`cname` (or the server's `realm`).
pub fn kerberos_names(b: &[u8]) -> (Option<String>, Option<String>) {
    let Some(tag) = kerberos(b) else {
        return (None, None);
    };
    let Some(seq) = tlv(b).and_then(|o| tlv(o.value)) else {
        return (None, None);
    };
    // Which context tags hold the realm and the client name, and in which
    // TLV they are.
    let fields: Vec<Tlv<'_>> = children(seq.value).collect();
    let (holder, realm_tag, cname_tag) = match tag {
        // KDC-REQ: req-body [4] holds cname [1] and realm [2].
        0x6a | 0x6c => match fields
            .iter()
            .find(|t| t.tag == 0xa4)
            .and_then(|t| tlv(t.value))
        {
            Some(body) => (children(body.value).collect(), 0xa2, 0xa1),
            None => return (None, None),
        },
        // KDC-REP: crealm [3], cname [4].
        0x6b | 0x6d => (fields, 0xa3, 0xa4),
        // KRB-ERROR: crealm [7], cname [8], realm [9].
        0x7e => (fields, 0xa7, 0xa8),
        _ => return (None, None),
    };
    // KerberosString: a GeneralString, kept as text.
    let text = |s: Tlv<'_>| {
        (s.tag == 0x1b && s.whole && !s.value.is_empty())
            .then(|| String::from_utf8_lossy(&s.value[..s.value.len().min(255)]).into_owned())
    };
    let mut realm = holder
        .iter()
        .find(|t| t.tag == realm_tag)
        .and_then(|t| tlv(t.value))
        .and_then(text);
    if realm.is_none() && tag == 0x7e {
        realm = holder
            .iter()
            .find(|t| t.tag == 0xa9)
            .and_then(|t| tlv(t.value))
            .and_then(text);
    }
    let cname = holder.iter().find(|t| t.tag == cname_tag).and_then(|t| {
        // PrincipalName: SEQUENCE { name-type [0], name-string [1] SEQUENCE OF }.
        let name = tlv(t.value)?;
        let strings = children(name.value).find(|c| c.tag == 0xa1)?;
        let list = tlv(strings.value)?;
        let parts: Vec<String> = children(list.value).filter_map(text).collect();
        (!parts.is_empty()).then(|| parts.join("/"))
    });
    (realm, cname)
}

/// An LDAP message: SEQUENCE { messageID, protocolOp } whose length agrees
/// with the bytes, and an operation that opens as RFC 4511 defines it.
pub(super) fn ldap(b: &[u8]) -> bool {
    let Some(msg) = tlv(b) else {
        return false;
    };
    let fits = if msg.whole {
        msg.used == b.len() || b.get(msg.used) == Some(&0x30)
    } else {
        b.len() >= 64
    };
    if msg.tag != 0x30 || !fits {
        return false;
    }
    let mut parts = children(msg.value);
    let (Some(id), Some(op)) = (parts.next(), parts.next()) else {
        return false;
    };
    if id.tag != 0x02 || !(1..=4).contains(&id.value.len()) {
        return false;
    }
    match op.tag {
        // bindRequest: version 2 or 3, a name.
        0x60 => matches!(op.value, [2, 1, 2 | 3, 0x04, ..]),
        // Responses: an LDAPResult (resultCode ENUMERATED, matchedDN).
        0x61 | 0x65 | 0x67 | 0x69 | 0x6b | 0x6d | 0x6f | 0x78 => {
            matches!(op.value, [0x0a, 1, 0..=123, 0x04, ..])
        }
        // searchRequest (baseObject), searchResEntry (objectName).
        0x63 | 0x64 => matches!(op.value, [0x04, ..]),
        // unbindRequest: NULL.
        0x42 => op.value.is_empty() && op.whole,
        // extendedRequest: requestName [0] (StartTLS, …).
        0x77 => matches!(op.value, [0x80, ..]),
        _ => false,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// DER TLV with a short or long length.
    fn der(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if value.len() < 128 {
            v.push(value.len() as u8);
        } else {
            v.extend([0x82, (value.len() >> 8) as u8, value.len() as u8]);
        }
        v.extend_from_slice(value);
        v
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    /// An AS-REQ for `user@EXAMPLE.ORG`, built field by field from RFC
    /// 4120's ASN.1 (not from the code under test).
    pub(crate) fn as_req() -> Vec<u8> {
        let int = |n: u8| der(0x02, &[n]);
        let gstr = |s: &str| der(0x1b, s.as_bytes());
        let principal = |ty: u8, names: &[&str]| {
            der(
                0x30,
                &cat(&[
                    der(0xa0, &int(ty)),
                    der(
                        0xa1,
                        &der(
                            0x30,
                            &names.iter().map(|n| gstr(n)).collect::<Vec<_>>().concat(),
                        ),
                    ),
                ]),
            )
        };
        let body = der(
            0x30,
            &cat(&[
                der(0xa0, &der(0x03, &[0, 0x40, 0x81, 0, 0x10])),
                der(0xa1, &principal(1, &["user"])),
                der(0xa2, &gstr("EXAMPLE.ORG")),
                der(0xa3, &principal(2, &["krbtgt", "EXAMPLE.ORG"])),
                der(0xa7, &int(7)),
                der(0xa8, &der(0x30, &int(18))),
            ]),
        );
        der(
            0x6a,
            &der(
                0x30,
                &cat(&[der(0xa1, &int(5)), der(0xa2, &int(10)), der(0xa4, &body)]),
            ),
        )
    }

    #[test]
    fn kerberos_request_names() {
        let m = as_req();
        assert_eq!(kerberos(&m), Some(0x6a));
        assert_eq!(
            kerberos_names(&m),
            (Some("EXAMPLE.ORG".into()), Some("user".into()))
        );
        // A cut message is no message unless a long piece of it is there.
        assert_eq!(kerberos(&m[..20]), None);
    }

    #[test]
    fn ldap_operations() {
        let bind = der(
            0x30,
            &cat(&[
                der(0x02, &[1]),
                der(
                    0x60,
                    &cat(&[der(0x02, &[3]), der(0x04, b"cn=admin"), der(0x80, b"pw")]),
                ),
            ]),
        );
        assert!(ldap(&bind));
        let unbind = der(0x30, &cat(&[der(0x02, &[2]), vec![0x42, 0]]));
        assert!(ldap(&unbind));
        assert!(!ldap(&bind[..bind.len() - 1]));
        let other = der(0x30, &cat(&[der(0x02, &[1]), der(0x99, b"x")]));
        assert!(!ldap(&other));
    }
}
