//! Per-flow features: the signed sequences, their statistics, and the hook
//! for user-defined incremental features.
//!
//! Owns: what a flow's numbers mean (see `schemas/flow.md`). Does not own:
//! which packets belong to a flow (that is [`crate::flow`]).

mod custom;
mod sequences;
mod stats;

pub use custom::{FeatureProcessor, FeatureState, FeatureValue, PacketContext};
pub use sequences::{PacketValues, Scratch, SequenceRecorder, Sequences};
pub use stats::{DirStats, Family, FlowStats, Moments, SeqStats, STAT_NAMES};
