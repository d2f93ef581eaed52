//! The seed README's "Access Flow Metrics", plus what the reference does not
//! tell: why each flow ended and whether the TCP handshake was seen.
//!
//! `cargo run --example flow_metrics -- [capture]` (default: the built-in sample)

use wa1kpcap::Analyzer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = wa1kpcap::sample::path_arg_or_sample()?;
    let analysis = Analyzer::new().tcp_cleanup_timeout(120.0).analyze(&path)?;
    for flow in &analysis.flows {
        let m = &flow.metrics;
        println!("{}", flow.key.display());
        println!(
            "  total packets: {} ({} bytes, {:.3} s)",
            m.packet_count,
            m.byte_count,
            flow.duration()
        );
        println!(
            "  up packets: {} / bytes {}",
            m.up_packet_count, m.up_byte_count
        );
        println!(
            "  down packets: {} / bytes {}",
            m.down_packet_count, m.down_byte_count
        );
        println!(
            "  ended: {}, handshake seen: {}",
            flow.end_reason.name(),
            flow.tcp_handshake
        );
    }
    let t = &analysis.summary.table;
    println!(
        "{} packets read, {} counted, {} retransmissions dropped, {} flows",
        analysis.summary.packets_read,
        t.packets_counted,
        t.packets_filtered_retrans,
        t.flows_created
    );
    Ok(())
}
