//! User-defined incremental per-flow features (the seed's
//! `register_feature`): a processor makes a fresh state for each flow, the
//! state sees every counted packet of the flow in order, and its final value
//! lands in `Flow::features` under the processor's name.

use crate::decode::Packet;

/// What a feature sees of one counted packet.
#[derive(Debug, Clone, Copy)]
pub struct PacketContext<'p, 'a> {
    pub ts_ns: i64,
    /// Sent by the flow's initiator (the first packet's sender).
    pub up: bool,
    pub wire_len: u32,
    pub packet: &'p Packet<'a>,
}

/// A feature's value for one flow.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum FeatureValue {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Ints(Vec<i64>),
    Floats(Vec<f64>),
}

/// Per-flow state of a custom feature.
pub trait FeatureState: Send {
    fn update(&mut self, packet: &PacketContext<'_, '_>);
    fn finish(self: Box<Self>) -> FeatureValue;
}

/// A custom feature: a name and a factory of per-flow states.
pub trait FeatureProcessor: Send + Sync {
    fn name(&self) -> &str;
    fn init(&self) -> Box<dyn FeatureState>;
}
