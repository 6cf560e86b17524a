//! `basalt wallet rollups`: the registry, a line per rollup with its counters, and a row of its
//! risks and stage.

use crate::units::format_tokens;
use crate::wallet::{call, l1_http};
use anyhow::{Context, Result};
use jsonrpsee::rpc_params;

/// Prints every registered rollup of the L1 at `rpc`.
pub async fn list(rpc: &str) -> Result<()> {
    let client = l1_http(rpc)?;
    // The registry may be larger than one page.
    let mut list = Vec::new();
    loop {
        let page = call(&client, rpc, "l1_rollups", rpc_params![list.len(), 1_000]).await?;
        let page = page.as_array().context("rollup list")?.clone();
        let full = page.len() == 1_000;
        list.extend(page);
        if !full {
            break;
        }
    }
    if list.is_empty() {
        println!("no rollups registered");
    }
    for r in list {
        let tokens = |v: &serde_json::Value| {
            v.as_str()
                .and_then(|s| s.parse::<u128>().ok())
                .map_or_else(|| "?".into(), format_tokens)
        };
        let risk = call(
            &client,
            rpc,
            "l1_getRollupRisk",
            rpc_params![r["id"].clone()],
        )
        .await?;
        let levels: Vec<String> = risk["categories"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "{} {}",
                    c["id"].as_str().unwrap_or("?"),
                    c["level"].as_str().unwrap_or("?")
                )
            })
            .collect();
        let frozen = if r["frozen"] == true {
            ", FROZEN: exits open"
        } else {
            ""
        };
        let risk_row = format!(
            "  stage {} ({}){frozen}; `basalt rollup risk {}` says why",
            risk["stage"],
            levels.join(", "),
            r["params"]["name"].as_str().unwrap_or("?"),
        );
        if r["params"]["kind"] == "zk" {
            println!(
                "{} {} (zk): escrow {}, {} deposits, {} batches, {} proven by validity proof, {} transactions per batch at most",
                r["id"],
                r["params"]["name"].as_str().unwrap_or("?"),
                tokens(&r["escrow"]),
                r["deposits"],
                r["batches"],
                r["settled"],
                r["params"]["zk"]["slots"],
            );
            println!("{risk_row}");
            continue;
        }
        println!(
            "{} {} ({}): escrow {}, {} deposits, {} batches, {} proposals ({} batches settled, {} disputes open), window {} blocks, bond {}, dispute bound {} blocks",
            r["id"],
            r["params"]["name"].as_str().unwrap_or("?"),
            r["params"]["kind"].as_str().unwrap_or("?"),
            tokens(&r["escrow"]),
            r["deposits"],
            r["batches"],
            r["proposals"],
            r["settled"],
            r["unresolved"],
            r["params"]["challengeWindow"],
            tokens(&r["params"]["proposerBond"]),
            r["disputeBound"],
        );
        println!("{risk_row}");
    }
    Ok(())
}
