//! `basalt bench gas`: whether gas prices work. For every action kind, blocks full of its most
//! adversarial input are verified as a peer would verify them (signatures, re-execution, roots),
//! and the verification time beyond an empty block's is divided by the gas the block used. Each
//! row is reported as a ratio to plain transfers measured in the same run: a row far above 1 is
//! work an attacker buys below its cost. Prints a Markdown table.

use crate::bench::now_ms;
use crate::bench_dispute::{run_one, DisputeArgs};
use anyhow::{ensure, Context, Result};
use basalt_l1::{
    blob_hash, Action, Choice, Genesis, GenesisAccount, GenesisValidator, L1State, Params,
    RollupKind, RollupParams, WithdrawalClaim, MAX_ROLLUP_NAME, ONE_TOKEN,
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

/// Funded signers: 0 sends, 1 sequences and proposes, 2 challenges, then the dispute crowd.
const KEYS: usize = 400;
const SENDER: usize = 0;
const SEQUENCER: usize = 1;
const CHALLENGER: usize = 2;
/// Challengers and defenders of the crowded dispute.
const CROWD: usize = 100;
const CROWD_CHALLENGERS: usize = 100;
const CROWD_DEFENDERS: usize = 200;

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
}

impl Meter {
    fn block(&mut self, actions: Vec<(usize, Action)>) -> Result<(usize, u64, f64)> {
        let included = self.l1.block_with_gas(actions, self.gas_limit)?;
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
        dispute_clock: 1_000,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
    }
}

fn post(rollup: u32, data: Vec<u8>, deposits_end: u64) -> Action {
    Action::PostBatch {
        rollup,
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

/// Proposals of made-up outputs for batches `from..to` of `rollup`, chained from `prior`.
fn proposals(rollup: u32, from: u64, to: u64, mut prior: Hash) -> Vec<(usize, Action)> {
    (from..to)
        .map(|batch| {
            let output = hash_parts("basalt/bench/output", &[&batch.to_le_bytes()]);
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

fn live_output(state: &L1State, rollup: u32, batch: u64) -> Hash {
    state
        .rollup(rollup)
        .expect("registered")
        .live_output(batch)
        .expect("proposed")
        .1
        .output
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
                params: rollup("bench-c", 1_000),
            },
        ),
        (
            SENDER,
            Action::RegisterRollup {
                params: rollup("bench-w", 4),
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
    let (a, b, c, w, d) = (base_id, base_id + 1, base_id + 2, base_id + 3, base_id + 4);
    let e = base_id + 5;
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
        m.row("post batch", "largest blobs, incompressible", n, |i, _| {
            (0..blobs)
                .map(|j| {
                    (
                        SEQUENCER,
                        post(a, noise((1_000 + i * 100 + j) as u64, max_blob), queued),
                    )
                })
                .collect()
        })?,
    );
    // 1,000 small batches more, then the proposals for all of them in blocks of 1,000.
    for chunk in 0..2 {
        let batches = (0..500).map(|j| {
            (
                SEQUENCER,
                post(a, noise(9_000 + chunk * 500 + j, 64), queued),
            )
        });
        m.l1.block(batches.collect())?;
    }
    let posted = m.l1.state.rollup(a).context("rollup a")?.batches.len() as u64;
    let prior_a = genesis_output(&m.l1.state, a)?;
    rows.push(
        m.row("propose output", "1,000 on retained batches", 1, |_, _| {
            proposals(a, 0, posted.min(1_000), prior_a)
        })?,
    );

    // Challenges, each opening a dispute over a distinct batch: one that inflates to ~4 MiB, and
    // one with the most transactions per byte (the most, smallest, transactions).
    rows.push(challenges(
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
    rows.push(challenges(
        &mut m,
        d,
        n,
        "opening, 65,536 one-byte transactions",
        tiny,
    )?);

    // A crowded dispute: 100 challengers, then defenders who each play all of them.
    let small: Vec<L2Tx<Optimistic>> = (0..1_000).map(|_| L2Tx::Deposit { index: 0 }).collect();
    let disputed = proposed_batch(&mut m, c, encode_batch(&small))?;
    m.l1.block(
        (0..CROWD)
            .map(|k| (CROWD_CHALLENGERS + k, join(c, disputed, true)))
            .collect(),
    )?;
    // Each defender starts a game against every challenger, so the dispute grows within a block
    // past what an estimate on the parent state says: these joins carry a fixed, ample limit.
    let per_defend_block = 30;
    m.gas_limit = Some(6_000_000);
    rows.push(m.row(
        "defend",
        "joining 100 challengers' dispute",
        n.min(CROWD / per_defend_block),
        |i, _| {
            (0..per_defend_block)
                .map(|k| {
                    (
                        CROWD_DEFENDERS + i * per_defend_block + k,
                        join(c, disputed, false),
                    )
                })
                .collect()
        },
    )?);
    m.gas_limit = None;
    let per_bisect_block = 30;
    rows.push(m.row(
        "bisect",
        "in that dispute (thousands of games)",
        n.min(CROWD / per_bisect_block),
        |i, _| {
            (0..per_bisect_block)
                .map(|k| {
                    let challenger = i * per_bisect_block + k;
                    let claim = |x: u64| hash_parts("basalt/bench/claim", &[&x.to_le_bytes()]);
                    let action = Action::Bisect {
                        rollup: c,
                        dispute: 0,
                        game: challenger as u32,
                        choice: Choice::Whole,
                        mid: claim(1),
                        end: claim(2),
                    };
                    (CROWD_CHALLENGERS + challenger, action)
                })
                .collect()
        },
    )?);

    rows.push(deep_games(&mut m, e, n, tiny(1_000))?);
    rows.push(withdrawals(&mut m, w, n)?);
    if !args.no_one_step {
        rows.push(one_step()?);
    }
    report(&rows, &params);
    Ok(())
}

/// Posts `batch` as rollup `rollup`'s batch 0 and proposes an output on it; returns the output.
fn proposed_batch(m: &mut Meter, rollup: u32, batch: Vec<u8>) -> Result<Hash> {
    m.l1.block(vec![(SEQUENCER, post(rollup, batch, 0))])?;
    let prior = genesis_output(&m.l1.state, rollup)?;
    m.l1.block(proposals(rollup, 0, 1, prior))?;
    Ok(live_output(&m.l1.state, rollup, 0))
}

/// A challenge (or defence) of `output` on batch 0 of `rollup`.
fn join(rollup: u32, output: Hash, challenge: bool) -> Action {
    if challenge {
        Action::Challenge {
            rollup,
            batch: 0,
            output,
        }
    } else {
        Action::Defend {
            rollup,
            batch: 0,
            output,
        }
    }
}

/// Challengers and defenders of the deep dispute, and the bisections played before measuring.
const DEEP_CHALLENGERS: usize = 300;
const DEEP_DEFENDERS: usize = 310;
const DEEP_CROWD: (usize, usize) = (10, 20);
const DEEP_UNMEASURED_MOVES: usize = 14;

/// Bisections in a dispute whose every game is played deep: 10 challengers and 20 defenders (plus
/// the proposer) over a 65,536-step batch, so 210 games, each bisected 14 times before the
/// measured moves (the 15th and 16th, the last bisections a game of that many steps allows).
/// Each move reloads and rehashes the dispute, whose games then hold their most moves.
fn deep_games(m: &mut Meter, rollup: u32, n: usize, batch: Vec<u8>) -> Result<Row> {
    eprintln!("bisect: setting up a dispute of deep games ...");
    let output = proposed_batch(m, rollup, batch)?;
    let (challengers, defenders) = DEEP_CROWD;
    m.l1.block(
        (0..challengers)
            .map(|k| (DEEP_CHALLENGERS + k, join(rollup, output, true)))
            .collect(),
    )?;
    // Joins grow the dispute within their block: a fixed, ample limit, as for the crowd above.
    m.gas_limit = Some(6_000_000);
    m.l1.block(
        (0..defenders)
            .map(|k| (DEEP_DEFENDERS + k, join(rollup, output, false)))
            .collect(),
    )?;
    m.gas_limit = None;
    let index: std::collections::HashMap<_, _> =
        (0..KEYS).map(|i| (signer(i).public(), i)).collect();
    let mut counter = 0u64;
    // One move in every game: the party whose turn it is disputes the opponent's left half (or
    // the whole trace first) with claims of its own, distinct from every claim made so far.
    let mut moves = |state: &L1State| -> Vec<(usize, Action)> {
        let d = &state.rollup(rollup).expect("registered").disputes[0];
        d.games
            .iter()
            .enumerate()
            .filter(|(_, g)| g.ongoing())
            .map(|(i, g)| {
                let mover = d.party(g.turn, g.player(g.turn)).key;
                let choice = if g.mid.is_some() {
                    Choice::Left
                } else {
                    Choice::Whole
                };
                counter += 2;
                let claim = |x: u64| hash_parts("basalt/bench/deep", &[&x.to_le_bytes()]);
                let action = Action::Bisect {
                    rollup,
                    dispute: 0,
                    game: i as u32,
                    choice,
                    mid: claim(counter),
                    end: claim(counter + 1),
                };
                (index[&mover], action)
            })
            .collect()
    };
    for _ in 0..DEEP_UNMEASURED_MOVES {
        let actions = moves(&m.l1.state);
        let included = m.l1.block(actions)?;
        ensure!(
            included.iter().all(|i| i.receipt.success()),
            "a deep-game bisection failed"
        );
    }
    let row = m.row(
        "bisect",
        "210 games 14 moves deep (65,536 steps)",
        n.min(2),
        |_, state| moves(state),
    )?;
    let d = &m.l1.state.rollup(rollup).context("rollup e")?.disputes[0];
    ensure!(
        d.games
            .iter()
            .all(|g| g.moves.len() == DEEP_UNMEASURED_MOVES + n.min(2)),
        "every game took every move"
    );
    Ok(row)
}

/// Challenges opening disputes over `n` blocks' worth of distinct batches made by `batch(i)`.
fn challenges(
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
        m.l1.block(vec![(SEQUENCER, post(rollup, batch(i), 0))])?;
    }
    let prior = genesis_output(&m.l1.state, rollup)?;
    m.l1.block(proposals(rollup, 0, count, prior))?;
    m.row("challenge", input, n, |i, s| {
        (0..per_block)
            .map(|j| {
                let batch = i as u64 * per_block + j;
                let output = live_output(s, rollup, batch);
                (
                    CHALLENGER,
                    Action::Challenge {
                        rollup,
                        batch,
                        output,
                    },
                )
            })
            .collect()
    })
}

/// Withdrawal claims with full-depth proofs against a settled output.
fn withdrawals(m: &mut Meter, rollup: u32, n: usize) -> Result<Row> {
    // Every claim's withdrawal is in one batch, which must fit one blob.
    let per_block = 300;
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
    l2.apply_batch(&window, &txs);
    ensure!(
        l2.withdrawals().len() == count,
        "the bench withdrawals apply"
    );
    m.l1.block(vec![(SEQUENCER, post(rollup, encode_batch(&txs), 1))])?;
    let prior_w = genesis_output(&m.l1.state, rollup)?;
    m.l1.block(vec![(
        SEQUENCER,
        Action::ProposeOutput {
            rollup,
            batch: 0,
            prior: prior_w,
            output: l2.output(),
        },
    )])?;
    while m
        .l1
        .state
        .rollup(rollup)
        .context("rollup w")?
        .header
        .settled
        == 0
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
                        batch: 0,
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
        fault: "mint".into(),
        window: 50,
        clock: 100,
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
