//! Embed the SQL layer: a DataFusion `SessionContext` over a capture (or a
//! dataset directory), with the flow tables and the network functions
//! registered, queried with SQL and with the DataFrame API.
//!
//! `cargo run --example sql_session [CAPTURE_OR_DATASET]` (default: the
//! built-in sample capture).

use datafusion::functions_aggregate::expr_fn::count;
use datafusion::prelude::*;
use wa1kpcap::Analyzer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let input = wa1kpcap::sample::path_arg_or_sample()?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let session = wa1kpcap::sql::open(&[input], &Analyzer::new(), 2).await?;
        println!("tables: {}", session.tables.join(", "));
        // SQL, with a network function.
        session
            .ctx
            .sql(
                "SELECT src_ip, dst_ip, app_protocol, sni, packet_count, app_mean, \
                 community_id(src_ip, dst_ip, src_port, dst_port, protocol) AS cid \
                 FROM flows ORDER BY byte_count DESC LIMIT 5",
            )
            .await?
            .show()
            .await?;
        // The same context through the DataFrame API.
        session
            .ctx
            .table("flows")
            .await?
            .filter(col("app_protocol").is_not_null())?
            .aggregate(
                vec![col("app_protocol")],
                vec![count(lit(1)).alias("flows")],
            )?
            .sort(vec![col("app_protocol").sort(true, false)])?
            .show()
            .await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
