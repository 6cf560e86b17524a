//! The rollup pipeline on a real L1 state machine, in one process: L1 deposits -> sequencer blocks
//! -> batches posted on L1 -> outputs proposed from derivation -> settlement -> withdrawals claimed;
//! a verifier that reads only L1 data reaches the same outputs; a restarted sequencer loses nothing.

use basalt_l1::{blob_hash, Action, L1State};
use basalt_l2::{DepositEntry, TxFailure};
use basalt_rollup::{plan_batch, Compression, Derivation, Sequencer, Verdict};
use basalt_types::Hash;
use std::io::Write;

mod common;
use common::*;

/// A verifier's view: everything derived from the L1 state alone.
fn derive(l1: &L1State) -> Derivation {
    let r = l1.rollup(0).unwrap();
    let p = &r.header.params;
    let mut d = Derivation::new(p.l2_config(0), p.sequencer);
    d.add_deposits(r.deposits.iter().map(|x| x.entry));
    for b in &r.batches {
        let blob = &l1.blob(&b.data_hash).unwrap().data;
        d.apply(b.deposits_end, blob).unwrap();
    }
    d
}

/// The batcher: posts everything confirmed and not yet posted, returning the new cursor.
fn post_pending(l1: &mut L1, seq: &Sequencer, posted: u64) -> u64 {
    let prior_end = l1.state.rollup(0).unwrap().header.deposits_end;
    let Some(plan) = plan_batch(seq, posted, prior_end, 128 * 1024, Compression::Best) else {
        return posted;
    };
    l1.block(vec![(
        1,
        Action::PostBatch {
            rollup: 0,
            index: l1.state.rollup(0).unwrap().header.batch_count,
            data_hash: blob_hash(&plan.data),
            data: plan.data,
            deposits_end: plan.deposits_end,
            max_fee_per_blob_byte: 1_000,
        },
    )]);
    plan.to
}

/// The proposer: proposes the derived output of every batch it has not proposed yet.
fn propose_all(l1: &mut L1) {
    let d = derive(&l1.state);
    let next = l1.state.rollup(0).unwrap().header.proposal_count;
    for batch in next..d.batches() {
        l1.block(vec![(
            2,
            Action::ProposeOutput {
                rollup: 0,
                batch,
                prior: d.prior(batch).unwrap(),
                output: d.output(batch).unwrap(),
            },
        )]);
    }
}

#[test]
fn deposit_transfer_withdraw_settle_claim_with_a_verifier_from_l1_alone() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("blocks.log");
    let mut l1 = L1::new();
    l1.block(vec![(0, Action::RegisterRollup { params: params() })]);
    l1.block(vec![
        (3, deposit(&key(3), 50_000)),
        (4, deposit(&key(4), 20_000)),
    ]);
    let mut seq =
        Sequencer::open(&log, params().l2_config(0), key(1).public(), l1.deposits(0)).unwrap();

    // Block 1 applies both deposits (accounts 1 and 2) and a transfer; refused transactions are
    // not in the block and say why.
    let t1 = transfer(3, 1, 2, 1_000, 0);
    let replay = t1;
    let (block, results) = seq
        .produce(
            10,
            &[
                t1,
                replay,
                transfer(4, 2, 1, 1_000_000, 0),
                transfer(3, 2, 1, 5, 0),
            ],
        )
        .unwrap();
    assert_eq!(block.txs.len(), 3);
    assert_eq!(
        results,
        vec![
            Ok(()),
            Err(TxFailure::BadNonce {
                expected: 1,
                got: 0
            }),
            Err(TxFailure::InsufficientBalance),
            Err(TxFailure::BadSignature),
        ]
    );
    let (_, results) = seq
        .produce(60, &[withdraw(4, 2, &key(6), 7_000, 0)])
        .unwrap();
    assert_eq!(results, vec![Ok(())]);

    let posted = post_pending(&mut l1, &seq, 0);
    assert_eq!(posted, seq.next_sequence());
    propose_all(&mut l1);

    // A verifier started from L1 alone reaches the sequencer's output and agrees with the proposal.
    let verifier = derive(&l1.state);
    assert_eq!(verifier.output(0), Some(seq.state().output()));
    let proposed = l1.state.rollup(0).unwrap().proposals[0].output;
    assert_eq!(verifier.check(0, proposed), Verdict::Match);
    assert_eq!(
        verifier.check(0, Hash([1; 32])),
        Verdict::Mismatch { derived: proposed }
    );

    // More blocks, another deposit and a second batch.
    l1.block(vec![(5, deposit(&key(5), 9_000))]);
    seq.add_deposits(l1.deposits(seq.deposits_known()));
    seq.produce(110, &[transfer(3, 1, 3, 4_000, 1)]).unwrap();
    let posted = post_pending(&mut l1, &seq, posted);
    propose_all(&mut l1);
    let verifier = derive(&l1.state);
    assert_eq!(verifier.batches(), 2);
    assert_eq!(verifier.output(1), Some(seq.state().output()));
    assert_eq!(verifier.state().get(3).unwrap().balance, 9_000 + 4_000);
    assert_eq!(posted, seq.next_sequence());

    // Settle, then claim the withdrawal with a proof from the derived state.
    while l1.state.rollup(0).unwrap().header.settled < 2 {
        l1.block(vec![]);
    }
    let c = verifier.state().commitment();
    let (w, proof) = verifier.state().withdrawal_proof(0).unwrap();
    let before = l1.state.account(&key(6).public()).unwrap().balance;
    l1.block(vec![(
        0,
        Action::FinalizeWithdrawal(basalt_l1::WithdrawalClaim {
            rollup: 0,
            batch: 1,
            state_root: c.state_root(),
            withdrawals_tree_root: c.withdrawals_tree_root,
            withdrawal_count: c.withdrawal_count,
            index: 0,
            recipient: w.recipient,
            amount: w.amount,
            proof: proof.siblings,
        }),
    )]);
    assert_eq!(
        l1.state.account(&key(6).public()).unwrap().balance,
        before + 7_000
    );
    // Bridge invariant: escrow = L2 balances + unpaid withdrawals (none) + unapplied deposits (none).
    let r = l1.state.rollup(0).unwrap();
    assert_eq!(r.header.escrow, verifier.state().total_balance());
    assert_eq!(r.header.escrow, 50_000 + 20_000 + 9_000 - 7_000);
}

#[test]
fn a_batch_whose_blob_does_not_decode_applies_nothing_and_derivation_goes_on() {
    let mut l1 = L1::new();
    l1.block(vec![(0, Action::RegisterRollup { params: params() })]);
    l1.block(vec![(3, deposit(&key(3), 1_000))]);
    let garbage = vec![0xff; 100];
    l1.block(vec![(
        1,
        Action::PostBatch {
            rollup: 0,
            index: 0,
            data_hash: blob_hash(&garbage),
            data: garbage,
            deposits_end: 0,
            max_fee_per_blob_byte: 1_000,
        },
    )]);
    let d = derive(&l1.state);
    assert_eq!(d.batches(), 1);
    assert_eq!(
        d.prior(1),
        d.prior(0),
        "an undecodable batch changes nothing"
    );
    // The deposit stays queued and a later batch applies it; so does its deposit range, whatever
    // its blob holds: this one does not decode either.
    let data = vec![0xfe; 100];
    l1.block(vec![(
        1,
        Action::PostBatch {
            rollup: 0,
            index: 1,
            data_hash: blob_hash(&data),
            data,
            deposits_end: 1,
            max_fee_per_blob_byte: 1_000,
        },
    )]);
    let d = derive(&l1.state);
    assert_eq!(d.state().get(1).unwrap().balance, 1_000);
    assert_eq!(d.state().commitment().next_deposit, 1);
}

#[test]
fn a_sequencer_killed_and_restarted_loses_no_confirmed_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("blocks.log");
    let queue = vec![DepositEntry {
        forced: None,
        account: None,
        key: key(3).public(),
        amount: 1_000_000,
    }];
    let config = params().l2_config(0);
    let (blocks, output, hashes) = {
        let mut seq = Sequencer::open(&log, config, key(1).public(), queue.clone()).unwrap();
        let mut hashes = Vec::new();
        for i in 0..20u64 {
            let t = transfer(3, 1, 0, 10 + i as u128, i);
            hashes.push(t.hash());
            let (_, r) = seq.produce(i * 50, &[t]).unwrap();
            assert_eq!(r, vec![Ok(())]);
        }
        (seq.blocks().to_vec(), seq.state().output(), hashes)
        // Dropped here without any shutdown step, as a kill would leave it.
    };
    // A crash in the middle of the next append leaves a torn record at the end.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(&[200, 1, 0, 0, 7, 7, 7]).unwrap();
    drop(f);

    let mut seq = Sequencer::open(&log, config, key(1).public(), queue).unwrap();
    assert_eq!(seq.blocks(), &blocks[..]);
    assert_eq!(seq.state().output(), output);
    for h in &hashes {
        assert!(seq.position(h).is_some(), "confirmed transaction lost");
    }
    let (b, r) = seq.produce(5_000, &[transfer(3, 1, 0, 1, 20)]).unwrap();
    assert_eq!((b.number, r), (21, vec![Ok(())]));
    drop(seq);
    let seq = Sequencer::<P>::open(&log, config, key(1).public(), Vec::new());
    assert!(
        seq.is_err(),
        "a log that consumed a deposit must not replay without it"
    );
}

#[test]
fn a_forced_transaction_that_fails_takes_its_place_in_the_block_the_log_and_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("blocks.log");
    let mut l1 = L1::new();
    l1.block(vec![(0, Action::RegisterRollup { params: params() })]);
    l1.block(vec![(3, deposit(&key(3), 50_000))]);
    // Two forced transactions of account 1 and a deposit after them: a transfer at a nonce the
    // account has not reached (it fails, its place consumed), then a withdrawal that applies.
    let (stale, exit) = (transfer(3, 1, 0, 5, 7), withdraw(3, 1, &key(6), 4_000, 0));
    let force = |tx: &basalt_l2::L2Tx<common::P>| Action::ForceInclude {
        rollup: 0,
        key: key(3).public(),
        tx: basalt_types::Encode::to_bytes(tx),
    };
    l1.block(vec![
        (4, force(&stale)),
        (4, force(&exit)),
        (4, deposit(&key(4), 9_000)),
    ]);
    let config = params().l2_config(0);
    let mut seq = Sequencer::open(&log, config, key(1).public(), l1.deposits(0)).unwrap();
    let (block, _) = seq.produce(10, &[]).unwrap();
    assert_eq!(block.txs.len(), 4, "every queue place is in the block");
    let failed = seq.position(&stale.hash()).expect("known by its own hash");
    assert_eq!(
        failed.failure,
        Some(TxFailure::BadNonce {
            expected: 0,
            got: 7
        })
    );
    let applied = seq.position(&exit.hash()).unwrap();
    assert_eq!((applied.failure, applied.withdrawal), (None, Some(0)));
    assert_eq!(seq.state().commitment().next_deposit, 4);
    // The batch carries all four places, and a verifier from L1 alone reaches the same state.
    post_pending(&mut l1, &seq, 0);
    assert_eq!(l1.state.rollup(0).unwrap().header.deposits_end, 4);
    assert_eq!(derive(&l1.state).output(0), Some(seq.state().output()));
    // The log replays after a restart.
    let output = seq.state().output();
    drop(seq);
    let seq = Sequencer::open(&log, config, key(1).public(), l1.deposits(0)).unwrap();
    assert_eq!(seq.state().output(), output);
    assert_eq!(seq.position(&stale.hash()).unwrap().failure, failed.failure);
}
