//! Print a table's columns as the Markdown table of its contract:
//! `schemas/flows.md` (column, type, meaning, unit) or, with the argument
//! `packets`, `dns` or `tls_certificates`, that table's part of
//! `schemas/packets.md`, `schemas/dns.md`, `schemas/tls.md` (column, type,
//! nullable, meaning, unit).
//!
//! `cargo run --example flows_schema [packets|dns|tls_certificates]`

fn main() {
    let table = std::env::args().nth(1);
    let rows = match table.as_deref() {
        Some("packets") => Some(wa1kpcap::sink::packet_columns(true)),
        Some("dns") => Some(wa1kpcap::sink::dns_columns()),
        Some("tls_certificates") => Some(wa1kpcap::sink::cert_columns()),
        _ => None,
    };
    if let Some(columns) = rows {
        println!("| column | type | nullable | meaning | unit |");
        println!("|---|---|---|---|---|");
        for c in columns {
            println!(
                "| `{}` | {} | {} | {} | {} |",
                c.name,
                c.ty.map_or("binary", |t| t.doc_name()),
                if c.nullable { "yes" } else { "no" },
                c.meaning,
                c.unit
            );
        }
        return;
    }
    println!("| column | type | meaning | unit |");
    println!("|---|---|---|---|");
    for c in wa1kpcap::sink::flow_columns() {
        println!(
            "| `{}` | {} | {} | {} |",
            c.name,
            c.ty.doc_name(),
            c.meaning,
            c.unit
        );
    }
}
