//! A flow's DNS messages summarised for its `flows` columns
//! (`schemas/dns.md`): first query and response code, distinct names and
//! answers, bounded.

use super::{DnsMessage, DnsQuestion};

/// Distinct query names kept per flow (`dns_queries`).
pub const MAX_DNS_NAMES: usize = 32;
/// Distinct answer values kept per flow (`dns_answers`).
pub const MAX_DNS_ANSWERS: usize = 64;

/// The DNS messages of a flow, summarised (`schemas/dns.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsInfo {
    /// Transaction id of the first message.
    pub id: u16,
    /// First question of the first message that has one.
    pub query: Option<DnsQuestion>,
    /// Response code of the first response (extended by EDNS).
    pub rcode: Option<u16>,
    /// Distinct question names in order of appearance (≤ [`MAX_DNS_NAMES`]).
    pub queries: Vec<String>,
    /// Distinct answer-section values (address, name or text per type) in
    /// order of appearance (≤ [`MAX_DNS_ANSWERS`]).
    pub answers: Vec<String>,
    pub queries_seen: u32,
    pub responses_seen: u32,
}

impl DnsInfo {
    pub(crate) fn add(&mut self, m: &DnsMessage) {
        if self.queries_seen + self.responses_seen == 0 {
            self.id = m.id;
        }
        if m.response {
            self.responses_seen += 1;
            self.rcode.get_or_insert(m.rcode);
        } else {
            self.queries_seen += 1;
        }
        if self.query.is_none() {
            self.query = m.questions.first().cloned();
        }
        for q in &m.questions {
            push_distinct(&mut self.queries, &q.name, MAX_DNS_NAMES);
        }
        for a in &m.answers {
            push_distinct(&mut self.answers, &a.data, MAX_DNS_ANSWERS);
        }
    }
}

fn push_distinct(list: &mut Vec<String>, v: &str, cap: usize) {
    if list.len() < cap && !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}
