//! The dispute game end to end on the real L1 state machine: parties that each derive the rollup
//! from L1 data (honestly, or with one injected fault) propose, challenge, defend and play every
//! move with the same code the rollup node runs ([`dispute_actions`]). The honest side always wins,
//! the loser's bond is slashed, a removed output takes its descendants with it, and the bridge and
//! bond invariants hold after every block.

mod common;
use basalt_l1::{
    blob_hash, Action, Dispute, DisputeResult, FailureCode, GameEnd, L1State, Receipt, Side,
    WinReason,
};
use basalt_l2::{encode_batch, L2Tx};
use basalt_rollup::lab::{open_disputes, Player};
use basalt_rollup::Fault;
use basalt_types::{Hash, Signature};
use common::*;
use proptest::prelude::*;

/// Blocks a scenario may take before it is declared stuck.
const MAX_BLOCKS: usize = 400;

/// A party: key `who` of the harness, deriving with `fault` injected if any.
fn party(who: usize, fault: Option<(Fault, (u64, u64))>, proposes: bool) -> Player {
    Player::new(who, key(who as u64).public(), 0, &params(), fault, proposes)
}

fn open(l1: &L1State) -> Vec<Dispute> {
    open_disputes(l1, 0)
}

/// Bonds held equal what the lists owe, supply is conserved, and the escrow equals every L2
/// balance, unpaid withdrawal and unapplied deposit of an honest view of every posted batch.
fn check_invariants(l1: &L1State, honest: Option<&Player>) {
    let r = l1.rollup(0).unwrap();
    assert_eq!(
        r.header.bonds,
        r.bonds_owed(),
        "bonds held differ from what is owed"
    );
    assert_eq!(
        l1.circulating() + l1.burned(),
        l1.genesis_supply(),
        "supply not conserved"
    );
    let Some(honest) = honest else {
        return;
    };
    assert_eq!(honest.view.batches(), r.header.batch_count);
    assert_eq!(
        r.header.escrow,
        r.escrow_owed(honest.view.state()),
        "bridge invariant broken"
    );
}

/// One block with every party's actions; returns the receipts.
fn step(l1: &mut L1, parties: &mut [Player]) -> Vec<Receipt> {
    for p in parties.iter_mut() {
        p.refresh(&l1.state).unwrap();
    }
    let actions: Vec<(usize, Action)> = parties
        .iter()
        .flat_map(|p| p.actions(&l1.state).into_iter().map(move |a| (p.who, a)))
        .collect();
    let receipts = l1.try_block(actions);
    let honest = parties.iter().find(|p| p.view.fault().is_none());
    check_invariants(&l1.state, honest);
    receipts
}

/// Runs blocks until every batch has a settled output, or panics after [`MAX_BLOCKS`].
fn run_until_settled(l1: &mut L1, parties: &mut [Player]) {
    for _ in 0..MAX_BLOCKS {
        let r = l1.state.rollup(0).unwrap();
        if r.header.settled == r.header.batch_count && r.open.is_empty() {
            return;
        }
        step(l1, parties);
    }
    let r = l1.state.rollup(0).unwrap();
    panic!(
        "not settled after {MAX_BLOCKS} blocks: {} of {} settled, disputes {:?}",
        r.header.settled, r.header.batch_count, r.disputes
    );
}

fn post(l1: &mut L1, data: Vec<u8>, deposits_end: u64) {
    l1.block(vec![(
        1,
        Action::PostBatch {
            rollup: 0,
            data_hash: blob_hash(&data),
            data,
            deposits_end,
            max_fee_per_blob_byte: 1_000,
        },
    )]);
}

/// A rollup with three batches that give every fault a place to show: batch 0 has deposits,
/// `transfers` transfers, a withdrawal, a forged transfer and a replayed one; batch 1 does not
/// decode; batch 2 has a few more transfers.
fn world(transfers: usize) -> L1 {
    let mut l1 = L1::new();
    l1.block(vec![(0, Action::RegisterRollup { params: params() })]);
    l1.block(vec![
        (3, deposit(&key(3), 1_000_000)),
        (4, deposit(&key(4), 1_000_000)),
        (5, deposit(&key(5), 1_000_000)),
    ]);
    let mut txs = vec![
        L2Tx::Deposit { index: 0 },
        L2Tx::Deposit { index: 1 },
        L2Tx::Deposit { index: 2 },
    ];
    let (mut n3, mut n4) = (0, 0);
    for i in 0..transfers {
        if i % 2 == 0 {
            txs.push(transfer(3, 1, 2, 100 + i as u128, n3));
            n3 += 1;
        } else {
            txs.push(transfer(4, 2, 1, 50 + i as u128, n4));
            n4 += 1;
        }
    }
    txs.push(withdraw(5, 3, &key(6), 7_000, 0));
    // Signed by key 4 for account 1 (key 3's): a bad signature.
    txs.push(transfer(4, 1, 2, 10, n3));
    // Account 1's first transfer again: a used nonce.
    txs.push(transfer(3, 1, 2, 100, 0));
    txs.push(transfer(5, 3, 1, 5, 1));
    post(&mut l1, encode_batch(&txs), 3);
    post(&mut l1, vec![0xff; 64], 3);
    post(
        &mut l1,
        encode_batch(&[transfer(3, 1, 3, 11, n3), transfer(5, 3, 2, 12, 2)]),
        3,
    );
    l1
}

fn result(l1: &L1State, dispute: u64) -> Option<DisputeResult> {
    l1.rollup(0).unwrap().disputes[dispute as usize].result
}

/// The honest outputs, as a fresh honest view derives them.
fn honest_outputs(l1: &L1State) -> Vec<Hash> {
    let mut p = party(9, None, false);
    p.refresh(l1).unwrap();
    (0..p.view.batches())
        .map(|b| p.view.output(b).unwrap())
        .collect()
}

fn assert_honest_chain(l1: &L1State) {
    let r = l1.rollup(0).unwrap();
    let live: Vec<Hash> = (0..r.header.output_count)
        .map(|b| r.live_output(b).unwrap().1.output)
        .collect();
    assert_eq!(
        live,
        honest_outputs(l1),
        "the settled chain is the honest one"
    );
}

#[test]
fn for_every_fault_the_honest_challenger_wins_and_the_bad_output_goes_with_its_descendants() {
    for fault in Fault::ALL {
        let mut l1 = world(20);
        let mut parties = [party(2, Some((fault, (0, 0))), true), party(6, None, true)];
        // The dishonest proposer posts its whole chain first.
        for _ in 0..3 {
            parties[0].refresh(&l1.state).unwrap();
            let a = parties[0].actions(&l1.state);
            l1.block(a.into_iter().map(|a| (2, a)).collect());
        }
        let faulted = parties[0]
            .view
            .faulted()
            .expect("the fault fits this world");
        assert_eq!(
            l1.state.rollup(0).unwrap().header.output_count,
            3,
            "{fault:?}: the dishonest chain is proposed"
        );
        run_until_settled(&mut l1, &mut parties);
        let r = l1.state.rollup(0).unwrap();
        let d = &r.disputes[0];
        assert_eq!(
            d.batch, faulted.0,
            "{fault:?}: the first wrong output is disputed"
        );
        assert!(
            matches!(d.result, Some(DisputeResult::Removed { .. })),
            "{fault:?}: {d:?}"
        );
        assert!(
            d.defenders[0].lost.is_some(),
            "{fault:?}: the proposer lost"
        );
        assert!(d.challengers[0].active(), "{fault:?}: the challenger won");
        if d.steps > 0 {
            let moves = d.games[0].moves.len() as u64;
            let bound = 64 - (d.steps - 1).leading_zeros() as u64 + 1;
            assert!(
                moves <= bound,
                "{fault:?}: {moves} moves over {} steps",
                d.steps
            );
        }
        // Every output of the dishonest chain from the faulted batch on was removed.
        for id in faulted.0..3 {
            assert!(!r.chain.contains(&id), "{fault:?}: proposal {id} removed");
        }
        assert_honest_chain(&l1.state);
    }
}

#[test]
fn a_dishonest_challenger_loses_and_several_at_once_all_lose() {
    let mut l1 = world(30);
    let mut parties = [
        party(6, None, true),
        party(2, Some((Fault::Mint, (0, 7))), false),
        party(7, Some((Fault::SkipDeposit, (0, 0))), false),
        party(5, Some((Fault::Balance, (0, 20))), false),
    ];
    run_until_settled(&mut l1, &mut parties);
    let r = l1.state.rollup(0).unwrap();
    assert_eq!(r.disputes.len(), 1, "all three challenge batch 0's output");
    let d = &r.disputes[0];
    assert_eq!(d.challengers.len(), 3);
    assert!(d.challengers.iter().all(|c| c.lost.is_some()));
    assert!(d.defenders[0].active());
    assert!(matches!(d.result, Some(DisputeResult::Upheld { .. })));
    assert_honest_chain(&l1.state);
    assert_eq!(r.header.settled, 3);
}

#[test]
fn a_silent_defender_loses_by_clock_and_another_defends_in_its_place() {
    let mut l1 = world(8);
    let mut parties = [
        party(6, None, true),
        party(2, Some((Fault::WithdrawalsRoot, (0, 0))), false),
        party(7, None, false),
    ];
    // The honest proposer proposes, then goes silent; the stand-in only joins once it has lost.
    parties[2].silent = true;
    while l1.state.rollup(0).unwrap().header.output_count < 3 {
        step(&mut l1, &mut parties);
    }
    parties[0].silent = true;
    for _ in 0..MAX_BLOCKS {
        let r = l1.state.rollup(0).unwrap();
        if r.disputes
            .first()
            .is_some_and(|d| d.defenders[0].lost.is_some())
        {
            break;
        }
        step(&mut l1, &mut parties);
    }
    parties[2].silent = false;
    run_until_settled(&mut l1, &mut parties);
    let r = l1.state.rollup(0).unwrap();
    let d = &r.disputes[0];
    assert_eq!(d.defenders[0].key, key(6).public());
    assert!(
        d.defenders[0].lost.is_some(),
        "the silent proposer lost: {d:?}"
    );
    let lost_game = &d.games[d.defenders[0].lost.unwrap() as usize];
    assert!(matches!(
        lost_game.end_state,
        Some(GameEnd::Won {
            reason: WinReason::Timeout,
            ..
        })
    ));
    assert_eq!(d.defenders[1].key, key(7).public());
    assert!(d.defenders[1].active(), "the stand-in defender won");
    assert!(d.challengers[0].lost.is_some());
    assert!(matches!(d.result, Some(DisputeResult::Upheld { .. })));
    assert_honest_chain(&l1.state);
}

#[test]
fn a_withdrawal_in_a_removed_output_is_never_paid() {
    let mut l1 = world(4);
    let mut thief = party(2, Some((Fault::WithdrawalsRoot, (0, 0))), true);
    thief.refresh(&l1.state).unwrap();
    let a = thief.actions(&l1.state);
    l1.block(a.into_iter().map(|a| (2, a)).collect());
    // The forged withdrawal of the faulty view: index 1 of batch 0's output.
    let c = thief.view.commitment(0).unwrap();
    let claim = thief.view.withdrawal_claim(0, 0, 1).unwrap();
    assert_eq!(claim.amount, basalt_rollup::FAULT_AMOUNT);
    assert_eq!(c.withdrawal_count, 2);
    let escrow = l1.state.rollup(0).unwrap().header.escrow;
    let refused = l1.try_block(vec![(0, Action::FinalizeWithdrawal(claim.clone()))]);
    assert_eq!(refused[0].failure, Some(FailureCode::NotSettled));
    let mut parties = [thief, party(6, None, true)];
    run_until_settled(&mut l1, &mut parties);
    let after = l1.try_block(vec![(0, Action::FinalizeWithdrawal(claim))]);
    assert_eq!(after[0].failure, Some(FailureCode::OutputMismatch));
    assert_eq!(l1.state.rollup(0).unwrap().header.escrow, escrow);
}

#[test]
fn a_one_step_proof_with_a_witness_that_does_not_match_the_agreed_output_is_refused() {
    let mut l1 = world(2);
    let mut parties = [
        party(2, Some((Fault::Mint, (0, 0))), true),
        party(6, None, true),
    ];
    // Play until the honest challenger's one-step proof is due.
    for _ in 0..MAX_BLOCKS {
        for p in parties.iter_mut() {
            p.refresh(&l1.state).unwrap();
        }
        let due = parties[1]
            .actions(&l1.state)
            .into_iter()
            .find(|a| matches!(a, Action::OneStepProof { .. }));
        if let Some(Action::OneStepProof {
            rollup,
            dispute,
            game,
            choice,
            witness,
        }) = due
        {
            // The witness of another step opens another output: refused, nothing changes.
            let d = &l1.state.rollup(0).unwrap().disputes[dispute as usize];
            let step = d.games[game as usize].a;
            let other = parties[1].view.witness(d.batch, step + 1).unwrap();
            let bad = Action::OneStepProof {
                rollup,
                dispute,
                game,
                choice,
                witness: basalt_types::Encode::to_bytes(&other),
            };
            let garbage = Action::OneStepProof {
                rollup,
                dispute,
                game,
                choice,
                witness: vec![7; 100],
            };
            let r = l1.try_block(vec![(6, bad), (6, garbage)]);
            assert_eq!(r[0].failure, Some(FailureCode::BadWitness));
            assert_eq!(r[1].failure, Some(FailureCode::BadWitness));
            assert_eq!(l1.last_decoded, 0, "refused before the batch was decoded");
            assert_eq!(result(&l1.state, dispute), None);
            // The right witness then wins.
            let r = l1.try_block(vec![(
                6,
                Action::OneStepProof {
                    rollup,
                    dispute,
                    game,
                    choice,
                    witness,
                },
            )]);
            assert_eq!(r[0].failure, None);
            let d = &l1.state.rollup(0).unwrap().disputes[dispute as usize];
            let g = &d.games[game as usize];
            let honest = if d.party(Side::Challenger, g.challenger).key == key(6).public() {
                Side::Challenger
            } else {
                Side::Defender
            };
            assert!(
                matches!(g.end_state, Some(GameEnd::Won { winner, .. }) if winner == honest),
                "{d:?}"
            );
            return;
        }
        step(&mut l1, &mut parties);
    }
    panic!("no one-step proof became due");
}

#[test]
fn a_move_out_of_turn_or_by_a_stranger_is_refused() {
    let mut l1 = world(6);
    let mut parties = [
        party(2, Some((Fault::Mint, (0, 0))), true),
        party(6, None, false),
    ];
    while open(&l1.state).is_empty() {
        step(&mut l1, &mut parties);
    }
    let bisect = |mid: u8| Action::Bisect {
        rollup: 0,
        dispute: 0,
        game: 0,
        choice: basalt_l1::Choice::Whole,
        mid: Hash([mid; 32]),
        end: Hash([9; 32]),
    };
    // The challenger moves first: the proposer and a stranger may not.
    let r = l1.try_block(vec![(2, bisect(1)), (7, bisect(2))]);
    assert_eq!(r[0].failure, Some(FailureCode::NotYourTurn));
    assert_eq!(r[1].failure, Some(FailureCode::NotYourTurn));
    // Challenging twice, or defending as a challenger, is refused.
    let output = open(&l1.state)[0].output;
    let r = l1.try_block(vec![
        (
            6,
            Action::Challenge {
                rollup: 0,
                batch: 0,
                output,
            },
        ),
        (
            6,
            Action::Defend {
                rollup: 0,
                batch: 0,
                output,
            },
        ),
    ]);
    assert!(r
        .iter()
        .all(|x| x.failure == Some(FailureCode::AlreadyParty)));
    // A challenge naming another output than the live one is refused.
    let r = l1.try_block(vec![(
        7,
        Action::Challenge {
            rollup: 0,
            batch: 0,
            output: Hash([5; 32]),
        },
    )]);
    assert_eq!(r[0].failure, Some(FailureCode::NotLive));
}

/// A transaction signed with a zero signature, for the property test's filler.
fn unsigned(from: u32, to: u32) -> L2Tx<basalt_l2::Optimistic> {
    L2Tx::Transfer {
        from,
        to,
        amount: 1,
        fee: 2,
        nonce: 0,
        signature: Signature([0; 64]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// A random fault at a random step of a random batch, on either side: the honest side wins.
    #[test]
    fn the_honest_side_always_wins(
        transfers in 1usize..40,
        fault in 0usize..8,
        from_step in 0u64..45,
        junk in 0usize..3,
        dishonest_proposer in any::<bool>(),
    ) {
        let fault = Fault::ALL[fault];
        let mut l1 = world(transfers);
        if junk > 0 {
            let txs: Vec<_> = (0..junk).map(|i| unsigned(1, i as u32)).collect();
            post(&mut l1, encode_batch(&txs), 3);
        }
        let liar = party(2, Some((fault, (0, from_step))), dishonest_proposer);
        let honest = party(6, None, true);
        // Whoever comes first in a block wins the proposal slot.
        let mut parties = if dishonest_proposer { [liar, honest] } else { [honest, liar] };
        run_until_settled(&mut l1, &mut parties);
        assert_honest_chain(&l1.state);
        let r = l1.state.rollup(0).unwrap();
        for d in &r.disputes {
            let honest_key = key(6).public();
            let honest_side_lost = d
                .challengers
                .iter()
                .chain(&d.defenders)
                .any(|p| p.key == honest_key && p.lost.is_some());
            prop_assert!(!honest_side_lost, "the honest party lost a game: {d:?}");
        }
    }
}

#[test]
fn every_step_of_a_trace_re_executes_from_its_witness_to_the_next_position() {
    let l1 = world(6);
    let mut p = party(6, None, false);
    p.refresh(&l1.state).unwrap();
    let r = l1.state.rollup(0).unwrap();
    let config = params().l2_config(0);
    for batch in 0..p.view.batches() {
        let trace = p.view.trace(batch).unwrap();
        let record = r.batches[batch as usize];
        let blob = &l1.state.blob(&record.data_hash).unwrap().data;
        let (txs, _) = basalt_l2::posted_batch_txs::<basalt_l2::Optimistic>(blob);
        assert_eq!(trace.len(), txs.len() + 1);
        assert_eq!(*trace.last().unwrap(), p.view.output(batch).unwrap());
        let queue: Vec<_> = r.deposits.iter().map(|d| d.entry).collect();
        let window = basalt_l2::batch_deposits(&queue, record.deposits_end).unwrap();
        for (i, tx) in txs.iter().enumerate() {
            let w = p.view.witness(batch, i as u64).unwrap();
            let (_, out) = basalt_l2::execute_step(&config, &trace[i], &w, &window, tx)
                .unwrap_or_else(|e| panic!("batch {batch} step {i}: {e}"));
            assert_eq!(out, trace[i + 1], "batch {batch} step {i}");
        }
    }
}

#[test]
fn a_failed_challenge_buys_no_batch_decode_and_a_block_decodes_each_batch_once() {
    // Before the fix the proposer's challenge of its own output, which can only fail, decoded the
    // whole batch at the flat challenge price, and every challenge in a block decoded it again.
    let mut l1 = world(6);
    let mut parties = [party(2, None, true)];
    while l1.state.rollup(0).unwrap().live_output(0).is_none() {
        step(&mut l1, &mut parties);
    }
    let output = l1.state.rollup(0).unwrap().live_output(0).unwrap().1.output;
    let challenge = Action::Challenge {
        rollup: 0,
        batch: 0,
        output,
    };
    let r = l1.try_block(vec![(2, challenge.clone())]);
    assert_eq!(r[0].failure, Some(FailureCode::AlreadyParty));
    assert_eq!(l1.last_decoded, 0, "refused before decoding");
    let r = l1.try_block(vec![(6, challenge.clone()), (7, challenge)]);
    assert!(r.iter().all(|x| x.failure.is_none()), "{r:?}");
    assert_eq!(l1.last_decoded, 1, "one decode for both challenges");
}
