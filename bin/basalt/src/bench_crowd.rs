//! `basalt bench dispute`, second table: one honest party against a crowd of adversaries. A liar
//! proposes a wrong output beside the honest one, and `n` sybils counter every claim the honest
//! party makes, in both trees (defending the lie, challenging the truth), one counter each per
//! block. Measured: blocks from each proposal to its tree's resolution, the honest party's L1
//! transactions, gas, bonds staked and paid back, and the adversaries' lost bonds. The claim
//! tree's delay bound does not depend on `n`; the table shows whether the delay does.
//!
//! The real L1 state machine is driven block by block in this process (every block built, verified
//! as a peer would verify it, applied); the honest party plays the rollup node's own strategy.

use crate::bench::now_ms;
use crate::bench_dispute::DisputeArgs;
use anyhow::{bail, Context, Result};
use basalt_l1::{
    blob_hash, Action, Claims, DisputeResult, Genesis, GenesisAccount, GenesisValidator, L1State,
    Params, RollupKind, RollupParams, ONE_TOKEN,
};
use basalt_l2::{encode_batch, L2Tx, Optimistic};
use basalt_node::devnet::validator_keypair;
use basalt_rollup::faults::Sybil;
use basalt_rollup::lab::{LocalL1, Player};
use basalt_rollup::Fault;
use basalt_types::{dev_keypair, Amount, Keypair, PublicKey};
use std::time::Duration;

/// Signers: the sequencer, the honest party, the liar, then the sybils.
const SEQUENCER: usize = 0;
const HONEST: usize = 1;
const LIAR: usize = 2;
const FIRST_SYBIL: usize = 3;
/// Deposits in the disputed batch (each a step of its trace).
const STEPS: u64 = 64;
/// Blocks a run may take before it is declared stuck.
const MAX_BLOCKS: u64 = 5_000;

fn signer(i: usize) -> Keypair {
    dev_keypair("basalt-bench-crowd", i as u64)
}

/// What one run against `adversaries` sybils measured.
pub(crate) struct CrowdRun {
    adversaries: usize,
    bound: u64,
    honest_blocks: u64,
    lie_blocks: u64,
    claims: u64,
    honest_txs: u64,
    honest_gas: u64,
    honest_staked: Amount,
    honest_paid: Amount,
    adversaries_lost: Amount,
    l1_verify: Duration,
}

fn genesis(params: &Params, keys: usize) -> Genesis {
    Genesis {
        chain_id: 7_009,
        timestamp_ms: now_ms(),
        params: params.clone(),
        accounts: (0..keys)
            .map(|i| GenesisAccount {
                key: signer(i).public(),
                balance: 10_000_000 * ONE_TOKEN,
            })
            .collect(),
        validators: vec![GenesisValidator {
            key: validator_keypair(0).public(),
            stake: params.min_stake,
        }],
    }
}

/// One honest party and a liar against `n` sybils, to every tree's resolution.
pub(crate) fn run_crowd(n: usize, args: &DisputeArgs, params: &Params) -> Result<CrowdRun> {
    let mut l1 = LocalL1::new(
        &genesis(params, FIRST_SYBIL + n),
        (0..FIRST_SYBIL + n).map(signer).collect(),
    )?;
    let rollup = RollupParams {
        name: "crowd".into(),
        kind: RollupKind::Optimistic,
        sequencer: l1.public(SEQUENCER),
        challenge_window: args.window,
        proposer_bond: ONE_TOKEN,
        min_fee: 0,
        clock_extension: args.clock,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    rollup.validate().context("--window or --clock")?;
    l1.block(vec![(
        SEQUENCER,
        Action::RegisterRollup {
            params: rollup.clone(),
        },
    )])?;
    let deposits: Vec<(usize, Action)> = (0..STEPS)
        .map(|_| {
            let a = Action::Deposit {
                rollup: 0,
                account: None,
                key: signer(SEQUENCER).public(),
                amount: ONE_TOKEN,
            };
            (SEQUENCER, a)
        })
        .collect();
    l1.block(deposits)?;
    let txs: Vec<L2Tx<Optimistic>> = (0..STEPS).map(|index| L2Tx::Deposit { index }).collect();
    let data = encode_batch(&txs);
    l1.block(vec![(
        SEQUENCER,
        Action::PostBatch {
            rollup: 0,
            index: 0,
            data_hash: blob_hash(&data),
            data,
            deposits_end: STEPS,
            max_fee_per_blob_byte: 1_000_000,
        },
    )])?;
    let mut liar = Player::new(
        LIAR,
        l1.public(LIAR),
        0,
        &rollup,
        Some((Fault::Mint, (0, STEPS / 2))),
        true,
    );
    let mut honest = Player::new(HONEST, l1.public(HONEST), 0, &rollup, None, true);
    let honest_key = l1.public(HONEST);
    let mut sybils: Vec<Sybil> = (0..n).map(|i| Sybil::new(FIRST_SYBIL + i, false)).collect();
    let mut run = CrowdRun {
        adversaries: n,
        bound: 0,
        honest_blocks: 0,
        lie_blocks: 0,
        claims: 0,
        honest_txs: 0,
        honest_gas: 0,
        honest_staked: 0,
        honest_paid: 0,
        adversaries_lost: 0,
        l1_verify: Duration::ZERO,
    };
    for _ in 0..MAX_BLOCKS {
        let r = l1.state.rollup(0).context("the bench rollup")?;
        if r.header.settled == 1 && r.open.is_empty() && r.header.proposal_count >= 2 {
            measure(&l1.state, &honest_key, &mut run)?;
            return Ok(run);
        }
        liar.refresh(&l1.state)?;
        honest.refresh(&l1.state)?;
        let mut actions: Vec<(usize, Action)> = honest
            .actions(&l1.state)
            .into_iter()
            .map(|a| (HONEST, a))
            .collect();
        let ours = actions.len();
        actions.extend(liar.actions(&l1.state).into_iter().map(|a| (LIAR, a)));
        actions.extend(
            sybils
                .iter_mut()
                .filter_map(|s| s.action(&l1.state, 0, &honest_key).map(|a| (s.who, a))),
        );
        let included = l1.try_block(actions)?;
        run.l1_verify += l1.last_verify;
        for i in &included[..ours] {
            if let Some(f) = i.receipt.failure {
                bail!("an honest move failed: {f}");
            }
            run.honest_txs += 1;
            run.honest_gas += i.receipt.gas_used;
        }
    }
    bail!("not resolved after {MAX_BLOCKS} blocks")
}

/// Reads the outcome off the resolved trees.
fn measure(l1: &L1State, honest: &PublicKey, run: &mut CrowdRun) -> Result<()> {
    let r = l1.rollup(0).context("the bench rollup")?;
    for (p, d) in r.disputes.iter().enumerate() {
        let proposal = &r.proposals[p];
        let result = d.result.context("resolved")?;
        let blocks = result.height() - proposal.height;
        run.bound = run.bound.max(d.rules.bound());
        match result {
            DisputeResult::Upheld { .. } if proposal.proposer == *honest => {
                run.honest_blocks = blocks
            }
            DisputeResult::Removed { .. } => run.lie_blocks = run.lie_blocks.max(blocks),
            _ => bail!("proposal {p} resolved wrongly: {result:?}"),
        }
        let tree = &r.trees[p];
        let resolution = tree.resolve();
        run.claims += tree.claims().len() as u64;
        for (i, c) in tree.claims().iter().enumerate() {
            let (to, bond) = resolution.payouts[i];
            if c.claimant == *honest {
                run.honest_staked += c.bond;
                if resolution.countered[i] {
                    bail!("an honest claim was countered");
                }
            } else if resolution.countered[i] {
                run.adversaries_lost += c.bond;
            }
            if to == *honest {
                run.honest_paid += if resolution.countered[i] {
                    r.header.params.slash_reward(bond)
                } else {
                    bond
                };
            }
        }
    }
    if r.chain[0] as usize >= r.proposals.len()
        || r.proposals[r.chain[0] as usize].proposer != *honest
    {
        bail!("the batch did not settle with the honest output");
    }
    Ok(())
}

/// Prints the crowd table.
pub(crate) fn report_crowd(runs: &[CrowdRun], params: &Params) {
    let tokens = |a: Amount| a as f64 / ONE_TOKEN as f64;
    let secs = |blocks: u64| blocks as f64 * params.block_time_ms as f64 / 1_000.0;
    println!("\n## One honest party against a crowd\n");
    println!(
        "A liar proposes a wrong output of a {STEPS}-step batch beside the honest one; `n` sybils counter every claim the honest party makes, in both trees, one counter each per block. Bonds: 1 token a claim, half of a countered claim's bond to whoever countered it.\n"
    );
    println!("| adversaries | claims in all | honest output: proposal to resolution, blocks (s) | lie: proposal to removal, blocks | bound, blocks | honest L1 txs | honest gas | honest bonds staked / paid back (tokens) | adversaries' bonds lost (tokens) | L1 verify of every block |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in runs {
        println!(
            "| {} | {} | {} ({:.1}) | {} | {} | {} | {} | {:.0} / {:.0} | {:.0} | {:.0} ms |",
            r.adversaries,
            r.claims,
            r.honest_blocks,
            secs(r.honest_blocks),
            r.lie_blocks,
            r.bound,
            r.honest_txs,
            r.honest_gas,
            tokens(r.honest_staked),
            tokens(r.honest_paid),
            tokens(r.adversaries_lost),
            r.l1_verify.as_secs_f64() * 1e3,
        );
    }
}
