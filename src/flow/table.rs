//! The flow table of one worker: lookup by direction-free key, per-protocol
//! idle timeouts driven by capture time (never the wall clock), TCP close
//! and reopen, and the `max_flows` bound that ends the least recently active
//! flow early — counted and flagged, never a silent drop.
//!
//! Flows live in a slab; each is on one of four intrusive queues (TCP, UDP,
//! other, closed TCP) ordered by when it was queued. A packet only stamps
//! its flow's activity time; the queues are fixed up lazily when their head
//! is examined (a head active since it was queued goes back to the tail), so
//! the per-packet path touches no other flow.
//!
//! The index hashes keys with a secret per table ([`crate::keyed`]): keys
//! come from the wire, and an unkeyed hash let crafted flows collide. Its
//! order never reaches the output (`finish_all` sorts by start and key).

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;

use super::app::{AppSink, AppTracker, CertCache, DnsEvent};
use super::key::{CanonicalKey, FlowKey};
use super::tcp::TcpTracker;
use super::{EndReason, Flow, FlowConfig, FlowMetrics};
pub use crate::decode::front::PacketIn;
use crate::decode::{
    Anomaly, AnomalyCounts, AnomalySet, LayerSet, TcpSegment, Transport, TunnelInfo,
};
use crate::features::{
    FeatureProcessor, FeatureState, PacketContext, PacketValues, Scratch, SequenceRecorder,
};

const NIL: u32 = u32::MAX;
/// A UDP flow's datagrams read by content (DNS, an HTTP head, a DTLS
/// handshake) when its first one was none of them: WebRTC starts DTLS
/// after a few STUN exchanges.
const LATE_DETECT_PACKETS: u64 = 16;
const TCP: usize = 0;
const UDP: usize = 1;
const OTHER: usize = 2;
const CLOSED: usize = 3;

/// Where a counted packet went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// The flow's creation ordinal in this table ([`Flow::ord`]).
    pub flow_ord: u64,
    /// Sent by the up side (the flow's first sender).
    pub up: bool,
}

/// What the table did, merged across workers with `+=`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlowTableStats {
    pub packets_counted: u64,
    pub packets_filtered_ack: u64,
    pub packets_filtered_rst: u64,
    pub packets_filtered_retrans: u64,
    pub flows_created: u64,
    pub flows_evicted: u64,
    pub flows_ended_idle: u64,
    pub flows_split_tcp: u64,
    pub max_active_flows: u64,
    /// Peak estimated bytes of flow state held at once (see
    /// [`FlowConfig::max_flow_bytes`]).
    pub max_flow_bytes: u64,
}

impl std::ops::AddAssign<&FlowTableStats> for FlowTableStats {
    fn add_assign(&mut self, o: &FlowTableStats) {
        self.packets_counted += o.packets_counted;
        self.packets_filtered_ack += o.packets_filtered_ack;
        self.packets_filtered_rst += o.packets_filtered_rst;
        self.packets_filtered_retrans += o.packets_filtered_retrans;
        self.flows_created += o.flows_created;
        self.flows_evicted += o.flows_evicted;
        self.flows_ended_idle += o.flows_ended_idle;
        self.flows_split_tcp += o.flows_split_tcp;
        // flows held at once: the largest worker's peak (not a sum)
        self.max_active_flows = self.max_active_flows.max(o.max_active_flows);
        self.max_flow_bytes = self.max_flow_bytes.max(o.max_flow_bytes);
    }
}

/// A flow's parser not made yet.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// A TCP flow whose parser is wanted: it is made at the first segment
    /// with payload, so a flow of bare SYNs, ACKs or RSTs (scans, floods)
    /// never holds parser state. Each side's last SYN sequence number,
    /// replayed into the new parser's streams.
    Tcp([Option<u32>; 2]),
    /// A UDP flow's last RTP-like header (SSRC, sequence, payload type)
    /// and the side that sent it: the next datagram of that side that
    /// continues it names the flow RTP (one header alone is no proof).
    Rtp(u8, (u32, u16, u8)),
}

/// One flow's state. `repr(C)` keeps the fields every packet touches
/// together at the front (fewer cache lines per packet).
#[repr(C)]
struct FlowState {
    canon: CanonicalKey,
    hash: u64,
    /// Creation ordinal in this table (0, 1, …): the flow's id within it.
    ord: u64,
    /// Last packet of any kind (drives timeouts).
    active_ns: i64,
    end_ns: i64,
    list: usize,
    key: FlowKey,
    tcp: TcpTracker,
    metrics: FlowMetrics,
    rec: SequenceRecorder,
    anomalies: AnomalySet,
    layers: LayerSet,
    truncated_packets: u64,
    reassembled_packets: u64,
    start_ns: i64,
    tunnel: Option<TunnelInfo>,
    icmp: Option<(u8, u8)>,
    custom: Vec<Box<dyn FeatureState>>,
    /// Application-protocol parsing (when enabled: TCP flows, and UDP
    /// flows whose ports hint at a parsed protocol).
    app: Option<Box<AppTracker>>,
    /// What is kept for a parser not made yet ([`Pending`]).
    app_pending: Option<Pending>,
    /// Heap bytes last counted into the table's total ([`FlowState::heap_bytes`]).
    charged: u32,
}

impl FlowState {
    /// A UDP datagram of side `dir` of a flow nothing named yet: RTP when
    /// it continues the previous RTP-like header of the same side.
    fn probe_rtp(&mut self, dir: u8, payload: &[u8]) {
        use crate::proto::ident::{rtp_continues, rtp_header, AppName};
        let Some(h) = rtp_header(payload) else {
            return;
        };
        match self.app_pending {
            Some(Pending::Rtp(d, prev)) if d == dir && rtp_continues(prev, h) => {
                let ports = (self.key.src_port, self.key.dst_port);
                self.app = AppName::of("rtp").map(|n| Box::new(AppTracker::udp_named(ports, n)));
                self.app_pending = None;
            }
            Some(Pending::Rtp(d, _)) if d != dir => {}
            _ => self.app_pending = Some(Pending::Rtp(dir, h)),
        }
    }

    /// Estimated heap bytes this flow holds beyond its slot.
    fn heap_bytes(&self) -> usize {
        self.rec.heap_bytes()
            + self.app.as_ref().map_or(0, |a| a.heap_bytes())
            + self.custom.capacity() * 16
    }
}

/// What a flow costs besides its heap: the slot, its index entry (slot
/// number and control byte, at the index's load factor) and free-list entry.
const SLOT_BYTES: u64 = (std::mem::size_of::<Slot>() + 16) as u64;

struct Slot {
    /// Inline, not boxed: one pointer hop less per packet.
    flow: Option<FlowState>,
    prev: u32,
    next: u32,
    /// Activity time when it was (re)queued.
    queued_ns: i64,
}

/// The flows' slots in fixed chunks: growing never moves (or copies) the
/// slots already there, so memory grows by one chunk at a time instead of
/// doubling with a transient copy of the whole table.
#[derive(Default)]
struct Slab {
    chunks: Vec<Vec<Slot>>,
    len: usize,
}

const CHUNK_SHIFT: usize = 12;
const CHUNK: usize = 1 << CHUNK_SHIFT;

impl Slab {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, slot: Slot) {
        if self.len == self.chunks.len() * CHUNK {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.push(slot);
            self.len += 1;
        }
    }
}

impl std::ops::Index<usize> for Slab {
    type Output = Slot;
    #[inline]
    fn index(&self, i: usize) -> &Slot {
        &self.chunks[i >> CHUNK_SHIFT][i & (CHUNK - 1)]
    }
}

impl std::ops::IndexMut<usize> for Slab {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Slot {
        &mut self.chunks[i >> CHUNK_SHIFT][i & (CHUNK - 1)]
    }
}

#[derive(Clone, Copy)]
struct Lru {
    head: u32,
    tail: u32,
}

pub struct FlowTable {
    cfg: FlowConfig,
    timeouts_ns: [i64; 4],
    cap: usize,
    features: Arc<[Arc<dyn FeatureProcessor>]>,
    /// Slot numbers only (4 bytes each, so the index stays cache-resident);
    /// keys are compared against the key stored in the slot.
    index: HashTable<u32>,
    /// The index's secret hash key, new per table ([`crate::keyed`]).
    hasher: std::hash::RandomState,
    slots: Slab,
    free: Vec<u32>,
    lists: [Lru; 4],
    now_ns: i64,
    /// Reused by every flow's median computation.
    scratch: Scratch,
    pub stats: FlowTableStats,
    /// Anomalies the application parsers found (also in the flows' sets).
    pub app_anomalies: AnomalyCounts,
    /// DNS messages not yet taken by [`FlowTable::take_dns_events`]
    /// (collected only with `cfg.dns_messages`).
    dns_events: Vec<DnsEvent>,
    app_found: Vec<Anomaly>,
    cert_cache: CertCache,
    /// Estimated bytes of all flows held: Σ `SLOT_BYTES` + `charged`.
    mem_bytes: u64,
    max_bytes: u64,
}

fn secs_to_ns(s: f64) -> i64 {
    if s <= 0.0 || !s.is_finite() {
        i64::MAX
    } else {
        (s * 1e9).min(i64::MAX as f64) as i64
    }
}

impl FlowTable {
    pub fn new(cfg: FlowConfig, features: Arc<[Arc<dyn FeatureProcessor>]>) -> FlowTable {
        let timeouts_ns = [
            secs_to_ns(cfg.tcp_cleanup_timeout_s),
            secs_to_ns(cfg.udp_timeout_s),
            i64::MAX,
            secs_to_ns(cfg.tcp_close_delay_s).min(secs_to_ns(cfg.tcp_cleanup_timeout_s)),
        ];
        let max_bytes = cfg.max_flow_bytes.unwrap_or(u64::MAX);
        FlowTable {
            cap: cfg.max_sequence_len.unwrap_or(usize::MAX),
            timeouts_ns,
            cfg,
            features,
            index: HashTable::new(),
            hasher: crate::keyed::table_state(),
            slots: Slab::default(),
            free: Vec::new(),
            lists: [Lru {
                head: NIL,
                tail: NIL,
            }; 4],
            now_ns: i64::MIN,
            scratch: Scratch::default(),
            stats: FlowTableStats::default(),
            app_anomalies: AnomalyCounts::default(),
            dns_events: Vec::new(),
            app_found: Vec::new(),
            cert_cache: CertCache::default(),
            mem_bytes: 0,
            max_bytes,
        }
    }

    pub fn active_flows(&self) -> usize {
        self.index.len()
    }

    /// Capture time as seen so far (the latest timestamp).
    pub fn now_ns(&self) -> i64 {
        self.now_ns
    }

    /// Offer one packet; finished flows go to `emit`. Returns where the
    /// packet was counted (`None`: filtered, not counted).
    pub fn process(&mut self, p: &PacketIn<'_, '_>, emit: &mut dyn FnMut(Flow)) -> Option<Counted> {
        let (counted, touched) = self.place(p, emit);
        if let Some(s) = touched {
            self.recharge(s);
        }
        // A flow that grew past the budget: end the least recently active
        // ones (never the last flow standing).
        while self.mem_bytes > self.max_bytes && self.index.len() > 1 {
            if !self.evict_oldest(emit) {
                break;
            }
        }
        counted
    }

    /// Count flow `s`'s heap change since it was last counted.
    fn recharge(&mut self, s: u32) {
        if let Some(f) = self.slots[s as usize].flow.as_mut() {
            let now = f.heap_bytes().min(u32::MAX as usize) as u32;
            self.mem_bytes = self.mem_bytes - u64::from(f.charged) + u64::from(now);
            f.charged = now;
            self.stats.max_flow_bytes = self.stats.max_flow_bytes.max(self.mem_bytes);
        }
    }

    /// [`FlowTable::process`] without the budget: where the packet was
    /// counted, and the flow whose state it may have grown.
    fn place(
        &mut self,
        p: &PacketIn<'_, '_>,
        emit: &mut dyn FnMut(Flow),
    ) -> (Option<Counted>, Option<u32>) {
        if p.ts_ns > self.now_ns {
            self.now_ns = p.ts_ns;
            self.expire(emit);
        }
        let (sport, dport) = p.packet.transport.ports().unwrap_or((0, 0));
        let key = FlowKey {
            src_ip: p.ip.src,
            dst_ip: p.ip.dst,
            src_port: sport,
            dst_port: dport,
            protocol: p.ip.protocol,
            vlan_id: p.packet.vlan_id.unwrap_or(0),
        };
        let tcp = match &p.packet.transport {
            Transport::Tcp(t) => Some(t),
            _ => None,
        };
        let canon = key.canonical();
        let hash = self.hasher.hash_one(canon);
        let slots = &self.slots;
        let mut slot = self
            .index
            .find(hash, |&s| {
                slots[s as usize]
                    .flow
                    .as_ref()
                    .is_some_and(|f| f.canon == canon)
            })
            .copied();

        // Does this packet end the flow it would join?
        if let Some(s) = slot {
            if let Some(f) = self.slots[s as usize].flow.as_ref() {
                let idle = p.ts_ns.saturating_sub(f.active_ns) > self.timeouts_ns[f.list];
                let reopen = f.tcp.closed()
                    && tcp.is_some_and(|t| {
                        t.flags & (TcpSegment::SYN | TcpSegment::ACK) == TcpSegment::SYN
                    });
                if idle || reopen {
                    let reason = if reopen {
                        self.stats.flows_split_tcp += 1;
                        close_reason(&f.tcp)
                    } else if f.list == CLOSED {
                        // Its close delay passed: the flow ended by closing,
                        // as expiry would have said had it come first (lazy
                        // expiry may not have reached it yet).
                        close_reason(&f.tcp)
                    } else {
                        self.stats.flows_ended_idle += 1;
                        EndReason::Idle
                    };
                    let f = self.remove(s);
                    emit(self.finish(f, reason));
                    slot = None;
                }
            }
        }

        // ACK/RST filters act before a flow is created (as the reference).
        if let Some(t) = tcp {
            let pure_ack = t.flags == TcpSegment::ACK && t.payload.is_empty();
            let rst = t.flags & TcpSegment::RST != 0;
            if (self.cfg.filter_ack && pure_ack) || (self.cfg.filter_rst && rst) {
                if pure_ack && self.cfg.filter_ack {
                    self.stats.packets_filtered_ack += 1;
                } else {
                    self.stats.packets_filtered_rst += 1;
                }
                if let Some(s) = slot {
                    self.observe_only(s, p, t);
                }
                return (None, None);
            }
        }

        let s = match slot {
            Some(s) => s,
            None => {
                while self.index.len() >= self.cfg.max_flows.max(1)
                    || (!self.index.is_empty() && self.mem_bytes + SLOT_BYTES > self.max_bytes)
                {
                    if !self.evict_oldest(emit) {
                        break;
                    }
                }
                self.insert(key, canon, hash, p)
            }
        };
        let filter_retrans = self.cfg.filter_retrans;
        let Some(f) = self.slots[s as usize].flow.as_mut() else {
            return (None, None);
        };
        let dir = if f.key.is_up(p.ip.src, sport) { 0 } else { 1 };
        let ord = f.ord;
        // Parsers read every segment, retransmissions included (the stream
        // resolves overlaps), before the filters below may drop it.
        if let (Some(Pending::Tcp(syns)), Some(t)) = (f.app_pending.as_mut(), tcp) {
            if !t.payload.is_empty() {
                let mut app = Box::new(AppTracker::tcp((f.key.src_port, f.key.dst_port)));
                for (side, syn) in syns.iter().enumerate() {
                    if let Some(seq) = syn {
                        app.syn(side, *seq);
                    }
                }
                f.app = Some(app);
                f.app_pending = None;
            } else if t.flags & TcpSegment::SYN != 0 {
                syns[dir] = Some(t.seq);
            }
        }
        // A UDP flow may show DNS or an HTTP head by content only after
        // another protocol's first datagrams.
        if f.app.is_none() && self.cfg.protocols && f.metrics.packet_count < LATE_DETECT_PACKETS {
            if let Transport::Udp(u) = &p.packet.transport {
                let ports = (f.key.src_port, f.key.dst_port);
                if f.metrics.packet_count > 0 {
                    f.app = AppTracker::udp_by_content(ports, u.payload).map(Box::new);
                }
                if f.app.is_none() {
                    f.probe_rtp(dir as u8, u.payload);
                }
            }
        }
        if let Some(app) = f.app.as_mut() {
            let mut sink = AppSink {
                flow_ord: ord,
                ts_ns: p.ts_ns,
                src: (p.ip.src, sport),
                dst: (p.ip.dst, dport),
                dns: self.cfg.dns_messages.then_some(&mut self.dns_events),
                anomalies: &mut self.app_found,
            };
            match (tcp, &p.packet.transport) {
                (Some(t), _) => app.segment(dir, t, &mut sink),
                (None, Transport::Udp(u)) => app.datagram(dir, u.payload, &mut sink),
                _ => {}
            }
            for a in self.app_found.drain(..) {
                f.anomalies.insert(a);
                self.app_anomalies.add(a, 1);
            }
        }
        f.active_ns = f.active_ns.max(p.ts_ns);
        if let Some(t) = tcp {
            if f.tcp.is_retransmission(dir, t) {
                f.metrics.retrans_count += 1;
                if filter_retrans {
                    f.tcp.observe(dir, t.flags);
                    self.stats.packets_filtered_retrans += 1;
                    self.after_tcp(s);
                    return (None, Some(s));
                }
            }
        }
        count(f, p, dir, tcp);
        self.stats.packets_counted += 1;
        if tcp.is_some() {
            self.after_tcp(s);
        }
        (
            Some(Counted {
                flow_ord: ord,
                up: dir == 0,
            }),
            Some(s),
        )
    }

    /// End every flow (end of input), in order of their start.
    /// The DNS messages parsed since the last call, in packet order.
    pub fn take_dns_events(&mut self) -> std::vec::Drain<'_, DnsEvent> {
        self.dns_events.drain(..)
    }

    pub fn finish_all(&mut self, emit: &mut dyn FnMut(Flow)) {
        let mut live: Vec<(i64, u32)> = self
            .index
            .iter()
            .map(|&s| {
                (
                    self.slots[s as usize]
                        .flow
                        .as_ref()
                        .map_or(0, |f| f.start_ns),
                    s,
                )
            })
            .collect();
        let key = |s: u32| self.slots[s as usize].flow.as_ref().map(|f| f.key);
        live.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key(a.1).cmp(&key(b.1))));
        for (_, s) in live {
            let f = self.remove(s);
            // Expiry is lazy (a flow idle past its timeout may still be
            // listed behind a younger one): judge idleness here exactly,
            // so the reason does not depend on what else the table saw.
            let reason = if f.tcp.closed() {
                close_reason(&f.tcp)
            } else if self.now_ns.saturating_sub(f.active_ns) > self.timeouts_ns[f.list] {
                self.stats.flows_ended_idle += 1;
                EndReason::Idle
            } else {
                EndReason::EndOfCapture
            };
            emit(self.finish(f, reason));
        }
    }

    fn observe_only(&mut self, s: u32, p: &PacketIn<'_, '_>, t: &TcpSegment<'_>) {
        if let Some(f) = self.slots[s as usize].flow.as_mut() {
            let dir = if f.key.is_up(p.ip.src, t.src_port) {
                0
            } else {
                1
            };
            f.tcp.observe(dir, t.flags);
            f.active_ns = f.active_ns.max(p.ts_ns);
        }
        self.after_tcp(s);
    }

    /// Move a TCP flow to the closed queue once it is closed.
    fn after_tcp(&mut self, s: u32) {
        let closed = self.slots[s as usize]
            .flow
            .as_ref()
            .is_some_and(|f| f.tcp.closed());
        let on_closed = self.slots[s as usize]
            .flow
            .as_ref()
            .is_some_and(|f| f.list == CLOSED);
        if closed && !on_closed {
            self.relist(s, CLOSED);
        }
    }

    fn insert(
        &mut self,
        key: FlowKey,
        canon: CanonicalKey,
        hash: u64,
        p: &PacketIn<'_, '_>,
    ) -> u32 {
        let list = match key.protocol {
            6 => TCP,
            17 => UDP,
            _ => OTHER,
        };
        let state = FlowState {
            key,
            canon,
            hash,
            ord: self.stats.flows_created,
            start_ns: p.ts_ns,
            end_ns: p.ts_ns,
            active_ns: p.ts_ns,
            metrics: FlowMetrics::default(),
            rec: SequenceRecorder::new(self.cap, self.cfg.compute_statistics),
            tcp: TcpTracker::default(),
            truncated_packets: 0,
            reassembled_packets: 0,
            anomalies: AnomalySet::default(),
            layers: LayerSet::default(),
            tunnel: p.packet.tunnel,
            icmp: match p.packet.transport {
                Transport::Icmp(m) | Transport::Icmpv6(m) => Some((m.icmp_type, m.code)),
                _ => None,
            },
            custom: self.features.iter().map(|f| f.init()).collect(),
            list,
            app_pending: (self.cfg.protocols && list == TCP).then_some(Pending::Tcp([None; 2])),
            charged: 0,
            app: if !self.cfg.protocols || list == TCP {
                None
            } else if list == UDP {
                let payload = match &p.packet.transport {
                    Transport::Udp(u) => u.payload,
                    _ => &[],
                };
                AppTracker::udp((key.src_port, key.dst_port), payload).map(Box::new)
            } else {
                None
            },
        };
        let s = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize].flow = Some(state);
                s
            }
            None => {
                self.slots.push(Slot {
                    flow: Some(state),
                    prev: NIL,
                    next: NIL,
                    queued_ns: p.ts_ns,
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.link_tail(s, list);
        let slots = &self.slots;
        self.index.insert_unique(hash, s, |&x| {
            slots[x as usize].flow.as_ref().map_or(0, |f| f.hash)
        });
        self.stats.flows_created += 1;
        self.mem_bytes += SLOT_BYTES;
        self.stats.max_active_flows = self.stats.max_active_flows.max(self.index.len() as u64);
        s
    }

    fn remove(&mut self, s: u32) -> FlowState {
        self.unlink(s);
        let f = self.slots[s as usize].flow.take();
        self.free.push(s);
        match f {
            Some(f) => {
                if let Ok(e) = self.index.find_entry(f.hash, |&x| x == s) {
                    e.remove();
                }
                self.mem_bytes -= SLOT_BYTES + u64::from(f.charged);
                f
            }
            None => unreachable_flow(),
        }
    }

    fn expire(&mut self, emit: &mut dyn FnMut(Flow)) {
        for list in [TCP, UDP, OTHER, CLOSED] {
            let timeout = self.timeouts_ns[list];
            if timeout == i64::MAX {
                continue;
            }
            loop {
                let head = self.lists[list].head;
                if head == NIL
                    || self
                        .now_ns
                        .saturating_sub(self.slots[head as usize].queued_ns)
                        <= timeout
                {
                    break;
                }
                let Some(f) = self.slots[head as usize].flow.as_ref() else {
                    break;
                };
                if self.now_ns.saturating_sub(f.active_ns) <= timeout {
                    // active since it was queued: back to the tail
                    self.relist(head, list);
                    continue;
                }
                let reason = if list == CLOSED {
                    close_reason(&f.tcp)
                } else {
                    EndReason::Idle
                };
                if list != CLOSED {
                    self.stats.flows_ended_idle += 1;
                }
                let f = self.remove(head);
                emit(self.finish(f, reason));
            }
        }
    }

    /// End the least recently active flow; false when the table is empty.
    fn evict_oldest(&mut self, emit: &mut dyn FnMut(Flow)) -> bool {
        loop {
            let mut best: Option<(i64, u32)> = None;
            for l in self.lists {
                if l.head == NIL {
                    continue;
                }
                let q = self.slots[l.head as usize].queued_ns;
                if best.is_none_or(|(t, _)| q < t) {
                    best = Some((q, l.head));
                }
            }
            let Some((queued, s)) = best else {
                return false;
            };
            let Some((active, list)) = self.slots[s as usize]
                .flow
                .as_ref()
                .map(|f| (f.active_ns, f.list))
            else {
                return false;
            };
            if active > queued {
                self.relist(s, list);
                continue;
            }
            let f = self.remove(s);
            self.stats.flows_evicted += 1;
            emit(self.finish(f, EndReason::Evicted));
            return true;
        }
    }

    fn finish(&mut self, f: FlowState, end_reason: EndReason) -> Flow {
        let mut anomalies = f.anomalies;
        let (seq, mut stats) = f.rec.finish(&mut self.scratch);
        let m = f.metrics;
        if self.cfg.compute_statistics {
            stats.up_down_pkt_ratio = ratio(m.up_packet_count, m.down_packet_count);
            stats.up_down_byte_ratio = ratio(m.up_byte_count, m.down_byte_count);
        }
        let names = self.features.iter().map(|p| p.name().to_string());
        // Before the flow is built: what the parsers find at its end joins
        // its anomaly set (a copy taken earlier lost them from the column).
        let app = match f.app {
            Some(a) => {
                let app = a.finish(&mut self.app_found, &mut self.cert_cache);
                for x in self.app_found.drain(..) {
                    anomalies.insert(x);
                    self.app_anomalies.add(x, 1);
                }
                app
            }
            None => None,
        };
        Flow {
            key: f.key,
            ord: f.ord,
            start_ns: f.start_ns,
            end_ns: f.end_ns,
            metrics: m,
            seq,
            stats,
            end_reason,
            tcp_handshake: f.tcp.handshake_seen(),
            truncated_packets: f.truncated_packets,
            anomalies,
            layers: f.layers,
            tunnel: f.tunnel,
            icmp: f.icmp,
            reassembled_packets: f.reassembled_packets,
            features: names
                .zip(f.custom.into_iter().map(|c| c.finish()))
                .collect(),
            app,
        }
    }

    // --- intrusive LRU lists -------------------------------------------

    fn link_tail(&mut self, s: u32, list: usize) {
        let tail = self.lists[list].tail;
        self.slots[s as usize].prev = tail;
        self.slots[s as usize].next = NIL;
        if tail == NIL {
            self.lists[list].head = s;
        } else {
            self.slots[tail as usize].next = s;
        }
        self.lists[list].tail = s;
        if let Some(f) = self.slots[s as usize].flow.as_mut() {
            f.list = list;
            self.slots[s as usize].queued_ns = f.active_ns;
        }
    }

    fn unlink(&mut self, s: u32) {
        let Some(list) = self.slots[s as usize].flow.as_ref().map(|f| f.list) else {
            return;
        };
        let (prev, next) = (self.slots[s as usize].prev, self.slots[s as usize].next);
        if prev == NIL {
            self.lists[list].head = next;
        } else {
            self.slots[prev as usize].next = next;
        }
        if next == NIL {
            self.lists[list].tail = prev;
        } else {
            self.slots[next as usize].prev = prev;
        }
        self.slots[s as usize].prev = NIL;
        self.slots[s as usize].next = NIL;
    }

    fn relist(&mut self, s: u32, list: usize) {
        self.unlink(s);
        self.link_tail(s, list);
    }
}

#[cold]
fn unreachable_flow() -> FlowState {
    // Slots in the index always hold a flow; reaching this is a bug in the
    // table, not something input can cause.
    panic!("flow table slot without a flow")
}

fn close_reason(t: &TcpTracker) -> EndReason {
    if t.reset() {
        EndReason::Rst
    } else {
        EndReason::Fin
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Add one counted packet to its flow.
fn count(f: &mut FlowState, p: &PacketIn<'_, '_>, dir: usize, tcp: Option<&TcpSegment<'_>>) {
    let wire = u64::from(p.wire_len);
    let m = &mut f.metrics;
    m.packet_count += 1;
    m.byte_count += wire;
    if dir == 0 {
        m.up_packet_count += 1;
        m.up_byte_count += wire;
    } else {
        m.down_packet_count += 1;
        m.down_byte_count += wire;
    }
    let (trans_len, app_len) = p.lengths();
    if let Some(t) = tcp {
        let fl = t.flags;
        m.syn_count += u64::from(fl & TcpSegment::SYN != 0);
        m.fin_count += u64::from(fl & TcpSegment::FIN != 0);
        m.rst_count += u64::from(fl & TcpSegment::RST != 0);
        m.ack_count += u64::from(fl & TcpSegment::ACK != 0);
        m.psh_count += u64::from(fl & TcpSegment::PSH != 0);
        m.urg_count += u64::from(fl & TcpSegment::URG != 0);
        if m.packet_count == 1 {
            m.min_window = t.window;
            m.max_window = t.window;
        } else {
            m.min_window = m.min_window.min(t.window);
            m.max_window = m.max_window.max(t.window);
        }
        m.sum_window += u64::from(t.window);
        f.tcp.observe(dir, fl);
    }
    f.end_ns = f.end_ns.max(p.ts_ns);
    if p.packet.truncated {
        f.truncated_packets += 1;
    }
    if p.reassembled {
        f.reassembled_packets += 1;
    }
    f.anomalies.extend(p.packet.anomalies);
    f.layers.extend(p.packet.layers);
    f.rec.push(&PacketValues {
        sign: if dir == 0 { 1 } else { -1 },
        wire_len: p.wire_len,
        ip_len: p.ip.total_len,
        trans_len,
        app_len,
        ts_s: super::ns_to_s(p.ts_ns),
        tcp: tcp.map(|t| (t.flags, t.window)),
    });
    if !f.custom.is_empty() {
        let ctx = PacketContext {
            ts_ns: p.ts_ns,
            up: dir == 0,
            wire_len: p.wire_len,
            packet: p.packet,
        };
        for c in &mut f.custom {
            c.update(&ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per-flow memory is what bounds how many flows fit a budget: a
    /// one-packet flow is its slot plus one small row allocation, and a TCP
    /// flow's parser state is small until it has something to hold.
    #[test]
    fn flow_state_stays_small() {
        assert!(
            std::mem::size_of::<Slot>() <= 544,
            "{}",
            std::mem::size_of::<Slot>()
        );
        assert!(
            std::mem::size_of::<AppTracker>() <= 320,
            "{}",
            std::mem::size_of::<AppTracker>()
        );
        assert!(std::mem::size_of::<super::super::AppInfo>() <= 64);
    }
}
