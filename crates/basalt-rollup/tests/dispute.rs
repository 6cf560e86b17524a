//! The dispute game end to end on the real L1 state machine: parties that each derive the rollup
//! from L1 data (honestly, or with one injected fault) propose, counter and step with the same
//! code the rollup node runs ([`basalt_rollup::dispute_actions`]). Proposals compete, the honest
//! one always settles and every wrong one is removed, and the bridge and bond invariants hold after
//! every block.

mod common;
use basalt_l1::{Action, Claims, DisputeResult, FailureCode};
use basalt_l2::{encode_batch, L2Tx};
use basalt_rollup::lab::open_trees;
use basalt_rollup::Fault;
use basalt_types::{Hash, Signature};
use common::world::*;
use common::*;
use proptest::prelude::*;

/// The proposals of key `who`, with their results.
fn proposals_of(l1: &basalt_l1::L1State, who: u64) -> Vec<(u64, u64, Option<DisputeResult>)> {
    let r = l1.rollup(0).unwrap();
    r.proposals
        .iter()
        .enumerate()
        .filter(|(_, p)| p.proposer == key(who).public())
        .map(|(i, p)| (i as u64, p.batch, r.disputes[i].result))
        .collect()
}

#[test]
fn for_every_fault_the_wrong_output_is_removed_and_the_honest_one_settles_beside_it() {
    for fault in Fault::ALL {
        let mut l1 = world(20);
        let mut parties = [party(2, Some((fault, (0, 0))), true), party(6, None, true)];
        // The dishonest proposer posts its whole chain first.
        for _ in 0..2 {
            parties[0].refresh(&l1.state).unwrap();
            let a = parties[0].actions(&l1.state);
            l1.block(a.into_iter().map(|a| (2, a)).collect());
        }
        let faulted = parties[0]
            .view
            .faulted()
            .expect("the fault fits this world");
        run_until_settled(&mut l1, &mut parties);
        assert_honest_outcome(&l1.state, &[key(6).public()]);
        let r = l1.state.rollup(0).unwrap();
        let lie = proposals_of(&l1.state, 2)
            .into_iter()
            .find(|(_, batch, _)| *batch == faulted.0)
            .expect("the faulted batch was proposed");
        assert!(
            matches!(lie.2, Some(DisputeResult::Removed { .. })),
            "{fault:?}: the wrong output is removed: {lie:?}"
        );
        // One honest party against one liar: a path down the tree and its step.
        let t = &r.trees[lie.0 as usize];
        assert!(
            t.claims().len() as u32 <= 2 * (t.rules.depth + 2),
            "{fault:?}: {} claims over depth {}",
            t.claims().len(),
            t.rules.depth
        );
        // Outputs built on the removed one never settle; the honest chain did.
        assert!(!r.chain.contains(&lie.0));
        assert_eq!(r.header.bonds, 0, "every tree paid its bonds");
    }
}

#[test]
fn dishonest_challengers_lose_and_the_honest_outputs_are_upheld() {
    let mut l1 = world(30);
    let mut parties = [
        party(6, None, true),
        party(2, Some((Fault::Mint, (0, 7))), false),
        party(7, Some((Fault::SkipDeposit, (0, 0))), false),
        party(5, Some((Fault::Balance, (0, 20))), false),
    ];
    run_until_settled(&mut l1, &mut parties);
    assert_honest_outcome(&l1.state, &[key(6).public()]);
    let r = l1.state.rollup(0).unwrap();
    let batch0 = r.chain[0] as usize;
    let t = &r.trees[batch0];
    let attackers: std::collections::HashSet<_> =
        t.claims().iter().skip(1).map(|c| c.claimant).collect();
    for k in [2, 7, 5] {
        assert!(
            attackers.contains(&key(k).public()),
            "faulty party {k} countered batch 0's output"
        );
    }
    assert!(r.disputes.iter().all(|d| d.upheld()));
    assert_eq!(r.header.settled, 3);
}

#[test]
fn a_silent_proposer_is_defended_by_anyone_who_derives_the_same_output() {
    let mut l1 = world(8);
    let mut parties = [
        party(6, None, true),
        party(2, Some((Fault::WithdrawalsRoot, (0, 0))), false),
        party(7, None, false),
    ];
    // The honest proposer proposes, then goes silent; the stand-in joins only once it has.
    parties[2].silent = true;
    while l1.state.rollup(0).unwrap().header.proposal_count < 3 {
        step(&mut l1, &mut parties);
    }
    parties[0].silent = true;
    parties[2].silent = false;
    run_until_settled(&mut l1, &mut parties);
    assert_honest_outcome(&l1.state, &[key(6).public(), key(7).public()]);
    let r = l1.state.rollup(0).unwrap();
    let t = &r.trees[r.chain[0] as usize];
    assert!(
        t.claims().iter().any(|c| c.claimant == key(7).public()),
        "the stand-in played"
    );
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
fn a_step_with_a_witness_that_does_not_open_the_state_before_it_is_refused_before_any_decode() {
    let mut l1 = world(2);
    let mut parties = [
        party(2, Some((Fault::Mint, (0, 0))), true),
        party(6, None, true),
    ];
    for _ in 0..MAX_BLOCKS {
        for p in parties.iter_mut() {
            p.refresh(&l1.state).unwrap();
        }
        let due = parties[1]
            .actions(&l1.state)
            .into_iter()
            .find(|a| matches!(a, Action::Step { witness, .. } if !witness.is_empty()));
        if let Some(Action::Step {
            rollup,
            proposal,
            leaf,
            attack,
            witness,
        }) = due
        {
            let r = l1.state.rollup(0).unwrap();
            let tree = &r.trees[proposal as usize];
            let check = tree.step_check(leaf, attack).unwrap();
            // The witness of another step opens another state: refused, nothing changes.
            let batch = r.disputes[proposal as usize].batch;
            let other_step = if check.step >= 2 {
                check.step - 2
            } else {
                check.step
            };
            let other = parties[1].view.witness(batch, other_step).unwrap();
            let with = |witness: Vec<u8>| Action::Step {
                rollup,
                proposal,
                leaf,
                attack,
                witness,
            };
            let claims = tree.claims().len();
            let r = l1.try_block(vec![
                (6, with(basalt_types::Encode::to_bytes(&other))),
                (6, with(vec![7; 100])),
            ]);
            assert_eq!(r[0].failure, Some(FailureCode::BadWitness));
            assert_eq!(r[1].failure, Some(FailureCode::BadWitness));
            assert_eq!(l1.last_decoded, 0, "refused before the batch was decoded");
            assert_eq!(
                l1.state.rollup(0).unwrap().trees[proposal as usize]
                    .claims()
                    .len(),
                claims
            );
            // The right witness then counters the leaf.
            let r = l1.try_block(vec![(6, with(witness))]);
            assert_eq!(r[0].failure, None);
            let tree = &l1.state.rollup(0).unwrap().trees[proposal as usize];
            assert!(tree.stepped(leaf));
            run_until_settled(&mut l1, &mut parties);
            assert_honest_outcome(&l1.state, &[key(6).public()]);
            return;
        }
        step(&mut l1, &mut parties);
    }
    panic!("no one-step proof became due");
}

#[test]
fn moves_the_rules_forbid_are_refused_with_their_codes() {
    let mut l1 = world(6);
    let mut parties = [party(6, None, true)];
    step(&mut l1, &mut parties);
    let counter = |parent: u32, attack: bool, value: u8| Action::Counter {
        rollup: 0,
        proposal: 0,
        parent,
        attack,
        value: Hash([value; 32]),
    };
    let r = l1.try_block(vec![
        (7, counter(0, false, 1)),
        (7, counter(5, true, 1)),
        (7, counter(0, true, 1)),
        (3, counter(0, true, 1)),
        (
            7,
            Action::Counter {
                rollup: 0,
                proposal: 99,
                parent: 0,
                attack: true,
                value: Hash([1; 32]),
            },
        ),
        (
            7,
            Action::Step {
                rollup: 0,
                proposal: 0,
                leaf: 0,
                attack: true,
                witness: Vec::new(),
            },
        ),
    ]);
    let codes: Vec<_> = r.iter().map(|x| x.failure).collect();
    assert_eq!(
        codes,
        vec![
            Some(FailureCode::DefendRoot),
            Some(FailureCode::UnknownClaim),
            None,
            Some(FailureCode::DuplicateClaim),
            Some(FailureCode::UnknownDispute),
            Some(FailureCode::NotAtBottom),
        ]
    );
    // After the root's clock has run out nothing can counter it, and a resolved tree is closed.
    for _ in 0..2 * WINDOW {
        l1.block(vec![]);
    }
    let r = l1.try_block(vec![(7, counter(0, true, 2))]);
    assert_eq!(r[0].failure, Some(FailureCode::DisputeEnded));
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
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

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
        let mut parties = if dishonest_proposer { [liar, honest] } else { [honest, liar] };
        run_until_settled(&mut l1, &mut parties);
        assert_honest_outcome(&l1.state, &[key(6).public()]);
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
        let (blob_txs, _) = basalt_l2::posted_batch_txs::<basalt_l2::Optimistic>(blob);
        let from = batch
            .checked_sub(1)
            .map_or(0, |b| r.batches[b as usize].deposits_end);
        let txs = basalt_l2::batch_trace_txs(blob_txs, from, record.deposits_end);
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
fn a_refused_proposal_buys_no_batch_decode_and_a_block_decodes_each_batch_once() {
    // Before the fix a challenge that could only fail decoded the whole batch at a flat price, and
    // every challenge in a block decoded it again. Proposals, which now decode to count a tree's
    // steps, are refused cheaply first and share one decode per block.
    let mut l1 = world(6);
    let mut parties = [party(2, None, true)];
    step(&mut l1, &mut parties);
    let r = l1.state.rollup(0).unwrap();
    let (genesis, first) = (r.header.genesis_output, r.proposals[0]);
    let propose = |output: Hash| Action::ProposeOutput {
        rollup: 0,
        batch: 0,
        prior: genesis,
        output,
    };
    let again = l1.try_block(vec![(7, propose(first.output))]);
    assert_eq!(again[0].failure, Some(FailureCode::AlreadyProposed));
    assert_eq!(l1.last_decoded, 0, "refused before decoding");
    let r = l1.try_block(vec![
        (6, propose(Hash([1; 32]))),
        (7, propose(Hash([2; 32]))),
    ]);
    assert!(r.iter().all(|x| x.failure.is_none()), "{r:?}");
    assert_eq!(l1.last_decoded, 1, "one decode for both proposals");
    let competing = open_trees(&l1.state, 0)
        .iter()
        .filter(|t| t.batch == 0)
        .count();
    assert_eq!(competing, 3, "three trees compete for batch 0");
}

#[test]
fn a_proposal_that_leaves_out_a_deposit_its_batch_range_forces_is_proven_wrong() {
    // A censoring sequencer posts a batch whose blob leaves its deposits out, with a range that
    // covers them (as the L1 requires once they are overdue): the batch applies them after the
    // blob. A proposer
    // whose view skips one plays the whole game for its output and loses it at the step.
    let mut l1 = L1::new();
    l1.block(vec![(0, Action::RegisterRollup { params: params() })]);
    l1.block(vec![
        (3, deposit(&key(3), 1_000_000)),
        (4, deposit(&key(4), 1_000_000)),
    ]);
    post(&mut l1, encode_batch::<basalt_l2::Optimistic>(&[]), 2);
    let mut parties = [
        party(2, Some((Fault::SkipDeposit, (0, 0))), true),
        party(6, None, true),
    ];
    run_until_settled(&mut l1, &mut parties);
    assert_honest_outcome(&l1.state, &[key(6).public()]);
    let honest = honest_outputs(&l1.state);
    let mut view = party(9, None, false);
    view.refresh(&l1.state).unwrap();
    assert_eq!(view.view.state().commitment().next_deposit, 2);
    assert_eq!(view.view.state().get(2).unwrap().balance, 1_000_000);
    let lie = proposals_of(&l1.state, 2);
    assert!(
        matches!(lie[0].2, Some(DisputeResult::Removed { .. })),
        "{lie:?}"
    );
    // The honest party's counter reaches the bottom of the tree, at the state after the forced
    // deposit: the liar has no one-step proof against it (the L1 re-executes that deposit), and
    // the claim stands.
    let r = l1.state.rollup(0).unwrap();
    let t = &r.trees[lie[0].0 as usize];
    let bottom: Vec<_> = t
        .claims()
        .iter()
        .filter(|c| c.position >= 1 << t.rules.depth)
        .collect();
    assert!(
        bottom.iter().any(|c| c.claimant == key(6).public()),
        "{:?}",
        t.claims()
    );
    assert_eq!(r.settled_output(0).unwrap().1.output, honest[0]);
}

#[test]
fn a_proposal_that_leaves_out_a_forced_withdrawal_is_proven_wrong_and_the_withdrawal_settles() {
    // A user forces a withdrawal in through the L1; the censoring sequencer's batch carries it only
    // in its range. A proposer whose view skips it loses its tree; the honest output, with the
    // withdrawal, settles.
    let mut l1 = L1::new();
    l1.block(vec![(0, Action::RegisterRollup { params: params() })]);
    l1.block(vec![(3, deposit(&key(3), 1_000_000))]);
    post(
        &mut l1,
        encode_batch::<basalt_l2::Optimistic>(&[L2Tx::Deposit { index: 0 }]),
        1,
    );
    let w = withdraw(3, 1, &key(3), 250_000, 0);
    l1.block(vec![(
        3,
        Action::ForceInclude {
            rollup: 0,
            key: key(3).public(),
            tx: basalt_types::Encode::to_bytes(&w),
        },
    )]);
    post(&mut l1, encode_batch::<basalt_l2::Optimistic>(&[]), 2);
    let mut parties = [
        party(2, Some((Fault::SkipDeposit, (1, 0))), true),
        party(6, None, true),
    ];
    run_until_settled(&mut l1, &mut parties);
    assert_honest_outcome(&l1.state, &[key(6).public()]);
    let mut view = party(9, None, false);
    view.refresh(&l1.state).unwrap();
    assert_eq!(view.view.state().withdrawals().len(), 1);
    let lie = proposals_of(&l1.state, 2);
    let wrong = lie
        .iter()
        .find(|(_, batch, _)| *batch == 1)
        .expect("proposed");
    assert!(
        matches!(wrong.2, Some(DisputeResult::Removed { .. })),
        "{lie:?}"
    );
    // The user finds it by its own hash, as every node indexes a forced transaction.
    let found = view.view.tx(&w.hash()).expect("indexed by its hash");
    assert_eq!(
        (found.batch, found.withdrawal, found.failure),
        (1, Some(0), None)
    );
    let claim = view.view.withdrawal_claim(0, 1, 0).unwrap();
    let before = l1.state.account(&key(3).public()).unwrap().balance;
    let paid = l1.try_block(vec![(0, Action::FinalizeWithdrawal(claim))]);
    assert_eq!(paid[0].failure, None);
    assert_eq!(
        l1.state.account(&key(3).public()).unwrap().balance,
        before + 250_000
    );
}
