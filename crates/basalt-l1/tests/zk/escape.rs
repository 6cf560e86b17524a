//! A ZK rollup without its sequencer's permission: forced transactions, the overdue rule, and
//! exits from a frozen rollup.

use super::*;

#[test]
fn a_frozen_zk_rollup_pays_every_account_its_proven_balance_and_refunds_the_rest() {
    let mut net = Net::with(|p| {
        p.force_inclusion_blocks = 2;
        p.escape_blocks = p.settle_bound() + 1;
    });
    net.deposit(1_000);
    let txs = deposit_and_withdraw(400);
    assert_eq!(net.post(&posted(&txs)), None);
    let (output, proof) = net.prove(&txs);
    net.ok(3, Net::prove_action(0, output, proof));
    net.ok(2, Action::FinalizeWithdrawal(claim(&net, 0, 0)));
    // A second deposit the vanished sequencer never consumes.
    net.deposit(500);
    let hash = |f: &basalt_types::zk::Felt| felt_hash(*f);
    let exit = |net: &Net, index, signer: &BabyKeypair, to: u64| {
        ExitClaim::build(
            &net.l2,
            index,
            key(to).public(),
            unchecked_signature(),
            hash,
            |tx| tx.signed_zk(ID, signer),
        )
        .unwrap()
    };
    net.refused(
        4,
        Action::Exit(exit(&net, 1, &alice(), 4)),
        FailureCode::NotFrozen,
    );
    let at = net.s.rollup(ID).unwrap().frozen_from().unwrap();
    while net.s.head().height + 1 < at {
        step(&mut net.s, vec![]);
    }
    let refund = |net: &Net, index| Action::RefundDeposit {
        rollup: ID,
        index,
        state: SettledState::of(&net.l2.commitment(), hash),
    };
    net.refused(
        4,
        Action::Exit(exit(&net, 1, &fee_key(), 4)),
        FailureCode::BadExitSignature,
    );
    let before = balance(&net.s, &key(4));
    net.ok(4, Action::Exit(exit(&net, 1, &alice(), 4)));
    assert_eq!(
        balance(&net.s, &key(4)),
        before + 1_000 - 400 - 1 - net.last_fee,
        "alice's proven balance"
    );
    net.refused(
        4,
        Action::Exit(exit(&net, 1, &alice(), 4)),
        FailureCode::AlreadyExited,
    );
    net.ok(3, Action::Exit(exit(&net, 0, &fee_key(), 3)));
    net.refused(4, refund(&net, 0), FailureCode::DepositApplied);
    let before = balance(&net.s, &key(2));
    net.ok(4, refund(&net, 1));
    assert_eq!(
        balance(&net.s, &key(2)),
        before + 500,
        "refunded to its sender"
    );
    assert_eq!(net.header().escrow, 0, "the escrow ends at zero");
}

#[test]
fn a_zk_batch_that_skips_an_overdue_deposit_cannot_be_posted_and_anyone_may_post_one_that_does_not()
{
    let mut net = Net::with(|p| {
        p.force_inclusion_blocks = 2;
        p.escape_blocks = p.settle_bound() + 1;
    });
    net.deposit(1_000);
    let queued = net.s.head().height;
    assert_eq!(
        net.post_by(3, &[PostedTx::Deposit]),
        Some(FailureCode::NotSequencer)
    );
    while net.s.head().height + 1 < queued + 2 {
        step(&mut net.s, vec![]);
    }
    // No proof could cover a batch without the overdue deposit: the L1 refuses it at its post.
    net.refused(1, post_action(&net, &[]), FailureCode::OverdueSkipped);
    assert_eq!(
        net.post_by(3, &[PostedTx::Deposit]),
        None,
        "anyone posts it now"
    );
    // The deposit is proven in, by anyone, from the batch someone else posted.
    let (output, proof) = net.prove(&[L2Tx::Deposit { index: 0 }]);
    net.ok(4, Net::prove_action(0, output, proof));
    assert_eq!(net.header().settled_deposits, 1);
}

fn alice_key() -> PublicKey {
    PublicKey(alice().public().to_bytes().try_into().unwrap())
}

/// Alice's withdrawal of `amount` (fee `fee`, nonce 0) to key 2's L1 account, signed by `signer`.
fn alice_withdraws(amount: u128, fee: u128, signer: &BabyKeypair) -> L2Tx<Zk> {
    L2Tx::Withdraw {
        from: 1,
        recipient: key(2).public(),
        amount,
        fee,
        nonce: 0,
        signature: unchecked_signature(),
    }
    .signed_zk(ID, signer)
}

fn force(tx: &L2Tx<Zk>, key: PublicKey) -> Action {
    Action::ForceInclude {
        rollup: ID,
        key,
        tx: tx.to_bytes(),
    }
}

#[test]
fn a_censored_zk_user_forces_a_withdrawal_in_and_is_paid_on_l1() {
    let mut net = Net::new();
    net.deposit(1_000);
    assert_eq!(net.post(&[PostedTx::Deposit]), None);
    let (output, proof) = net.prove(&[L2Tx::Deposit { index: 0 }]);
    net.ok(3, Net::prove_action(0, output, proof));
    // Refused before anything is queued: another key's signature, a fee below the minimum, a key
    // that is not a point, and a deposit in a transaction's clothes.
    let w = alice_withdraws(300, 1, &alice());
    let cases = [
        (
            force(&alice_withdraws(300, 1, &fee_key()), alice_key()),
            FailureCode::BadForcedSignature,
        ),
        (
            force(&alice_withdraws(300, 0, &alice()), alice_key()),
            FailureCode::BadForcedTx,
        ),
        (force(&w, PublicKey([0xff; 32])), FailureCode::BadL2Key),
        (
            force(&L2Tx::Deposit { index: 0 }, alice_key()),
            FailureCode::BadForcedTx,
        ),
    ];
    for (action, code) in cases {
        net.refused(2, action, code);
    }
    // Anyone may pay to queue it (key 2 does); queued twice, the replay's place is a no-op.
    net.ok(2, force(&w, alice_key()));
    net.ok(4, force(&w, alice_key()));
    let queued = net.s.head().height;
    while net.s.head().height + 1 < queued + 10 {
        step(&mut net.s, vec![]);
    }
    // The censoring sequencer cannot post past them; anyone else posts the two places.
    net.refused(1, post_action(&net, &[]), FailureCode::OverdueSkipped);
    assert_eq!(
        net.post_by(3, &[PostedTx::Deposit, PostedTx::Deposit]),
        None
    );
    let places = [L2Tx::Deposit { index: 1 }, L2Tx::Deposit { index: 2 }];
    let (output, proof) = net.prove(&places);
    net.ok(3, Net::prove_action(1, output, proof));
    let h = net.header();
    assert_eq!((h.settled, h.settled_deposits), (2, 3));
    assert_eq!(net.l2.get(1).unwrap().balance, 1_000 - 301, "applied once");
    let before = balance(&net.s, &key(2));
    net.ok(2, Action::FinalizeWithdrawal(claim(&net, 1, 0)));
    assert_eq!(balance(&net.s, &key(2)), before + 300 - net.last_fee);
    assert_eq!(
        net.header().escrow,
        700,
        "the escrow holds what the L2 owes"
    );
}
