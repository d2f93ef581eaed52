//! Print a table's columns as the Markdown table of its contract:
//! `schemas/flows.md` (column, type, meaning, unit) or, with the argument
//! `packets`, `schemas/packets.md` (column, type, nullable, meaning, unit).
//!
//! `cargo run --example flows_schema [packets]`

fn main() {
    if std::env::args().nth(1).as_deref() == Some("packets") {
        println!("| column | type | nullable | meaning | unit |");
        println!("|---|---|---|---|---|");
        for c in wa1kpcap::sink::packet_columns(true) {
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
