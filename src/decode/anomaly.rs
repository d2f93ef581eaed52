//! Named, counted packet anomalies (Zeek calls them "weirds"). A packet
//! carries a bit set of what went wrong; workers count them per kind.

macro_rules! anomalies {
    ($($variant:ident => $name:literal: $doc:literal,)*) => {
        /// Something wrong in a packet. The names are stable: they appear in
        /// `inspect` output, manifests and flow columns.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Anomaly {
            $(#[doc = $doc] $variant,)*
        }

        impl Anomaly {
            pub const ALL: &'static [Anomaly] = &[$(Anomaly::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Anomaly::$variant => $name,)*
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $(Anomaly::$variant => $doc,)*
                }
            }
        }
    };
}

anomalies! {
    UnknownLinktype => "unknown_linktype": "link type not decoded; packet has no layers",
    CaplenExceedsWirelen => "caplen_exceeds_wirelen": "record claims more captured than original bytes",
    TruncatedEthernet => "truncated_ethernet": "frame shorter than an Ethernet header",
    TruncatedVlan => "truncated_vlan": "802.1Q/802.1ad tag cut short",
    VlanStackTooDeep => "vlan_stack_too_deep": "more than 8 stacked VLAN tags",
    TruncatedMpls => "truncated_mpls": "MPLS label stack cut short",
    MplsStackTooDeep => "mpls_stack_too_deep": "more than 16 MPLS labels",
    MplsUnknownPayload => "mpls_unknown_payload": "MPLS payload is neither IP nor an Ethernet pseudowire",
    TruncatedPppoe => "truncated_pppoe": "PPPoE session header cut short",
    TruncatedPpp => "truncated_ppp": "PPP header cut short",
    TruncatedSll => "truncated_sll": "Linux cooked (SLL/SLL2) header cut short",
    TruncatedNull => "truncated_null": "BSD loopback header cut short",
    UnknownNullFamily => "unknown_null_family": "BSD loopback address family not IPv4/IPv6",
    TruncatedNflog => "truncated_nflog": "NFLOG header or TLV cut short",
    NflogNoPayload => "nflog_no_payload": "NFLOG record without a payload TLV",
    TruncatedChdlc => "truncated_chdlc": "Cisco HDLC header cut short",
    IpBadVersion => "ip_bad_version": "IP version nibble is neither 4 nor 6",
    TruncatedIpv4 => "truncated_ipv4": "IPv4 header cut short",
    Ipv4BadVersion => "ipv4_bad_version": "IPv4 ethertype but version nibble is not 4",
    Ipv4HeaderLenTooSmall => "ipv4_header_len_too_small": "IPv4 IHL below 5",
    Ipv4TotalLenBelowHeader => "ipv4_total_len_below_header": "IPv4 total length shorter than its header (captured bytes used instead)",
    Ipv4TotalLenExceedsFrame => "ipv4_total_len_exceeds_frame": "IPv4 total length beyond the frame although nothing was snapped",
    TruncatedIpv6 => "truncated_ipv6": "IPv6 header cut short",
    Ipv6BadVersion => "ipv6_bad_version": "IPv6 ethertype but version nibble is not 6",
    Ipv6PayloadLenExceedsFrame => "ipv6_payload_len_exceeds_frame": "IPv6 payload length beyond the frame although nothing was snapped",
    TruncatedIpv6Ext => "truncated_ipv6_ext": "IPv6 extension header cut short",
    Ipv6ExtChainTooLong => "ipv6_ext_chain_too_long": "more than 16 IPv6 extension headers",
    FragmentOverlap => "fragment_overlap": "IP fragments overlap with different data",
    FragmentDuplicate => "fragment_duplicate": "IP fragment received twice",
    FragmentTooLarge => "fragment_too_large": "fragments extend beyond 65535 bytes",
    FragmentBadLength => "fragment_bad_length": "non-final fragment payload not a multiple of 8",
    FragmentTimeout => "fragment_timeout": "incomplete datagram dropped after the reassembly timeout",
    FragmentEvicted => "fragment_evicted": "incomplete datagram dropped because the reassembly table was full",
    FragmentCut => "fragment_cut": "first fragment cut short by the capture: analysed as it is, its datagram not rebuilt",
    TruncatedTcp => "truncated_tcp": "TCP header cut short",
    TcpDataOffsetTooSmall => "tcp_data_offset_too_small": "TCP data offset below 5",
    TcpBadOption => "tcp_bad_option": "TCP option with an impossible length",
    TruncatedUdp => "truncated_udp": "UDP header cut short",
    UdpLenBelowHeader => "udp_len_below_header": "UDP length field below 8",
    UdpLenExceedsIp => "udp_len_exceeds_ip": "UDP length field beyond the IP payload although nothing was snapped",
    TruncatedIcmp => "truncated_icmp": "ICMP/ICMPv6 header cut short",
    TruncatedSctp => "truncated_sctp": "SCTP common header cut short",
    TruncatedGre => "truncated_gre": "GRE header cut short",
    GreUnsupported => "gre_unsupported": "GRE version or routing field not decodable",
    TruncatedErspan => "truncated_erspan": "ERSPAN header cut short",
    TruncatedVxlan => "truncated_vxlan": "VXLAN header cut short",
    TruncatedGeneve => "truncated_geneve": "Geneve header or options cut short",
    TruncatedGtpu => "truncated_gtpu": "GTP-U header or extension cut short",
    TunnelTooDeep => "tunnel_too_deep": "more than 8 nested encapsulations",
    TlsMalformed => "tls_malformed": "a TLS stream's hello or Certificate message could not be read",
    CertMalformed => "cert_malformed": "a server certificate is not valid DER X.509 (fingerprints kept)",
    DnsMalformed => "dns_malformed": "a DNS message on a DNS port could not be read",
    HttpMalformed => "http_malformed": "an HTTP stream's message head could not be read",
    QuicMalformed => "quic_malformed": "a QUIC Initial could not be decrypted or read",
    DhcpMalformed => "dhcp_malformed": "a DHCP message on a DHCP port could not be read",
    TlsHelloCapped => "tls_hello_capped": "a ClientHello list longer than 512 values (no client sends one): fingerprints over its first 512",
    AppMessageTooLong => "app_message_too_long": "a TLS hello or a first HTTP head longer than the 16 KiB a TCP direction's parser reads was left unread",
}

/// The anomalies of one packet, as a bit set (no allocation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnomalySet(u64);

impl AnomalySet {
    #[inline]
    pub fn insert(&mut self, a: Anomaly) {
        self.0 |= 1u64 << (a as u8);
    }
    #[inline]
    pub fn contains(self, a: Anomaly) -> bool {
        self.0 & (1u64 << (a as u8)) != 0
    }
    /// Add every anomaly of `other`.
    #[inline]
    pub fn extend(&mut self, other: AnomalySet) {
        self.0 |= other.0;
    }
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The anomalies of `self` that `other` lacks.
    #[inline]
    pub fn without(self, other: AnomalySet) -> AnomalySet {
        AnomalySet(self.0 & !other.0)
    }
    pub fn iter(self) -> impl Iterator<Item = Anomaly> {
        Anomaly::ALL
            .iter()
            .copied()
            .filter(move |a| self.contains(*a))
    }
}

/// Counts per anomaly kind; merged across workers with `+=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnomalyCounts([u64; Anomaly::ALL.len()]);

impl Default for AnomalyCounts {
    fn default() -> Self {
        AnomalyCounts([0; Anomaly::ALL.len()])
    }
}

impl AnomalyCounts {
    #[inline]
    pub fn add_set(&mut self, set: AnomalySet) {
        if set.is_empty() {
            return;
        }
        for a in set.iter() {
            self.0[a as usize] += 1;
        }
    }
    #[inline]
    pub fn add(&mut self, a: Anomaly, n: u64) {
        self.0[a as usize] += n;
    }
    pub fn get(&self, a: Anomaly) -> u64 {
        self.0[a as usize]
    }
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
    /// Non-zero counts, in declaration order.
    pub fn nonzero(&self) -> impl Iterator<Item = (Anomaly, u64)> + '_ {
        Anomaly::ALL
            .iter()
            .map(|&a| (a, self.0[a as usize]))
            .filter(|&(_, n)| n > 0)
    }
}

impl std::ops::AddAssign<&AnomalyCounts> for AnomalyCounts {
    fn add_assign(&mut self, rhs: &AnomalyCounts) {
        for (a, b) in self.0.iter_mut().zip(rhs.0.iter()) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_in_the_bit_set_and_names_are_unique_snake_case() {
        assert!(Anomaly::ALL.len() <= 64);
        let mut names: Vec<_> = Anomaly::ALL.iter().map(|a| a.name()).collect();
        assert!(names.iter().all(|n| n
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Anomaly::ALL.len());
    }

    #[test]
    fn set_and_counts() {
        let mut s = AnomalySet::default();
        s.insert(Anomaly::TruncatedTcp);
        s.insert(Anomaly::TunnelTooDeep);
        s.insert(Anomaly::TruncatedTcp);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Anomaly::TruncatedTcp, Anomaly::TunnelTooDeep]
        );
        let mut c = AnomalyCounts::default();
        c.add_set(s);
        c.add_set(s);
        let mut d = AnomalyCounts::default();
        d.add(Anomaly::TruncatedTcp, 1);
        c += &d;
        assert_eq!(c.get(Anomaly::TruncatedTcp), 3);
        assert_eq!(c.get(Anomaly::TunnelTooDeep), 2);
        assert_eq!(c.total(), 5);
    }
}
