//! A flow's DHCP messages summarised for its `flows` columns
//! (`schemas/dhcp.md`).

use super::DhcpMessage;

/// DHCP message types kept per flow (`dhcp_message_types`).
pub const MAX_DHCP_TYPES: usize = 16;

/// The DHCP messages of a flow, summarised (`schemas/dhcp.md`): each field
/// is the first value any message of the flow carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DhcpInfo {
    /// Message type names in order (≤ [`MAX_DHCP_TYPES`]).
    pub message_types: Vec<&'static str>,
    /// The first message, for its version and transaction id.
    pub first: DhcpMessage,
    pub client_mac: Option<String>,
    pub client_id: Option<String>,
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    pub vendor_class: Option<String>,
    pub requested_addr: Option<String>,
    /// Address offered or assigned (DHCPv4 yiaddr, DHCPv6 IA address).
    pub assigned_addr: Option<String>,
    pub server_id: Option<String>,
    pub parameter_requests: Vec<u16>,
}

impl DhcpInfo {
    pub(crate) fn add(&mut self, m: DhcpMessage) {
        if self.message_types.len() < MAX_DHCP_TYPES {
            self.message_types.push(m.message_type_name());
        }
        let first = |slot: &mut Option<String>, v: Option<String>| {
            if slot.is_none() {
                *slot = v;
            }
        };
        first(&mut self.client_mac, m.client_mac.clone());
        first(&mut self.client_id, m.client_id.clone());
        first(&mut self.hostname, m.hostname.clone());
        first(&mut self.fqdn, m.fqdn.clone());
        first(&mut self.vendor_class, m.vendor_class.clone());
        first(&mut self.server_id, m.server_id.clone());
        first(
            &mut self.requested_addr,
            m.requested_addr.map(|a| a.to_string()),
        );
        first(
            &mut self.assigned_addr,
            m.lease_addr().map(|a| a.to_string()),
        );
        if self.parameter_requests.is_empty() {
            self.parameter_requests.clone_from(&m.parameter_requests);
        }
        if self.message_types.len() == 1 {
            self.first = m;
        }
    }
}
