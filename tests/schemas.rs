//! The written contract in `schemas/` names everything the code can emit.

use wa1kpcap::decode::{Anomaly, Layer};

#[test]
fn decode_contract_lists_every_anomaly_and_layer() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/decode.md")).unwrap();
    for a in Anomaly::ALL {
        assert!(
            doc.contains(&format!("| `{}` | {} |", a.name(), a.description())),
            "anomaly {} not documented",
            a.name()
        );
    }
    for l in Layer::ALL {
        assert!(
            doc.contains(&format!("`{}`", l.name())),
            "layer {} not documented",
            l.name()
        );
    }
}
