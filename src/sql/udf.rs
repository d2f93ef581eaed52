//! SQL functions for network work, registered on every session
//! ([`register`]): `ip_in_cidr`, `ip_version`, `is_private_ip`,
//! `tcp_flags_str`, `seq_head`, `seq_stat`, `ja4_part`, `community_id`.
//! Their contract, with examples, is `schemas/sql.md`.
//!
//! Conventions: NULL in → NULL out; a value that is not what the function
//! reads (an address that does not parse, a JA4 without three parts) gives
//! NULL; an argument that can only be a mistake in the query (an invalid
//! CIDR, an unknown statistic or JA4 part, a negative length) is an error
//! that names the function and the value.

use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, GenericListArray, Int32Array,
    OffsetSizeTrait, StringArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use base64::Engine as _;
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use sha1::{Digest, Sha1};

use crate::features::{Moments, STAT_NAMES};

type Eval = fn(&[ArrayRef]) -> Result<ArrayRef>;
type Coerce = fn(&[DataType]) -> Result<Vec<DataType>>;
type Returns = fn(&[DataType]) -> DataType;

/// One function: its name, how its arguments are coerced, its result type
/// and its body over whole columns. Its name is its identity.
#[derive(Debug)]
struct NetFn {
    name: &'static str,
    signature: Signature,
    coerce: Coerce,
    returns: Returns,
    eval: Eval,
}

impl PartialEq for NetFn {
    fn eq(&self, other: &NetFn) -> bool {
        self.name == other.name
    }
}

impl Eq for NetFn {}

impl std::hash::Hash for NetFn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for NetFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        (self.coerce)(arg_types)
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok((self.returns)(arg_types))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        Ok(ColumnarValue::Array((self.eval)(&arrays)?))
    }
}

fn udf(name: &'static str, coerce: Coerce, returns: Returns, eval: Eval) -> ScalarUDF {
    ScalarUDF::from(NetFn {
        name,
        signature: Signature::user_defined(Volatility::Immutable),
        coerce,
        returns,
        eval,
    })
}

/// Every function of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        udf(
            "ip_in_cidr",
            |t| args(t, "ip_in_cidr", &[S, S]),
            |_| DataType::Boolean,
            ip_in_cidr,
        ),
        udf(
            "ip_version",
            |t| args(t, "ip_version", &[S]),
            |_| DataType::Int32,
            ip_version,
        ),
        udf(
            "is_private_ip",
            |t| args(t, "is_private_ip", &[S]),
            |_| DataType::Boolean,
            is_private_ip,
        ),
        udf(
            "tcp_flags_str",
            |t| args(t, "tcp_flags_str", &[I]),
            |_| DataType::Utf8,
            tcp_flags_str,
        ),
        udf(
            "seq_head",
            |t| args(t, "seq_head", &[L, I]),
            |t| t[0].clone(),
            seq_head,
        ),
        udf(
            "seq_stat",
            |t| args(t, "seq_stat", &[L, S]),
            |_| DataType::Float64,
            seq_stat,
        ),
        udf(
            "ja4_part",
            |t| args(t, "ja4_part", &[S, S]),
            |_| DataType::Utf8,
            ja4_part,
        ),
        udf(
            "community_id",
            community_id_args,
            |_| DataType::Utf8,
            community_id,
        ),
    ]
}

/// Register the functions on a session.
pub fn register(ctx: &SessionContext) {
    for f in functions() {
        ctx.register_udf(f);
    }
}

/// Argument kinds: text, integer, list (kept as it is).
const S: u8 = 0;
const I: u8 = 1;
const L: u8 = 2;

fn args(types: &[DataType], name: &str, want: &[u8]) -> Result<Vec<DataType>> {
    if types.len() != want.len() {
        return plan_err!("{name} takes {} arguments, got {}", want.len(), types.len());
    }
    types
        .iter()
        .zip(want)
        .enumerate()
        .map(|(i, (t, k))| match (*k, t) {
            (S, _) => Ok(DataType::Utf8),
            (I, t) if t.is_integer() || t.is_null() => Ok(DataType::Int64),
            (L, DataType::List(_) | DataType::LargeList(_)) => Ok(t.clone()),
            (L, DataType::Null) => Ok(DataType::new_list(DataType::Int64, true)),
            (I, t) => plan_err!("{name}: argument {} must be an integer, not {t}", i + 1),
            (_, t) => plan_err!("{name}: argument {} must be a list, not {t}", i + 1),
        })
        .collect()
}

fn community_id_args(types: &[DataType]) -> Result<Vec<DataType>> {
    match types.len() {
        5 => args(types, "community_id", &[S, S, I, I, I]),
        _ => args(types, "community_id", &[S, S, I, I, I, I]),
    }
}

fn strings(a: &ArrayRef) -> &StringArray {
    a.as_string::<i32>()
}

fn ints(a: &ArrayRef) -> &arrow::array::Int64Array {
    a.as_primitive::<Int64Type>()
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

/// A CIDR block: network address bits and prefix length.
#[derive(Clone, Copy)]
struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(s: &str) -> std::result::Result<Cidr, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{addr}' is not an IPv4 or IPv6 address"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix length '{p}' is not 0–{max}"))?,
        };
        Ok(Cidr { net, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let bits = |a: IpAddr| -> (u128, u32) {
            match a {
                IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        };
        let ((n, width), (x, w2)) = (bits(self.net), bits(ip));
        if width != w2 {
            return false;
        }
        let shift = width - u32::from(self.prefix);
        shift >= width || (n >> shift) == (x >> shift)
    }
}

fn ip_in_cidr(a: &[ArrayRef]) -> Result<ArrayRef> {
    let (ips, cidrs) = (strings(&a[0]), strings(&a[1]));
    let mut last: Option<(String, Cidr)> = None;
    let mut out = Vec::with_capacity(ips.len());
    for i in 0..ips.len() {
        if ips.is_null(i) || cidrs.is_null(i) {
            out.push(None);
            continue;
        }
        let text = cidrs.value(i);
        let cidr = match &last {
            Some((t, c)) if t == text => *c,
            _ => match Cidr::parse(text) {
                Ok(c) => {
                    last = Some((text.to_string(), c));
                    c
                }
                Err(why) => return exec_err!("ip_in_cidr: invalid CIDR '{text}': {why}"),
            },
        };
        out.push(parse_ip(ips.value(i)).map(|ip| cidr.contains(ip)));
    }
    Ok(Arc::new(BooleanArray::from(out)))
}

fn ip_version(a: &[ArrayRef]) -> Result<ArrayRef> {
    let ips = strings(&a[0]);
    Ok(Arc::new(
        ips.iter()
            .map(|s| {
                s.and_then(parse_ip)
                    .map(|ip| if ip.is_ipv4() { 4 } else { 6 })
            })
            .collect::<Int32Array>(),
    ))
}

/// Addresses that do not route on the Internet as a host's own: RFC 1918,
/// RFC 6598 shared space, loopback, link-local, and IPv6 unique-local,
/// link-local and loopback (an IPv4-mapped address as its IPv4 address).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v) => match v.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => {
                let s = v.segments()[0];
                v.is_loopback() || (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80
            }
        },
    }
}

fn is_private_ip(a: &[ArrayRef]) -> Result<ArrayRef> {
    let ips = strings(&a[0]);
    Ok(Arc::new(
        ips.iter()
            .map(|s| s.and_then(parse_ip).map(is_private))
            .collect::<BooleanArray>(),
    ))
}

/// TCP flag letters from the lowest bit up: FIN, SYN, RST, PSH, ACK, URG,
/// ECE, CWR (so SYN+ACK is `SA`, as capture tools abbreviate it).
pub fn tcp_flags_text(flags: u8) -> String {
    b"FSRPAUEC"
        .iter()
        .enumerate()
        .filter(|(bit, _)| flags & (1 << bit) != 0)
        .map(|(_, &c)| c as char)
        .collect()
}

fn tcp_flags_str(a: &[ArrayRef]) -> Result<ArrayRef> {
    let flags = ints(&a[0]);
    let mut out = Vec::with_capacity(flags.len());
    for v in flags.iter() {
        out.push(match v {
            None => None,
            Some(f) => match u8::try_from(f) {
                Ok(f) => Some(tcp_flags_text(f)),
                Err(_) => return exec_err!("tcp_flags_str: {f} is not a TCP flags byte (0–255)"),
            },
        });
    }
    Ok(Arc::new(StringArray::from(out)))
}

fn seq_head(a: &[ArrayRef]) -> Result<ArrayRef> {
    match a[0].data_type() {
        DataType::LargeList(_) => head_of(a[0].as_list::<i64>(), ints(&a[1])),
        _ => head_of(a[0].as_list::<i32>(), ints(&a[1])),
    }
}

fn head_of<O: OffsetSizeTrait>(
    lists: &GenericListArray<O>,
    n: &arrow::array::Int64Array,
) -> Result<ArrayRef> {
    let mut lengths = Vec::with_capacity(lists.len());
    let mut parts: Vec<ArrayRef> = Vec::with_capacity(lists.len());
    let mut nulls = Vec::with_capacity(lists.len());
    for i in 0..lists.len() {
        if lists.is_null(i) || n.is_null(i) {
            lengths.push(0);
            nulls.push(false);
            continue;
        }
        let k = n.value(i);
        if k < 0 {
            return exec_err!("seq_head: length {k} is negative");
        }
        let v = lists.value(i);
        let take = v.len().min(usize::try_from(k).unwrap_or(usize::MAX));
        parts.push(v.slice(0, take));
        lengths.push(take);
        nulls.push(true);
    }
    let field = match lists.data_type() {
        DataType::List(f) | DataType::LargeList(f) => f.clone(),
        t => return exec_err!("seq_head: not a list: {t}"),
    };
    let values = if parts.is_empty() {
        arrow::array::new_empty_array(field.data_type())
    } else {
        let refs: Vec<&dyn Array> = parts.iter().map(|p| p.as_ref()).collect();
        arrow::compute::concat(&refs)?
    };
    Ok(Arc::new(GenericListArray::<O>::try_new(
        field,
        OffsetBuffer::from_lengths(lengths),
        values,
        Some(nulls.into()),
    )?))
}

/// Which values of a list a statistic name covers, and which statistic.
fn stat_spec(name: &str) -> Option<(i8, &str)> {
    let (part, stat) = match name.split_once('_') {
        Some(("up", s)) => (1, s),
        Some(("down", s)) => (-1, s),
        _ => (0, name),
    };
    STAT_NAMES.contains(&stat).then_some((part, stat))
}

/// A statistic of a list's values as the `flows` statistic columns define
/// it (`schemas/flow.md`): over absolute values; `up_`/`down_` select the
/// positive/negative ones.
pub fn list_stat(values: &[f64], part: i8, stat: &str) -> f64 {
    let mut chosen: Vec<f64> = values
        .iter()
        .filter(|v| match part {
            1 => **v > 0.0,
            -1 => **v < 0.0,
            _ => true,
        })
        .map(|v| v.abs())
        .collect();
    let mut m = Moments::default();
    chosen.iter().for_each(|&v| m.push(v));
    chosen.sort_by(f64::total_cmp);
    let n = chosen.len();
    let median = match n {
        0 => 0.0,
        _ if n % 2 == 1 => chosen[n / 2],
        _ => (chosen[n / 2 - 1] + chosen[n / 2]) / 2.0,
    };
    m.finish(median).get(stat).unwrap_or(f64::NAN)
}

fn seq_stat(a: &[ArrayRef]) -> Result<ArrayRef> {
    let names = strings(&a[1]);
    let (offsets, values): (Vec<usize>, ArrayRef) = match a[0].data_type() {
        DataType::LargeList(_) => {
            let l = a[0].as_list::<i64>();
            (
                l.offsets().iter().map(|o| *o as usize).collect(),
                l.values().clone(),
            )
        }
        _ => {
            let l = a[0].as_list::<i32>();
            (
                l.offsets().iter().map(|o| *o as usize).collect(),
                l.values().clone(),
            )
        }
    };
    if !values.data_type().is_numeric() && !values.data_type().is_null() {
        return exec_err!(
            "seq_stat: list items must be numbers, not {}",
            values.data_type()
        );
    }
    let floats = arrow::compute::cast(&values, &DataType::Float64)?;
    let floats = floats.as_primitive::<Float64Type>();
    let mut out = Vec::with_capacity(a[0].len());
    for i in 0..a[0].len() {
        if a[0].is_null(i) || names.is_null(i) {
            out.push(None);
            continue;
        }
        let name = names.value(i);
        let Some((part, stat)) = stat_spec(name) else {
            return exec_err!(
                "seq_stat: unknown statistic '{name}' (one of {}, optionally prefixed up_ or down_)",
                STAT_NAMES.join(", ")
            );
        };
        let vals: Vec<f64> = (offsets[i]..offsets[i + 1])
            .filter(|&j| floats.is_valid(j))
            .map(|j| floats.value(j))
            .collect();
        out.push(Some(list_stat(&vals, part, stat)));
    }
    Ok(Arc::new(Float64Array::from(out)))
}

fn ja4_part(a: &[ArrayRef]) -> Result<ArrayRef> {
    let (ja4, part) = (strings(&a[0]), strings(&a[1]));
    let mut out = Vec::with_capacity(ja4.len());
    for i in 0..ja4.len() {
        if ja4.is_null(i) || part.is_null(i) {
            out.push(None);
            continue;
        }
        let idx = match part.value(i) {
            "a" => 0,
            "b" => 1,
            "c" => 2,
            p => return exec_err!("ja4_part: unknown part '{p}' (one of 'a', 'b', 'c')"),
        };
        let parts: Vec<&str> = ja4.value(i).split('_').collect();
        // JA4_c may itself hold `_` (extensions_signature algorithms).
        out.push(match (parts.len(), idx) {
            (n, 0 | 1) if n >= 3 => Some(parts[idx].to_string()),
            (n, 2) if n >= 3 => Some(parts[2..].join("_")),
            _ => None,
        });
    }
    Ok(Arc::new(StringArray::from(out)))
}

/// Community ID v1 (corelight/community-id-spec) of a flow: protocols with
/// ports hash them (ICMP/ICMPv6: type and code, the code replaced by the
/// reply type for request/reply pairs); endpoints are ordered so both
/// directions give the same ID. `None` when the addresses are not both
/// IPv4 or both IPv6.
pub fn community_id_v1(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    proto: u8,
    seed: u16,
) -> Option<String> {
    let bytes = |a: IpAddr| -> Vec<u8> {
        match a {
            IpAddr::V4(v) => v.octets().to_vec(),
            IpAddr::V6(v) => v.octets().to_vec(),
        }
    };
    let (mut s, mut d) = (bytes(src), bytes(dst));
    if s.len() != d.len() {
        return None;
    }
    let (mut sp, mut dp) = (sport, dport);
    let mut one_way = false;
    let pairs: &[(u16, u16)] = match proto {
        1 => &[
            (8, 0),
            (0, 8),
            (13, 14),
            (14, 13),
            (15, 16),
            (16, 15),
            (10, 9),
            (9, 10),
            (17, 18),
            (18, 17),
        ],
        58 => &[
            (128, 129),
            (129, 128),
            (133, 134),
            (134, 133),
            (135, 136),
            (136, 135),
            (130, 131),
            (131, 130),
            (144, 145),
            (145, 144),
        ],
        _ => &[],
    };
    if matches!(proto, 1 | 58) {
        match pairs.iter().find(|(t, _)| *t == sport) {
            Some((_, reply)) => dp = *reply,
            None => one_way = true,
        }
    }
    if !one_way && (s > d || (s == d && sp > dp)) {
        std::mem::swap(&mut s, &mut d);
        std::mem::swap(&mut sp, &mut dp);
    }
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(&s);
    h.update(&d);
    h.update([proto, 0]);
    if matches!(proto, 1 | 6 | 17 | 58 | 132) {
        h.update(sp.to_be_bytes());
        h.update(dp.to_be_bytes());
    }
    Some(format!(
        "1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    ))
}

fn community_id(a: &[ArrayRef]) -> Result<ArrayRef> {
    let (src, dst) = (strings(&a[0]), strings(&a[1]));
    let (sp, dp, proto) = (ints(&a[2]), ints(&a[3]), ints(&a[4]));
    let seed = a.get(5).map(ints);
    let mut out = Vec::with_capacity(src.len());
    for i in 0..src.len() {
        let cols: [&dyn Array; 5] = [src, dst, sp, dp, proto];
        if cols.iter().any(|c| c.is_null(i)) || seed.is_some_and(|s| s.is_null(i)) {
            out.push(None);
            continue;
        }
        let num = |v: i64, what: &str, max: i64| -> Result<i64> {
            if (0..=max).contains(&v) {
                Ok(v)
            } else {
                exec_err!("community_id: {what} {v} is out of range (0–{max})")
            }
        };
        let sport = num(sp.value(i), "source port", 65535)? as u16;
        let dport = num(dp.value(i), "destination port", 65535)? as u16;
        let p = num(proto.value(i), "protocol", 255)? as u8;
        let s = match seed {
            Some(s) => num(s.value(i), "seed", 65535)? as u16,
            None => 0,
        };
        out.push(match (parse_ip(src.value(i)), parse_ip(dst.value(i))) {
            (Some(a), Some(b)) => community_id_v1(a, b, sport, dport, p, s),
            _ => None,
        });
    }
    Ok(Arc::new(StringArray::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    mod arbitrary_input {
        use super::*;
        use arrow::array::{Int64Array, ListArray};
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = Option<String>> {
            prop_oneof![
                Just(None),
                "\\PC{0,24}".prop_map(Some),
                "[0-9a-f:./]{0,40}".prop_map(Some),
                "(10|192|2001|fe80)[0-9a-f:.]{0,16}(/[0-9]{1,3})?".prop_map(Some),
                "[a-z0-9_]{0,12}".prop_map(Some),
            ]
        }

        fn int() -> impl Strategy<Value = Option<i64>> {
            prop_oneof![
                Just(None),
                any::<i64>().prop_map(Some),
                (-3i64..300).prop_map(Some)
            ]
        }

        fn list() -> impl Strategy<Value = Option<Vec<Option<i64>>>> {
            proptest::option::of(proptest::collection::vec(int(), 0..6))
        }

        proptest! {
            /// Every SQL function on arbitrary rows (text, numbers, nulls,
            /// lists) gives one value per row or a named error: never a
            /// panic, never a column of another length.
            #[test]
            fn sql_functions_never_panic(
                rows in proptest::collection::vec((text(), text(), int(), int(), int(), list()), 0..8)
            ) {
                let n = rows.len();
                let s = |k: usize| -> ArrayRef {
                    Arc::new(StringArray::from_iter(rows.iter().map(|r| if k == 0 { r.0.clone() } else { r.1.clone() })))
                };
                let i = |k: usize| -> ArrayRef {
                    Arc::new(Int64Array::from_iter(rows.iter().map(|r| [r.2, r.3, r.4][k])))
                };
                let l: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
                    rows.iter().map(|r| r.5.clone()),
                ));
                let calls: [(&str, Result<ArrayRef>); 9] = [
                    ("ip_in_cidr", ip_in_cidr(&[s(0), s(1)])),
                    ("ip_version", ip_version(&[s(0)])),
                    ("is_private_ip", is_private_ip(&[s(1)])),
                    ("tcp_flags_str", tcp_flags_str(&[i(0)])),
                    ("seq_head", seq_head(&[l.clone(), i(1)])),
                    ("seq_stat", seq_stat(&[l.clone(), s(1)])),
                    ("ja4_part", ja4_part(&[s(0), s(1)])),
                    ("community_id", community_id(&[s(0), s(1), i(0), i(1), i(2)])),
                    ("community_id+seed", community_id(&[s(0), s(1), i(0), i(1), i(2), i(2)])),
                ];
                for (name, got) in calls {
                    match got {
                        Ok(a) => prop_assert_eq!(a.len(), n, "{}", name),
                        Err(e) => prop_assert!(e.to_string().contains(name.split('+').next().unwrap()), "{}: {}", name, e),
                    }
                }
            }
        }
    }

    #[test]
    fn cidr_membership() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.200.1.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let c = Cidr::parse("2001:db8::/32").unwrap();
        assert!(c.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!c.contains("2001:db9::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("10.0.0/8").is_err());
        assert!(Cidr::parse("192.168.1.7")
            .unwrap()
            .contains("192.168.1.7".parse().unwrap()));
    }

    #[test]
    fn private_addresses() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.9.9",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "fd00::1",
            "fe80::1",
            "::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2001:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn flag_letters() {
        assert_eq!(tcp_flags_text(0x12), "SA");
        assert_eq!(tcp_flags_text(0x11), "FA");
        assert_eq!(tcp_flags_text(0x18), "PA");
        assert_eq!(tcp_flags_text(0), "");
        assert_eq!(tcp_flags_text(0xff), "FSRPAUEC");
    }

    #[test]
    fn list_statistics_by_hand() {
        let v = [100.0, -60.0, 40.0, -20.0];
        assert_eq!(list_stat(&v, 0, "mean"), 55.0);
        assert_eq!(list_stat(&v, 0, "median"), 50.0);
        assert_eq!(list_stat(&v, 1, "sum"), 140.0);
        assert_eq!(list_stat(&v, -1, "max"), 60.0);
        assert_eq!(list_stat(&v, 0, "count"), 4.0);
        // population variance of 100, 60, 40, 20: mean 55, deviations²
        // 2025 + 25 + 225 + 1225 = 3500, / 4.
        assert_eq!(list_stat(&v, 0, "var"), 875.0);
        assert_eq!(list_stat(&[], 0, "mean"), 0.0);
        assert!(stat_spec("up_mean").is_some() && stat_spec("average").is_none());
    }
}
