//! `basalt bench gas`: whether gas prices work. For every action kind, blocks full of its most
//! adversarial input are verified as a peer would verify them (signatures, re-execution, roots),
//! and the verification time beyond an empty block's is divided by the gas the block used. Each
//! row is reported as a ratio to plain transfers measured in the same run: a row far above 1 is
//! work an attacker buys below its cost. Prints a Markdown table.

use crate::bench::now_ms;
use crate::bench_dispute::{run_one, DisputeArgs};
use anyhow::{ensure, Context, Result};
use basalt_l1::{
    blob_hash, Action, Genesis, GenesisAccount, GenesisValidator, L1State, Params, RollupKind,
    RollupParams, WithdrawalClaim, MAX_ROLLUP_NAME, MIN_CLOCK_EXTENSION, ONE_TOKEN,
};
use basalt_l2::{
    batch_deposits, compress, encode_batch, encode_payload, Codec, DepositEntry, L2State, L2Tx,
    Optimistic, MAX_BATCH_RAW_BYTES, MAX_BATCH_TXS,
};
use basalt_node::devnet::{devnet_params, validator_keypair};
use basalt_rollup::lab::LocalL1;
use basalt_rollup::Fault;
use basalt_types::{dev_keypair, hash_parts, Hash, Keypair, Signature};
use clap::Args;
use std::time::Duration;

#[path = "bench_gas_escape.rs"]
mod escape;
#[path = "bench_gas_zk.rs"]
mod zk;

/// Options of `basalt bench gas`.
#[derive(Args, Debug)]
pub struct GasArgs {
    /// Blocks measured per row (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub blocks: usize,
    /// Skip the one-step proof row (it plays a whole dispute to reach one).
    #[arg(long)]
    pub no_one_step: bool,
}

/// Funded signers: 0 sends, 1 sequences and proposes, 2 counters.
const KEYS: usize = 3;
const SENDER: usize = 0;
const SEQUENCER: usize = 1;
const CHALLENGER: usize = 2;
/// Claims the crowded tree holds before its counters are measured.
const CROWDED_TREE: usize = 10_000;
/// Counters per measured block.
const COUNTERS_PER_BLOCK: usize = 1_000;

fn signer(i: usize) -> Keypair {
    dev_keypair("basalt-bench-gas", i as u64)
}

/// One row of the report.
struct Row {
    kind: &'static str,
    input: &'static str,
    txs: usize,
    gas: u64,
    ns_per_gas: f64,
}

/// Measures blocks of actions one at a time: the median of (verify time - empty block) / gas.
struct Meter {
    l1: LocalL1,
    empty: Duration,
    /// A gas limit for every action instead of the estimate.
    gas_limit: Option<u64>,
    /// Measure blocks whose actions fail (inputs that do all the work, then fail).
    failing: bool,
}

impl Meter {
    fn block(&mut self, actions: Vec<(usize, Action)>) -> Result<(usize, u64, f64)> {
        let included = if self.failing {
            self.l1.try_block_with_gas(actions, self.gas_limit)?
        } else {
            self.l1.block_with_gas(actions, self.gas_limit)?
        };
        let gas: u64 = included.iter().map(|i| i.receipt.gas_used).sum();
        let work = self.l1.last_verify.saturating_sub(self.empty);
        Ok((included.len(), gas, work.as_nanos() as f64 / gas as f64))
    }

    /// Runs `n` blocks made by `make(i)` and reports their median.
    fn row(
        &mut self,
        kind: &'static str,
        input: &'static str,
        n: usize,
        mut make: impl FnMut(usize, &L1State) -> Vec<(usize, Action)>,
    ) -> Result<Row> {
        eprintln!("{kind}: {input} ...");
        let mut samples = Vec::with_capacity(n);
        let (mut txs, mut gas) = (0, 0);
        for i in 0..n {
            let actions = make(i, &self.l1.state);
            let (t, g, ns) = self.block(actions).with_context(|| format!("{kind} row"))?;
            (txs, gas) = (t, g);
            samples.push(ns);
        }
        samples.sort_by(f64::total_cmp);
        Ok(Row {
            kind,
            input,
            txs,
            gas,
            ns_per_gas: samples[samples.len() / 2],
        })
    }
}

fn genesis(params: &Params) -> Genesis {
    Genesis {
        chain_id: 7_008,
        timestamp_ms: now_ms(),
        params: params.clone(),
        accounts: (0..KEYS)
            .map(|i| GenesisAccount {
                key: signer(i).public(),
                balance: 100_000_000 * ONE_TOKEN,
            })
            .collect(),
        validators: vec![GenesisValidator {
            key: validator_keypair(0).public(),
            stake: params.min_stake,
        }],
    }
}

fn rollup(name: &str, window: u64) -> RollupParams {
    RollupParams {
        name: name.into(),
        kind: RollupKind::Optimistic,
        sequencer: signer(SEQUENCER).public(),
        challenge_window: window,
        proposer_bond: ONE_TOKEN,
        min_fee: 0,
        clock_extension: (window.min(1_000) / 2).clamp(MIN_CLOCK_EXTENSION, window - 1),
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    }
}

/// The number the next batch of `rollup` takes.
fn next_batch(s: &L1State, rollup: u32) -> u64 {
    s.rollup(rollup).map_or(0, |r| r.header.batch_count)
}

fn post(rollup: u32, index: u64, data: Vec<u8>, deposits_end: u64) -> Action {
    Action::PostBatch {
        rollup,
        index,
        data_hash: blob_hash(&data),
        data,
        deposits_end,
        max_fee_per_blob_byte: 1_000_000,
    }
}

/// Bytes that no codec shrinks, different for each `seed`.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = hash_parts("basalt/bench/noise", &[&seed.to_le_bytes()]);
    while out.len() < len {
        out.extend_from_slice(&block.0);
        block = hash_parts("basalt/bench/noise", &[&block.0]);
    }
    out.truncate(len);
    out
}

/// A batch blob of a few KiB that inflates to nearly 4 MiB of valid transactions, distinct per
/// `seed`: the most decode work a posted batch can ask for.
fn inflating_batch(seed: u64) -> Vec<u8> {
    let tx = |amount| L2Tx::<Optimistic>::Transfer {
        from: 1,
        to: 2,
        amount,
        fee: 0,
        nonce: 0,
        signature: Signature([7; 64]),
    };
    let one = encode_payload(&[tx(1)]).len() - 2;
    let n = (MAX_BATCH_RAW_BYTES - 16) / one;
    let mut txs = vec![tx(1); n];
    txs[0] = tx(seed as u128 + 2);
    compress(&encode_payload(&txs), Codec::Zstd)
}

/// The made-up output the bench proposes for `batch`.
fn made_up_output(batch: u64) -> Hash {
    hash_parts("basalt/bench/output", &[&batch.to_le_bytes()])
}

/// Proposals of made-up outputs for batches `from..to` of `rollup`, chained from `prior`.
fn proposals(rollup: u32, from: u64, to: u64, mut prior: Hash) -> Vec<(usize, Action)> {
    (from..to)
        .map(|batch| {
            let output = made_up_output(batch);
            let a = Action::ProposeOutput {
                rollup,
                batch,
                prior,
                output,
            };
            prior = output;
            (SEQUENCER, a)
        })
        .collect()
}

/// The output a rollup's first batch builds on.
fn genesis_output(state: &L1State, rollup: u32) -> Result<Hash> {
    let r = state
        .rollup(rollup)
        .context("the bench rollup is registered")?;
    Ok(r.header.genesis_output)
}

/// Runs the benchmark and prints the report.
pub fn run(args: GasArgs) -> Result<()> {
    ensure!(args.blocks >= 1, "--blocks must be at least 1");
    let params = Params::default();
    let l1 = LocalL1::new(&genesis(&params), (0..KEYS).map(signer).collect())?;
    let mut m = Meter {
        l1,
        empty: Duration::ZERO,
        gas_limit: None,
        failing: false,
    };
    let mut empties = Vec::new();
    for _ in 0..21 {
        m.l1.block(vec![])?;
        empties.push(m.l1.last_verify);
    }
    empties.sort();
    m.empty = empties[empties.len() / 2];
    let n = args.blocks;
    let mut rows = Vec::new();
    let to =
        |i: usize, j: usize| dev_keypair("basalt-bench-gas-to", (i * 100_000 + j) as u64).public();

    rows.push(m.row("transfer", "5,000 to new accounts", n, |i, _| {
        (0..5_000)
            .map(|j| {
                (
                    SENDER,
                    Action::Transfer {
                        to: to(i, j),
                        amount: 1,
                    },
                )
            })
            .collect()
    })?);
    let stake = params.min_stake;
    rows.push(m.row("stake", "2,000 of the minimum stake", n, |_, _| {
        vec![(SENDER, Action::Stake { amount: stake }); 2_000]
    })?);
    rows.push(m.row("unstake", "2,000 of the minimum stake", 1, |_, _| {
        vec![(SENDER, Action::Unstake { amount: stake }); 2_000]
    })?);
    let blobs = (params.blob_max_bytes_per_block / params.max_blob_bytes) as usize;
    let max_blob = params.max_blob_bytes as usize;
    rows.push(
        m.row("post blob", "largest blobs, incompressible", n, |i, _| {
            (0..blobs)
                .map(|j| {
                    let data = noise((i * 100 + j) as u64, max_blob);
                    (
                        SENDER,
                        Action::PostBlob {
                            data,
                            max_fee_per_blob_byte: 1_000_000,
                        },
                    )
                })
                .collect()
        })?,
    );
    rows.push(m.row("register rollup", "500, longest names", n, |i, _| {
        (0..500)
            .map(|j| {
                let name = format!("{:0>width$}", i * 1_000 + j, width = MAX_ROLLUP_NAME);
                (
                    SENDER,
                    Action::RegisterRollup {
                        params: rollup(&name, 50),
                    },
                )
            })
            .collect()
    })?);
    // Rollup ids from here: the registrations above took 0 .. 500 * n.
    let base_id = (500 * n) as u32;
    m.l1.block(vec![
        (
            SENDER,
            Action::RegisterRollup {
                params: rollup("bench-a", 50),
            },
        ),
        (
            SENDER,
            Action::RegisterRollup {
                params: rollup("bench-b", 1_000),
            },
        ),
        (
            SENDER,
            Action::RegisterRollup {
                params: rollup("bench-w", 5),
            },
        ),
        (
            SENDER,
            Action::RegisterRollup {
                params: rollup("bench-d", 1_000),
            },
        ),
        (
            SENDER,
            Action::RegisterRollup {
                params: rollup("bench-e", 1_000),
            },
        ),
    ])?;
    let (a, b, w, d, e) = (base_id, base_id + 1, base_id + 2, base_id + 3, base_id + 4);
    // Batch 0, which the competing proposals below name, is small and ranges over no deposit:
    // each proposal pays for its batch's decode (declared bytes and trace steps, the range's
    // deposits included), and the row measures the proposals, not a decode.
    m.l1.block(vec![(SEQUENCER, post(a, 0, noise(8_999, 64), 0))])?;
    rows.push(m.row("deposit", "2,000 opening L2 accounts", n, |_, _| {
        (0..2_000)
            .map(|j| {
                let key = to(999, j);
                (
                    SENDER,
                    Action::Deposit {
                        rollup: a,
                        account: None,
                        key,
                        amount: 1,
                    },
                )
            })
            .collect()
    })?);
    let queued = (2_000 * n) as u64;
    rows.push(
        m.row("post batch", "largest blobs, incompressible", n, |i, s| {
            let next = next_batch(s, a);
            (0..blobs)
                .map(|j| {
                    let data = noise((1_000 + i * 100 + j) as u64, max_blob);
                    (SEQUENCER, post(a, next + j as u64, data, queued))
                })
                .collect()
        })?,
    );
    // 1,000 small batches more (the retained batches a proposal may name).
    for chunk in 0..2 {
        let next = next_batch(&m.l1.state, a);
        let batches = (0..500).map(|j| {
            let data = noise(9_000 + chunk * 500 + j, 64);
            (SEQUENCER, post(a, next + j, data, queued))
        });
        m.l1.block(batches.collect())?;
    }
    let posted = m.l1.state.rollup(a).context("rollup a")?.batches.len() as u64;
    let prior_a = genesis_output(&m.l1.state, a)?;
    // Proposals competing for one batch, none building on another, so each is estimated alone.
    rows.push(m.row(
        "propose output",
        "900 competing for one retained batch",
        1,
        |_, _| {
            (0..posted.min(900))
                .map(|k| {
                    let action = Action::ProposeOutput {
                        rollup: a,
                        batch: 0,
                        prior: prior_a,
                        output: made_up_output(1_000_000 + k),
                    };
                    (SEQUENCER, action)
                })
                .collect()
        },
    )?);

    // Proposals, each opening a tree over a distinct batch whose steps it counts by decoding it:
    // one that inflates to ~4 MiB, and one with the most transactions per byte.
    rows.push(opening_proposals(
        &mut m,
        b,
        n,
        "opening, batch inflating to 4 MiB",
        inflating_batch,
    )?);
    let tiny = |i: u64| {
        let txs: Vec<L2Tx<Optimistic>> = (0..MAX_BATCH_TXS as u64)
            .map(|k| L2Tx::Deposit { index: k % 100 + i })
            .collect();
        encode_batch(&txs)
    };
    rows.push(opening_proposals(
        &mut m,
        d,
        n,
        "opening, 65,536 one-byte transactions",
        tiny,
    )?);
    rows.push(crowded_tree(&mut m, e, n)?);
    rows.push(escape::force_include(&mut m, n)?);
    rows.extend(escape::exits_and_refunds(&mut m, n)?);
    rows.push(withdrawals(&mut m, w, n)?);
    rows.extend(zk::rows(&mut m, n)?);
    if !args.no_one_step {
        rows.push(one_step()?);
    }
    report(&rows, &params);
    Ok(())
}

/// Counters in a tree that already holds [`CROWDED_TREE`] claims, over a 65,536-step batch (the
/// deepest tree), each a distinct attack on a claim spread through the tree: a move costs the
/// same however many claims its tree holds.
fn crowded_tree(m: &mut Meter, rollup: u32, n: usize) -> Result<Row> {
    eprintln!("counter: setting up a tree of {CROWDED_TREE} claims ...");
    let txs: Vec<L2Tx<Optimistic>> = (0..MAX_BATCH_TXS as u64)
        .map(|k| L2Tx::Deposit { index: k % 100 })
        .collect();
    let next = next_batch(&m.l1.state, rollup);
    m.l1.block(vec![(SEQUENCER, post(rollup, next, encode_batch(&txs), 0))])?;
    let prior = genesis_output(&m.l1.state, rollup)?;
    m.l1.block(proposals(rollup, 0, 1, prior))?;
    let proposal =
        m.l1.state
            .rollup(rollup)
            .context("rollup e")?
            .header
            .proposal_count
            - 1;
    let mut fresh = 0u64;
    // Each counter attacks an existing claim (the root, then the claims before it, breadth
    // first) with a value never used before, so none is a duplicate.
    let mut counters = |state: &L1State, count: usize| -> Vec<(usize, Action)> {
        let claims = state.rollup(rollup).expect("registered").trees[proposal as usize]
            .claims()
            .len() as u32;
        (0..count)
            .map(|k| {
                fresh += 1;
                let value = hash_parts("basalt/bench/counter", &[&fresh.to_le_bytes()]);
                let parent = (k as u32 * 7919) % claims.min(1 + k as u32 / 16).max(1);
                let action = Action::Counter {
                    rollup,
                    proposal,
                    parent,
                    attack: true,
                    value,
                };
                (CHALLENGER, action)
            })
            .collect()
    };
    while m.l1.state.rollup(rollup).context("rollup e")?.trees[proposal as usize]
        .claims()
        .len()
        < CROWDED_TREE
    {
        let actions = counters(&m.l1.state, COUNTERS_PER_BLOCK);
        m.l1.block(actions)?;
    }
    m.row(
        "counter",
        "1,000 in a tree of 10,000 claims (65,536 steps)",
        n,
        |_, state| counters(state, COUNTERS_PER_BLOCK),
    )
}

/// Proposals opening trees over `n` blocks' worth of distinct batches made by `batch(i)`.
fn opening_proposals(
    m: &mut Meter,
    rollup: u32,
    n: usize,
    input: &'static str,
    batch: impl Fn(u64) -> Vec<u8>,
) -> Result<Row> {
    // Three per block: the largest asks for ~34M gas, and its limit adds half again for headroom.
    let per_block = 3u64;
    let count = per_block * n as u64;
    for i in 0..count {
        let next = next_batch(&m.l1.state, rollup);
        m.l1.block(vec![(SEQUENCER, post(rollup, next, batch(i), 0))])?;
    }
    let genesis = genesis_output(&m.l1.state, rollup)?;
    m.row("propose output", input, n, |i, _| {
        let from = i as u64 * per_block;
        let prior = match from.checked_sub(1) {
            None => genesis,
            Some(previous) => made_up_output(previous),
        };
        proposals(rollup, from, from + per_block, prior)
    })
}

/// Withdrawal claims with full-depth proofs against a settled output.
fn withdrawals(m: &mut Meter, rollup: u32, n: usize) -> Result<Row> {
    // The withdrawals are posted in batches a blob holds; every claim is against the last one's
    // output, whose withdrawals tree holds them all.
    let per_block = 300;
    let per_batch = 900;
    let count = per_block * n;
    let user = signer(SENDER);
    m.l1.block(vec![(
        SENDER,
        Action::Deposit {
            rollup,
            account: None,
            key: user.public(),
            amount: ONE_TOKEN,
        },
    )])?;
    let r = m.l1.state.rollup(rollup).context("rollup w")?;
    let params = r.header.params.clone();
    let mut l2 = L2State::<Optimistic>::genesis(params.l2_config(rollup), params.sequencer);
    let mut txs = vec![L2Tx::Deposit { index: 0 }];
    for nonce in 0..count as u64 {
        let w = L2Tx::Withdraw {
            from: 1,
            recipient: dev_keypair("basalt-bench-gas-w", nonce).public(),
            amount: 1,
            fee: 0,
            nonce,
            signature: Signature([0; 64]),
        };
        txs.push(w.signed(rollup, &user));
    }
    let deposits: Vec<DepositEntry<Optimistic>> = r.deposits.iter().map(|d| d.entry).collect();
    let window = batch_deposits(&deposits, 1).context("one deposit queued")?;
    let mut prior = genesis_output(&m.l1.state, rollup)?;
    let mut last = 0;
    for chunk in txs.chunks(per_batch) {
        l2.apply_batch(&window, chunk);
        last = next_batch(&m.l1.state, rollup);
        m.l1.block(vec![(
            SEQUENCER,
            post(rollup, last, encode_batch(chunk), 1),
        )])?;
        let output = l2.output();
        let propose = Action::ProposeOutput {
            rollup,
            batch: last,
            prior,
            output,
        };
        m.l1.block(vec![(SEQUENCER, propose)])?;
        prior = output;
    }
    ensure!(
        l2.withdrawals().len() == count,
        "the bench withdrawals apply"
    );
    while m
        .l1
        .state
        .rollup(rollup)
        .context("rollup w")?
        .header
        .settled
        <= last
    {
        m.l1.block(vec![])?;
    }
    let c = l2.commitment();
    m.row(
        "finalize withdrawal",
        "300 claims, full-depth proofs",
        n,
        |i, _| {
            (i * per_block..(i + 1) * per_block)
                .map(|index| {
                    let (w, proof) = l2
                        .withdrawal_proof(index as u32)
                        .expect("withdrawal exists");
                    let claim = WithdrawalClaim {
                        rollup,
                        batch: last,
                        state_root: c.state_root(),
                        withdrawals_tree_root: c.withdrawals_tree_root,
                        withdrawal_count: c.withdrawal_count,
                        index: index as u64,
                        recipient: w.recipient,
                        amount: w.amount,
                        proof: proof.siblings,
                    };
                    (SENDER, Action::FinalizeWithdrawal(claim))
                })
                .collect()
        },
    )
}

/// A real one-step proof, reached by playing a dispute over the fullest signed batch a blob holds.
fn one_step() -> Result<Row> {
    eprintln!("one-step proof: playing a dispute over a full batch ...");
    let args = DisputeArgs {
        sizes: vec![10_000],
        adversaries: Vec::new(),
        fault: "mint".into(),
        window: 50,
        clock: 10,
    };
    let params = devnet_params(1, 200, Params::default().epoch_length);
    let run = run_one(
        10_000,
        Fault::parse("mint").expect("a fault"),
        &args,
        &params,
    )?;
    Ok(Row {
        kind: "one-step proof",
        input: "10,000-step batch, largest witness",
        txs: 1,
        gas: run.one_step_gas,
        ns_per_gas: run.one_step_verify.as_nanos() as f64 / run.one_step_gas as f64,
    })
}

fn report(rows: &[Row], params: &Params) {
    let base = rows[0].ns_per_gas;
    println!(
        "Block gas limit {}; each row's time is block verification beyond an empty block's.\n",
        params.block_gas_limit
    );
    println!("| action | adversarial input | txs per block | gas per block | ns per gas | ratio to transfer |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {:.3} | {:.2} |",
            r.kind,
            r.input,
            r.txs,
            r.gas,
            r.ns_per_gas,
            r.ns_per_gas / base
        );
    }
}
