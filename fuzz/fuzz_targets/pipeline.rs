//! The whole engine on arbitrary capture bytes: read → decode → defrag →
//! flows → protocol parsers → the flows table as an Arrow batch. Never a
//! panic, and the counts hold together: no flow is lost (every flow the
//! table made is handed out), flows never count more packets than were
//! read, and the batch has one row per flow.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::capture::Capture;
use wa1kpcap::sink::{flow_columns, flows_schema, flows_to_batch, FlowRow};
use wa1kpcap::Analyzer;

fuzz_target!(|data: &[u8]| {
    let Ok(mut cap) = Capture::from_bytes(data.to_vec()) else {
        return;
    };
    let mut flows = Vec::new();
    // Small caps so that eviction paths run on small inputs too.
    let analyzer = Analyzer::new().max_flows(4).max_sequence_len(Some(3));
    let Ok(summary) = analyzer.stream_capture(&mut cap, |f| flows.push(f)) else {
        return;
    };
    assert_eq!(summary.flows, flows.len() as u64, "a flow was lost");
    let counted: u64 = flows.iter().map(|f| f.packet_count()).sum();
    assert!(counted <= summary.packets_read + summary.fragments, "{counted} > {summary:?}");
    let columns = flow_columns();
    let schema = flows_schema(&columns);
    let rows: Vec<FlowRow<'_>> = flows
        .iter()
        .enumerate()
        .map(|(i, flow)| FlowRow { flow, flow_id: i as i64, capture: "fuzz" })
        .collect();
    let batch = flows_to_batch(&columns, &schema, &rows).expect("a batch of any flows");
    assert_eq!(batch.num_rows(), flows.len());
});
