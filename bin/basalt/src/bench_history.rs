//! `basalt bench history`: whether a block's cost grows with the chain's history. Verifies empty
//! blocks, as a peer would, on a chain with one registered rollup and on one with many idle ones,
//! and reports the ratio. Each block is built, verified and applied by the real L1 state machine.

use anyhow::{ensure, Context, Result};
use basalt_l1::gas::PAYLOAD_BYTE_GAS;
use basalt_l1::{Action, Params, RollupKind, RollupParams, MAX_ROLLUP_NAME, REGISTER_ROLLUP_GAS};
use basalt_node::devnet::{dev_account, devnet_genesis};
use basalt_rollup::lab::LocalL1;
use clap::Args;
use std::time::Duration;

/// Options of `basalt bench history`.
#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Idle rollups registered for the second measurement.
    #[arg(long, default_value_t = 10_000)]
    pub rollups: u32,
    /// Empty blocks verified per measurement (the median is reported).
    #[arg(long, default_value_t = 300)]
    pub blocks: usize,
}

const PER_BLOCK: u32 = 1_000;

fn rollup(i: u32) -> RollupParams {
    RollupParams {
        name: format!("idle-{i}"),
        kind: RollupKind::Optimistic,
        sequencer: dev_account(1).public(),
        challenge_window: 50,
        proposer_bond: 1,
        min_fee: 1,
        dispute_clock: 50,
        dispute_bond: 1,
        slash_reward_percent: 50,
    }
}

/// Registers rollups `from..to` in full blocks.
fn register(l1: &mut LocalL1, from: u32, to: u32) -> Result<()> {
    let mut next = from;
    while next < to {
        let end = (next + PER_BLOCK).min(to);
        let actions = (next..end)
            .map(|i| (0, Action::RegisterRollup { params: rollup(i) }))
            .collect();
        l1.block(actions).context("registering rollups")?;
        next = end;
        eprint!("\rregistered {next} of {to} rollups");
    }
    eprintln!();
    Ok(())
}

/// Median verification time of `n` empty blocks.
fn empty_blocks(l1: &mut LocalL1, n: usize) -> Result<Duration> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        l1.block(vec![]).context("empty block")?;
        times.push(l1.last_verify);
    }
    times.sort();
    Ok(times[n / 2])
}

/// Runs the benchmark and prints a Markdown report.
pub fn run(args: HistoryArgs) -> Result<()> {
    ensure!(args.rollups >= 1, "--rollups must be at least 1");
    ensure!(args.blocks >= 1, "--blocks must be at least 1");
    // Room for a block of registrations with the longest names.
    let per_registration = REGISTER_ROLLUP_GAS + PAYLOAD_BYTE_GAS * MAX_ROLLUP_NAME as u64;
    let params = Params {
        block_gas_limit: PER_BLOCK as u64 * per_registration,
        block_gas_target: PER_BLOCK as u64 * per_registration / 2,
        ..Params::default()
    };
    let genesis = devnet_genesis(1, params, 1_000);
    let mut l1 = LocalL1::new(&genesis, vec![dev_account(0)])?;
    register(&mut l1, 0, 1)?;
    let one = empty_blocks(&mut l1, args.blocks)?;
    register(&mut l1, 1, args.rollups)?;
    let many = empty_blocks(&mut l1, args.blocks)?;
    let ratio = many.as_secs_f64() / one.as_secs_f64();
    println!(
        "| registered rollups | empty block verification (median of {}) | ratio |",
        args.blocks
    );
    println!("|---|---|---|");
    println!("| 1 | {:.1} µs | 1.00 |", one.as_secs_f64() * 1e6);
    println!(
        "| {} | {:.1} µs | {ratio:.2} |",
        args.rollups,
        many.as_secs_f64() * 1e6
    );
    Ok(())
}
