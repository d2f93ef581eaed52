//! Protocol layers a packet was seen to contain, as a bit set, for per-layer
//! counts (`inspect`) and per-flow summaries.

macro_rules! layers {
    ($($variant:ident => $name:literal,)*) => {
        /// A protocol layer the decoder recognises.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Layer {
            $($variant,)*
        }

        impl Layer {
            pub const ALL: &'static [Layer] = &[$(Layer::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Layer::$variant => $name,)*
                }
            }
        }
    };
}

layers! {
    Ethernet => "ethernet",
    Vlan => "vlan",
    VlanS => "vlan_8021ad",
    Mpls => "mpls",
    Pppoe => "pppoe",
    Ppp => "ppp",
    Sll => "sll",
    Sll2 => "sll2",
    Null => "null",
    Nflog => "nflog",
    Chdlc => "chdlc",
    Arp => "arp",
    OtherL3 => "other_l3",
    Ipv4 => "ipv4",
    Ipv6 => "ipv6",
    Fragment => "ip_fragment",
    Tcp => "tcp",
    Udp => "udp",
    Icmp => "icmp",
    Icmpv6 => "icmpv6",
    Sctp => "sctp",
    OtherL4 => "other_l4",
    Gre => "gre",
    Erspan => "erspan",
    Vxlan => "vxlan",
    Geneve => "geneve",
    Gtpu => "gtpu",
    IpInIp => "ip_in_ip",
}

/// Set of layers in one packet (each counted once per packet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerSet(u32);

impl LayerSet {
    #[inline]
    pub fn insert(&mut self, l: Layer) {
        self.0 |= 1u32 << (l as u8);
    }
    #[inline]
    pub fn contains(self, l: Layer) -> bool {
        self.0 & (1u32 << (l as u8)) != 0
    }
    #[inline]
    pub fn extend(&mut self, other: LayerSet) {
        self.0 |= other.0;
    }
    #[inline]
    pub fn remove(&mut self, l: Layer) {
        self.0 &= !(1u32 << (l as u8));
    }
    /// The layers of `self` that `other` lacks.
    #[inline]
    pub fn without(self, other: LayerSet) -> LayerSet {
        LayerSet(self.0 & !other.0)
    }
    pub fn iter(self) -> impl Iterator<Item = Layer> {
        Layer::ALL
            .iter()
            .copied()
            .filter(move |l| self.contains(*l))
    }
}

/// Packets seen per layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerCounts([u64; 32]);

impl LayerCounts {
    #[inline]
    pub fn add_set(&mut self, set: LayerSet) {
        let mut bits = set.0;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            self.0[i] += 1;
            bits &= bits - 1;
        }
    }
    pub fn get(&self, l: Layer) -> u64 {
        self.0[l as usize]
    }
    pub fn nonzero(&self) -> impl Iterator<Item = (Layer, u64)> + '_ {
        Layer::ALL
            .iter()
            .map(|&l| (l, self.0[l as usize]))
            .filter(|&(_, n)| n > 0)
    }
}

impl std::ops::AddAssign<&LayerCounts> for LayerCounts {
    fn add_assign(&mut self, rhs: &LayerCounts) {
        for (a, b) in self.0.iter_mut().zip(rhs.0.iter()) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_in_the_bit_set() {
        assert!(Layer::ALL.len() <= 32);
    }

    #[test]
    fn counts_each_layer_once_per_packet() {
        let mut s = LayerSet::default();
        s.insert(Layer::Ipv4);
        s.insert(Layer::Gre);
        s.insert(Layer::Ipv4);
        let mut c = LayerCounts::default();
        c.add_set(s);
        c.add_set(s);
        assert_eq!(c.get(Layer::Ipv4), 2);
        assert_eq!(c.get(Layer::Gre), 2);
        assert_eq!(c.get(Layer::Tcp), 0);
        assert_eq!(c.nonzero().count(), 2);
    }
}
