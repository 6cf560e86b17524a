//! `basalt wallet rollups`: the registry, a line per rollup with its counters, and a row of its
//! risks and stage.

use crate::units::format_tokens;
use crate::wallet::l1_http;
use anyhow::Result;
use basalt_lab::client::rpc_error;
use basalt_rpc::{L1ApiClient, RollupRef, MAX_LIST_ITEMS};

/// Prints every registered rollup of the L1 at `rpc`.
pub async fn list(rpc: &str) -> Result<()> {
    let client = l1_http(rpc)?;
    // The registry may be larger than one page.
    let mut list = Vec::new();
    loop {
        let page = client
            .rollups(Some(list.len() as u64), Some(MAX_LIST_ITEMS))
            .await
            .map_err(|e| rpc_error("l1_rollups", rpc, e))?;
        let full = page.len() as u64 == MAX_LIST_ITEMS;
        list.extend(page);
        if !full {
            break;
        }
    }
    if list.is_empty() {
        println!("no rollups registered");
    }
    for r in list {
        let risk = client
            .get_rollup_risk(RollupRef::Id(r.id))
            .await
            .map_err(|e| rpc_error("l1_getRollupRisk", rpc, e))?;
        let levels: Vec<String> = risk
            .categories
            .iter()
            .map(|c| format!("{} {}", c.id, c.level))
            .collect();
        let frozen = if r.frozen { ", FROZEN: exits open" } else { "" };
        let p = &r.params;
        let risk_row = format!(
            "  stage {} ({}){frozen}; `basalt rollup risk {}` says why",
            risk.stage,
            levels.join(", "),
            p.name,
        );
        if let Some(zk) = &p.zk {
            println!(
                "{} {} (zk): escrow {}, {} deposits, {} batches, {} proven by validity proof, {} transactions per batch at most",
                r.id,
                p.name,
                format_tokens(r.escrow),
                r.deposits,
                r.batches,
                r.settled,
                zk.slots,
            );
            println!("{risk_row}");
            continue;
        }
        println!(
            "{} {} ({}): escrow {}, {} deposits, {} batches, {} proposals ({} batches settled, {} disputes open), window {} blocks, bond {}, dispute bound {} blocks",
            r.id,
            p.name,
            p.kind,
            format_tokens(r.escrow),
            r.deposits,
            r.batches,
            r.proposals,
            r.settled,
            r.unresolved,
            p.challenge_window,
            format_tokens(p.proposer_bond),
            r.dispute_bound,
        );
        println!("{risk_row}");
    }
    Ok(())
}
