//! `basalt bench history`: whether a block's cost grows with the chain's history. Verifies empty
//! blocks, as a peer would, on a chain with one registered rollup, then with many idle ones, then
//! with each of those waiting on an output's challenge window, and reports the ratios to the
//! first. Each block is built, verified and applied by the real L1 state machine.

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
    /// Rollups registered for the second and third measurements.
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
        sequencer: dev_account(0).public(),
        // Longer than the measurement: proposed outputs stay waiting on their window.
        challenge_window: 50_000,
        proposer_bond: 1,
        min_fee: 1,
        clock_extension: 50,
        dispute_bond: 1,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
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

/// Posts batch 0 of rollups `0..to` and proposes an output on it for each, in full blocks.
fn propose(l1: &mut LocalL1, to: u32) -> Result<()> {
    for (stage, what) in [(0, "batches"), (1, "outputs")] {
        let mut next = 0;
        while next < to {
            let end = (next + PER_BLOCK).min(to);
            let actions = (next..end)
                .map(|rollup| {
                    let action = match stage {
                        0 => Action::PostBatch {
                            rollup,
                            index: 0,
                            data_hash: basalt_l1::blob_hash(&[0]),
                            data: vec![0],
                            deposits_end: 0,
                            max_fee_per_blob_byte: 1_000_000_000,
                        },
                        _ => Action::ProposeOutput {
                            rollup,
                            batch: 0,
                            prior: l1
                                .state
                                .rollup(rollup)
                                .expect("registered")
                                .header
                                .genesis_output,
                            output: basalt_types::Hash([1; 32]),
                        },
                    };
                    (0, action)
                })
                .collect();
            let included = l1.block(actions).context("posting and proposing")?;
            ensure!(
                included.iter().all(|i| i.receipt.success()),
                "a {what} transaction failed"
            );
            next = end;
            eprint!("\r{what}: {next} of {to} rollups");
        }
        eprintln!();
    }
    Ok(())
}

/// Median verification time of `n` empty blocks on each chain, after as many unmeasured ones to
/// warm caches. The chains take turns, block by block, so noise on the machine falls on all alike.
fn empty_blocks(chains: &mut [LocalL1], n: usize) -> Result<Vec<Duration>> {
    let mut times = vec![Vec::with_capacity(n); chains.len()];
    for round in 0..2 * n {
        for (l1, times) in chains.iter_mut().zip(&mut times) {
            l1.block(vec![]).context("empty block")?;
            if round >= n {
                times.push(l1.last_verify);
            }
        }
    }
    Ok(times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[n / 2]
        })
        .collect())
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
    let chain = || LocalL1::new(&genesis, vec![dev_account(0)]);
    let (mut one, mut idle, mut waiting) = (chain()?, chain()?, chain()?);
    register(&mut one, 0, 1)?;
    register(&mut idle, 0, args.rollups)?;
    register(&mut waiting, 0, args.rollups)?;
    propose(&mut waiting, args.rollups)?;
    ensure!(
        waiting.state.scheduled_rollups() == args.rollups as usize,
        "every rollup should be waiting on its output's window"
    );
    let times = empty_blocks(&mut [one, idle, waiting], args.blocks)?;
    println!(
        "| registered rollups | state | empty block verification (median of {}) | ratio |",
        args.blocks
    );
    println!("|---|---|---|---|");
    let rows = [
        (1, "idle"),
        (args.rollups, "idle"),
        (args.rollups, "each waiting on an output's window"),
    ];
    for ((n, state), t) in rows.into_iter().zip(&times) {
        println!(
            "| {n} | {state} | {:.1} µs | {:.2} |",
            t.as_secs_f64() * 1e6,
            t.as_secs_f64() / times[0].as_secs_f64()
        );
    }
    Ok(())
}
