//! `basalt bench dispute`: what settling a fraud-proof dispute costs the L1, for batches of
//! growing size: moves, bytes, gas, blocks to a decision, and the L1 work of checking the moves,
//! beside the cost of posting the batch itself. Prints a Markdown report.
//!
//! Each run is the real L1 state machine driven block by block in this process (every block built,
//! verified as a peer would verify it, applied), and two parties that play with the rollup node's
//! own code: a proposer deriving with one fault injected, and an honest challenger.

use crate::bench::now_ms;
use anyhow::{bail, Context, Result};
use basalt_l1::{
    blob_hash, Action, DisputeResult, Genesis, GenesisAccount, GenesisValidator, Params,
    RollupKind, RollupParams, ONE_TOKEN,
};
use basalt_l2::{encode_batch, L2Tx, Optimistic};
use basalt_node::devnet::{devnet_params, validator_keypair};
use basalt_rollup::lab::{Included, LocalL1, Player};
use basalt_rollup::Fault;
use basalt_types::{dev_keypair, Keypair, Signature};
use clap::Args;
use std::time::{Duration, Instant};

/// Options of `basalt bench dispute`.
#[derive(Args, Debug)]
pub struct DisputeArgs {
    /// Transactions in the disputed batch, one run per size (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1u64, 100, 10_000])]
    pub sizes: Vec<u64>,
    /// Sybils against one honest party, one run per count (comma-separated; 0 to skip the table).
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 10, 100, 1_000])]
    pub adversaries: Vec<usize>,
    /// The dishonest proposer's fault, injected at the first signed transaction from the middle
    /// of the batch on (where it fits): balance,
    /// skip-deposit, reorder-deposits, mint or withdrawals-root.
    #[arg(long, default_value = "mint")]
    pub fault: String,
    /// Challenge window of the bench rollup, in L1 blocks.
    #[arg(long, default_value_t = 50)]
    pub window: u64,
    /// The clock extension, in L1 blocks (below --window).
    #[arg(long, default_value_t = 10)]
    pub clock: u64,
}

/// L2 users who sign the batch's transfers.
const USERS: u64 = 64;
/// L1 signers: the sequencer, the honest challenger, the dishonest proposer, then the users.
const SEQUENCER: usize = 0;
const HONEST: usize = 1;
const LIAR: usize = 2;
/// Deposits per L1 block while setting up (50,000 gas each, under the 210M block limit).
const DEPOSITS_PER_BLOCK: usize = 4_000;
/// Blocks a dispute may take before the run is declared stuck.
const MAX_BLOCKS: u64 = 10_000;

fn signer(i: usize) -> Keypair {
    dev_keypair("basalt-bench-dispute", i as u64)
}

/// What one run measured.
pub(crate) struct Run {
    steps: u64,
    transfers: u64,
    post: Included,
    blob_bytes: u64,
    moves: u64,
    dispute_txs: u64,
    dispute_bytes: u64,
    dispute_gas: u64,
    one_step_bytes: u64,
    game_blocks: u64,
    decision_blocks: u64,
    honest_cpu: Duration,
    l1_verify: Duration,
    /// Verification time of the block holding the one-step proof, and the gas that block used.
    pub(crate) one_step_verify: Duration,
    pub(crate) one_step_gas: u64,
    removed: bool,
}

/// Runs the benchmark and prints the report.
pub fn run(args: DisputeArgs) -> Result<()> {
    let fault =
        Fault::parse(&args.fault).with_context(|| format!("unknown --fault {:?}", args.fault))?;
    if fault.needs_sequencer() {
        bail!(
            "--fault {}: the benchmark posts honest batches; use a proposer fault (balance, skip-deposit, reorder-deposits, mint, withdrawals-root)",
            fault.name()
        );
    }
    if args.sizes.is_empty() || args.sizes.iter().any(|n| *n == 0 || *n > 60_000) {
        bail!("--sizes: each size must be in 1..=60000");
    }
    if args.window == 0 || args.clock == 0 {
        bail!("--window and --clock must be positive");
    }
    let params = devnet_params(1, 200, Params::default().epoch_length);
    println!("# Dispute benchmark\n");
    println!(
        "A proposer deriving with fault `{}` injected at the first signed transaction from the middle of the batch on, against an honest challenger; rollup challenge window {} blocks, dispute clock {} blocks per side, L1 block time {} ms.\n",
        fault.name(),
        args.window,
        args.clock,
        params.block_time_ms
    );
    let mut runs = Vec::new();
    for &n in &args.sizes {
        eprintln!("batch of {n} transactions ...");
        runs.push(run_one(n, fault, &args, &params)?);
    }
    report(&runs, &params);
    let mut crowds = Vec::new();
    for &n in args.adversaries.iter().filter(|n| **n > 0) {
        eprintln!("one honest party against {n} sybils ...");
        crowds.push(crate::bench_crowd::run_crowd(n, &args, &params)?);
    }
    if !crowds.is_empty() {
        crate::bench_crowd::report_crowd(&crowds, &params);
    }
    Ok(())
}

fn genesis(params: &Params) -> Genesis {
    Genesis {
        chain_id: 7_007,
        timestamp_ms: now_ms(),
        params: params.clone(),
        accounts: (0..3 + USERS as usize)
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

/// The disputed batch's `n` transactions: signed transfers (every hundredth a withdrawal) among
/// the users, as many as one blob holds, spread evenly among deposits that credit them for the
/// rest. Returns the batch and its count of signed transactions.
fn disputed_batch(n: u64, first_deposit: u64, max_blob: usize) -> (Vec<L2Tx<Optimistic>>, u64) {
    let build = |signed: u64| {
        let mut nonces = [0u64; USERS as usize];
        let mut deposit = first_deposit;
        let mut made = 0u64;
        (0..n)
            .map(|i| {
                // Transfer i when the running share of signed transactions steps up.
                if (i + 1) * signed / n == i * signed / n {
                    deposit += 1;
                    return L2Tx::Deposit { index: deposit - 1 };
                }
                let u = (made % USERS) as usize;
                made += 1;
                let (from, nonce) = (u as u32 + 1, nonces[u]);
                nonces[u] += 1;
                let tx = if made.is_multiple_of(100) {
                    L2Tx::Withdraw {
                        from,
                        recipient: signer(3 + u).public(),
                        amount: 1_000,
                        fee: 0,
                        nonce,
                        signature: Signature([0; 64]),
                    }
                } else {
                    L2Tx::Transfer {
                        from,
                        to: ((u + 1) % USERS as usize) as u32 + 1,
                        amount: 1_000 + i as u128,
                        fee: 0,
                        nonce,
                        signature: Signature([0; 64]),
                    }
                };
                tx.signed(0, &signer(3 + u))
            })
            .collect::<Vec<L2Tx<Optimistic>>>()
    };
    // About 70 bytes a signed transfer after compression: start there and shrink until it fits.
    let mut signed = n.min(max_blob as u64 / 70);
    loop {
        let txs = build(signed);
        if encode_batch(&txs).len() <= max_blob || signed == 0 {
            return (txs, signed);
        }
        signed = signed * 97 / 100;
    }
}

fn deposit(to: &Keypair, amount: u128) -> Action {
    Action::Deposit {
        rollup: 0,
        account: None,
        key: to.public(),
        amount,
    }
}

fn post_batch(index: u64, data: Vec<u8>, deposits_end: u64) -> Action {
    Action::PostBatch {
        rollup: 0,
        index,
        data_hash: blob_hash(&data),
        data,
        deposits_end,
        max_fee_per_blob_byte: 1_000_000,
    }
}

/// Plays one dispute over a batch of `n` transactions to its decision.
pub(crate) fn run_one(n: u64, fault: Fault, args: &DisputeArgs, params: &Params) -> Result<Run> {
    let mut l1 = LocalL1::new(
        &genesis(params),
        (0..3 + USERS as usize).map(signer).collect(),
    )?;
    let rollup = RollupParams {
        name: "bench".into(),
        kind: RollupKind::Optimistic,
        sequencer: l1.public(SEQUENCER),
        challenge_window: args.window,
        proposer_bond: 100 * ONE_TOKEN,
        min_fee: 0,
        clock_extension: args.clock,
        dispute_bond: 100 * ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    l1.block(vec![(
        SEQUENCER,
        Action::RegisterRollup {
            params: rollup.clone(),
        },
    )])?;
    // Batch 0 opens one L2 account per user.
    let users: Vec<usize> = (3..3 + USERS as usize).collect();
    l1.block(
        users
            .iter()
            .map(|&u| (u, deposit(&signer(u), 1_000 * ONE_TOKEN)))
            .collect(),
    )?;
    let funding: Vec<L2Tx<Optimistic>> = (0..USERS).map(|index| L2Tx::Deposit { index }).collect();
    l1.block(vec![(
        SEQUENCER,
        post_batch(0, encode_batch(&funding), USERS),
    )])?;
    // Batch 1, the disputed one: its deposits go on L1 first.
    let (txs, transfers) = disputed_batch(n, USERS, params.max_blob_bytes as usize);
    let fill = n - transfers;
    let fill_deposits: Vec<(usize, Action)> = (0..fill)
        .map(|i| {
            let u = users[(i % USERS) as usize];
            (u, deposit(&signer(u), ONE_TOKEN))
        })
        .collect();
    for chunk in fill_deposits.chunks(DEPOSITS_PER_BLOCK) {
        l1.block(chunk.to_vec())?;
    }
    // The first signed transaction from the middle on: its one-step witness is the largest.
    let fault_step = (n / 2..n)
        .find(|&i| !matches!(txs[i as usize], L2Tx::Deposit { .. }))
        .unwrap_or(n / 2);
    let data = encode_batch(&txs);
    let blob_bytes = data.len() as u64;
    let post = l1
        .block(vec![(SEQUENCER, post_batch(1, data, USERS + fill))])?
        .remove(0);

    let mut liar = Player::new(
        LIAR,
        l1.public(LIAR),
        0,
        &rollup,
        Some((fault, (1, fault_step))),
        true,
    );
    let mut honest = Player::new(HONEST, l1.public(HONEST), 0, &rollup, None, false);
    let mut refused = std::collections::HashSet::new();
    let proposed_at = l1.state.head().height + 1;
    let mut run = Run {
        steps: n,
        transfers,
        post,
        blob_bytes,
        moves: 0,
        dispute_txs: 0,
        dispute_bytes: 0,
        dispute_gas: 0,
        one_step_bytes: 0,
        game_blocks: 0,
        decision_blocks: 0,
        honest_cpu: Duration::ZERO,
        l1_verify: Duration::ZERO,
        one_step_verify: Duration::ZERO,
        one_step_gas: 0,
        removed: false,
    };
    let mut first_move = None;
    let mut last_move = 0;
    for _ in 0..MAX_BLOCKS {
        liar.refresh(&l1.state)?;
        let started = Instant::now();
        honest.refresh(&l1.state)?;
        let honest_actions = honest.actions(&l1.state);
        run.honest_cpu += started.elapsed();
        // As the rollup node does, a party never sends again a move the L1 refused.
        let mut actions: Vec<(usize, Action)> = liar
            .actions(&l1.state)
            .into_iter()
            .filter(|a| !refused.contains(&basalt_types::Encode::to_bytes(a)))
            .map(|a| (LIAR, a))
            .collect();
        actions.extend(honest_actions.into_iter().map(|a| (HONEST, a)));
        let kinds: Vec<(bool, usize, Vec<u8>)> = actions
            .iter()
            .map(|(w, a)| (is_dispute(a), *w, basalt_types::Encode::to_bytes(a)))
            .collect();
        let one_step = actions
            .iter()
            .any(|(_, a)| matches!(a, Action::Step { .. }));
        let height = l1.state.head().height + 1;
        let included = l1.try_block(actions)?;
        for (i, (is_move, who, bytes)) in included.iter().zip(kinds) {
            if !is_move {
                continue;
            }
            // The liar's one-step proofs are refused: its view does not re-execute.
            match (i.receipt.failure, who) {
                (Some(failure), HONEST) => bail!("an honest dispute move failed: {failure}"),
                (Some(_), _) => {
                    refused.insert(bytes);
                }
                _ => {}
            }
            run.dispute_txs += 1;
            run.dispute_bytes += i.bytes as u64;
            run.dispute_gas += i.receipt.gas_used;
            first_move.get_or_insert(height);
            last_move = height;
        }
        if first_move.is_some() && !included.is_empty() {
            run.l1_verify += l1.last_verify;
        }
        if one_step {
            run.one_step_verify = l1.last_verify;
            run.one_step_gas = included.iter().map(|i| i.receipt.gas_used).sum();
            run.one_step_bytes = included.iter().map(|i| i.bytes as u64).max().unwrap_or(0);
        }
        let r = l1.state.rollup(0).context("the bench rollup")?;
        // The liar's proposal over the disputed batch (batch 1; batch 0 it proposed rightly).
        let lie = r
            .disputes
            .iter()
            .find(|d| d.batch == 1 && r.proposals[d.proposal as usize].proposer == l1.public(LIAR));
        if let Some(d) = lie {
            if let Some(result) = d.result {
                let decided = result.height();
                run.removed = matches!(result, DisputeResult::Removed { .. });
                run.moves = d.claims as u64 - 1;
                run.game_blocks = last_move + 1 - first_move.unwrap_or(last_move);
                run.decision_blocks = decided - proposed_at;
                if !run.removed || liar.view.faulted().is_none() {
                    bail!("the dishonest output was not removed: {d:?}");
                }
                return Ok(run);
            }
        }
    }
    bail!("no decision after {MAX_BLOCKS} blocks")
}

fn is_dispute(a: &Action) -> bool {
    matches!(a, Action::Counter { .. } | Action::Step { .. })
}

fn report(runs: &[Run], params: &Params) {
    let gas_price = params.initial_base_fee as u128;
    let blob_price = params.initial_blob_base_fee as u128;
    let post_fee =
        |r: &Run| r.post.receipt.gas_used as u128 * gas_price + r.blob_bytes as u128 * blob_price;
    let secs = |blocks: u64| blocks as f64 * params.block_time_ms as f64 / 1_000.0;
    println!("| batch | moves | dispute txs | dispute L1 bytes (one-step tx) | dispute gas | batch post: tx bytes / gas | bytes ratio | fee ratio | game blocks (s) | proposal to decision, blocks (s) | L1 verify of all dispute blocks (one-step block) | challenger CPU |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in runs {
        let dispute_fee = r.dispute_gas as u128 * gas_price;
        println!(
            "| {} txs ({} signed) | {} | {} | {} ({}) | {} | {} / {} | {:.3} | {:.1} | {} ({:.1}) | {} ({:.1}) | {:.2} ms ({:.2} ms) | {:.1} ms |",
            r.steps,
            r.transfers,
            r.moves,
            r.dispute_txs,
            r.dispute_bytes,
            r.one_step_bytes,
            r.dispute_gas,
            r.post.bytes,
            r.post.receipt.gas_used,
            r.dispute_bytes as f64 / r.post.bytes as f64,
            dispute_fee as f64 / post_fee(r) as f64,
            r.game_blocks,
            secs(r.game_blocks),
            r.decision_blocks,
            secs(r.decision_blocks),
            r.l1_verify.as_secs_f64() * 1e3,
            r.one_step_verify.as_secs_f64() * 1e3,
            r.honest_cpu.as_secs_f64() * 1e3,
        );
    }
    println!(
        "\nFees at the genesis prices: {} per gas, {} per blob byte. Every dispute above removed the dishonest output.",
        params.initial_base_fee, params.initial_blob_base_fee
    );
}
