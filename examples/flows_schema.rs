//! Print the `flows` table's columns as the Markdown table in
//! `schemas/flows.md` (column, type, meaning, unit).
//!
//! `cargo run --example flows_schema`

fn main() {
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
