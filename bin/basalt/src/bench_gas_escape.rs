//! The optimistic escape rows of `basalt bench gas`: transactions forced in through the L1, each
//! a distinct transfer whose ed25519 signature the L1 checks before it queues it, and exits and
//! refunds from a frozen rollup (the ZK rows, with EdDSA-Poseidon checks and exits, are in
//! `bench_gas_zk.rs`).

use super::{Meter, Row, SENDER};
use anyhow::{Context, Result};
use basalt_l1::{Action, ExitClaim, SettledState, StateRead, ONE_TOKEN};
use basalt_l2::{batch_deposits, encode_batch, DepositEntry, L2State, L2Tx, Optimistic};
use basalt_types::{dev_keypair, Encode, PublicKey, Signature};

/// Forced transactions per block.
const FORCED: usize = 1_500;

/// Blocks of `FORCED` forced transfers on an optimistic rollup of their own (so that no other
/// row's batches range over them), each signed by its own key.
pub(super) fn force_include(m: &mut Meter, n: usize) -> Result<Row> {
    let rollup = m.l1.state.rollup_count() as u32;
    let params = super::rollup("bench-f", 1_000);
    m.l1.block(vec![(SENDER, Action::RegisterRollup { params })])?;
    m.row(
        "force include",
        "1,500 transfers, each a distinct key",
        n,
        |i, _| {
            (0..FORCED)
                .map(|j| {
                    let k = dev_keypair("basalt-bench-gas/forced", (i * FORCED + j) as u64);
                    let tx = L2Tx::<Optimistic>::Transfer {
                        from: 1,
                        to: 0,
                        amount: 1,
                        fee: 0,
                        nonce: 0,
                        signature: Signature([0; 64]),
                    }
                    .signed(rollup, &k);
                    let action = Action::ForceInclude {
                        rollup,
                        key: k.public(),
                        tx: tx.to_bytes(),
                    };
                    (SENDER, action)
                })
                .collect()
        },
    )
}

/// Exits per block.
const EXITS: usize = 1_000;
/// Refunds per block.
const REFUNDS: usize = 500;

/// Exits and refunds from a frozen optimistic rollup of its own: `EXITS * n` accounts, each
/// opened by a deposit its one settled batch consumed, exit with their balance; `REFUNDS * n`
/// deposits queued after it, never consumed, are refunded. Every one is paid: the whole path.
pub(super) fn exits_and_refunds(m: &mut Meter, n: usize) -> Result<Vec<Row>> {
    let rollup = m.l1.state.rollup_count() as u32;
    let mut params = super::rollup("bench-x", 5);
    params.escape_blocks = params.settle_bound() + 1;
    m.l1.block(vec![(SENDER, Action::RegisterRollup { params })])?;
    let key = |i: usize| dev_keypair("basalt-bench-gas/exit", i as u64);
    let deposit = |key: PublicKey| Action::Deposit {
        rollup,
        account: None,
        key,
        amount: ONE_TOKEN,
    };
    let accounts = EXITS * n;
    for chunk in (0..accounts).collect::<Vec<_>>().chunks(1_000) {
        let actions = chunk.iter().map(|&i| (SENDER, deposit(key(i).public())));
        m.l1.block(actions.collect())?;
    }
    // One batch consumes the accounts' deposits (an optimistic batch applies its whole range).
    let r = m.l1.state.rollup(rollup).context("rollup bench-x")?;
    let params = r.header.params.clone();
    let entries: Vec<DepositEntry<Optimistic>> = r.deposits.iter().map(|d| d.entry).collect();
    let mut l2 = L2State::<Optimistic>::genesis(params.l2_config(rollup), params.sequencer);
    let txs: Vec<L2Tx<Optimistic>> = (0..accounts as u64)
        .map(|index| L2Tx::Deposit { index })
        .collect();
    let window = batch_deposits(&entries, accounts as u64).context("the queued deposits")?;
    l2.apply_batch(&window, &txs);
    let end = accounts as u64;
    m.l1.block(vec![(
        super::SEQUENCER,
        super::post(rollup, 0, encode_batch::<Optimistic>(&[]), end),
    )])?;
    let prior = super::genesis_output(&m.l1.state, rollup)?;
    let output = l2.output();
    let propose = Action::ProposeOutput {
        rollup,
        batch: 0,
        prior,
        output,
    };
    m.l1.block(vec![(super::SEQUENCER, propose)])?;
    // The deposits to refund, queued after the batch: the rollup owes them, and freezes.
    for _ in 0..n {
        let actions = (0..REFUNDS).map(|_| (SENDER, deposit(super::signer(SENDER).public())));
        m.l1.block(actions.collect())?;
    }
    loop {
        let r = m.l1.state.rollup(rollup).context("rollup bench-x")?;
        if r.header.settled > 0
            && r.frozen_from()
                .is_some_and(|h| h < m.l1.state.head().height)
        {
            break;
        }
        m.l1.block(vec![])?;
    }
    let recipient = super::signer(SENDER).public();
    let exit = m.row("exit", "1,000 accounts paid their balance", n, |i, _| {
        (i * EXITS..(i + 1) * EXITS)
            .map(|a| {
                let k = key(a);
                let claim = ExitClaim::build(
                    &l2,
                    a as u32 + 1,
                    recipient,
                    Signature([0; 64]),
                    |h| *h,
                    |tx| tx.signed(rollup, &k),
                )
                .expect("the account is in the settled state");
                (SENDER, Action::Exit(claim))
            })
            .collect()
    })?;
    let state = SettledState::of(&l2.commitment(), |h| *h);
    let refund = m.row("refund", "500 deposits paid back", n, |i, _| {
        (i * REFUNDS..(i + 1) * REFUNDS)
            .map(|d| {
                let index = end + d as u64;
                (
                    SENDER,
                    Action::RefundDeposit {
                        rollup,
                        index,
                        state,
                    },
                )
            })
            .collect()
    })?;
    Ok(vec![exit, refund])
}
