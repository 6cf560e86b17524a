//! The rollup registry and bridge: deposits, batches, bonded outputs, settlement and withdrawals,
//! with every bad claim refused and the bridge invariant checked after every block.

mod common;

use basalt_l1::*;
use basalt_l2::{
    batch_deposits, decode_batch, encode_batch, DepositEntry, L2State, L2Tx, Optimistic,
};
use basalt_types::{Encode, Hash, Keypair};
use common::*;

type P = Optimistic;

const WINDOW: u64 = 5;
const BOND: u128 = 100_000_000;

/// Key 0 registers, key 1 sequences, key 2 and 3 use the rollup, key 4 proposes.
fn rollup_params() -> RollupParams {
    RollupParams {
        name: "alpha".into(),
        kind: RollupKind::Optimistic,
        sequencer: key(1).public(),
        challenge_window: WINDOW,
        proposer_bond: BOND,
        min_fee: 1,
        clock_extension: 4,
        dispute_bond: BOND,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    }
}

/// The L2 state rebuilt from L1 data alone: every posted batch, from its blob, in order.
fn derive(s: &L1State, id: u32) -> L2State<P> {
    let r = s.rollup(id).expect("registered");
    let queue: Vec<DepositEntry<P>> = r.deposits.iter().map(|d| d.entry).collect();
    let mut l2 = L2State::genesis(r.header.params.l2_config(id), r.header.params.sequencer);
    for b in &r.batches {
        let blob = s.blob(&b.data_hash).expect("batch data is retained");
        let txs = decode_batch::<P>(&blob.data).expect("the sequencer posts decodable batches");
        let window = batch_deposits(&queue, b.deposits_end).expect("range checked on L1");
        l2.apply_batch(&window, &txs);
    }
    l2
}

/// Escrow = what the rollup owes its users (L2 balances, deposits not yet applied) plus
/// withdrawals not yet paid on L1.
fn assert_bridge_invariant(s: &L1State, id: u32) {
    let r = s.rollup(id).unwrap();
    let l2 = derive(s, id);
    assert_eq!(
        r.header.escrow,
        r.escrow_owed(&l2),
        "bridge invariant broken"
    );
    assert_eq!(
        r.header.bonds,
        r.bonds_owed(),
        "bonds held differ from unsettled outputs and open disputes"
    );
}

/// A chain driven by one test: every block is built, verified as a peer would, applied, and the
/// bridge invariant checked.
struct Net {
    s: L1State,
    nonces: [u64; 8],
}

impl Net {
    fn new() -> Self {
        let mut g = genesis();
        // Long enough that derivation in these tests always finds the batch data.
        g.params.blob_retention_blocks = 1_000;
        let (s, _) = L1State::genesis(&g).unwrap();
        Net { s, nonces: [0; 8] }
    }

    fn tx(&mut self, who: u64, action: Action) -> SignedTransaction {
        let n = self.nonces[who as usize];
        self.nonces[who as usize] += 1;
        tx(&key(who), n, action)
    }

    /// One block; returns each transaction's receipt error (None: it took effect).
    fn block(&mut self, txs: Vec<SignedTransaction>) -> Vec<Option<FailureCode>> {
        let (exec, results) = step(&mut self.s, txs);
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
        for r in self.s.rollups() {
            assert_bridge_invariant(&self.s, r.header.id);
        }
        exec.diff.receipts.into_iter().map(|r| r.failure).collect()
    }

    /// One transaction in its own block; its receipt error.
    fn one(&mut self, who: u64, action: Action) -> Option<FailureCode> {
        let t = self.tx(who, action);
        self.block(vec![t]).remove(0)
    }

    fn register(&mut self) -> u32 {
        assert_eq!(
            self.one(
                0,
                Action::RegisterRollup {
                    params: rollup_params()
                }
            ),
            None
        );
        self.s.rollup_by_name("alpha").unwrap().header.id
    }

    fn deposit(&mut self, who: u64, id: u32, to: &Keypair, amount: u128) -> Option<FailureCode> {
        self.one(
            who,
            Action::Deposit {
                rollup: id,
                account: None,
                key: to.public(),
                amount,
            },
        )
    }

    fn post(
        &mut self,
        who: u64,
        id: u32,
        txs: &[L2Tx<P>],
        deposits_end: u64,
    ) -> Option<FailureCode> {
        let data = encode_batch(txs);
        let index = self.s.rollup(id).map_or(0, |r| r.header.batch_count);
        self.one(
            who,
            Action::PostBatch {
                rollup: id,
                index,
                data_hash: blob_hash(&data),
                data,
                deposits_end,
                max_fee_per_blob_byte: 100,
            },
        )
    }

    fn propose(
        &mut self,
        who: u64,
        id: u32,
        batch: u64,
        prior: Hash,
        output: Hash,
    ) -> Option<FailureCode> {
        self.one(
            who,
            Action::ProposeOutput {
                rollup: id,
                batch,
                prior,
                output,
            },
        )
    }

    fn settle(&mut self, id: u32, outputs: u64) {
        while self.s.rollup(id).unwrap().header.settled < outputs {
            self.block(vec![]);
        }
    }
}

/// A claim of withdrawal `index` against the output of `batch`, built from the derived state.
fn claim(l2: &L2State<P>, id: u32, batch: u64, index: u32) -> Action {
    let c = l2.commitment();
    let (w, proof) = l2.withdrawal_proof(index).unwrap();
    Action::FinalizeWithdrawal(WithdrawalClaim {
        rollup: id,
        batch,
        state_root: c.state_root(),
        withdrawals_tree_root: c.withdrawals_tree_root,
        withdrawal_count: c.withdrawal_count,
        index: index as u64,
        recipient: w.recipient,
        amount: w.amount,
        proof: proof.siblings,
    })
}

fn transfer(from_key: u64, from: u32, to: u32, amount: u128, nonce: u64) -> L2Tx<P> {
    L2Tx::Transfer {
        from,
        to,
        amount,
        fee: 1,
        nonce,
        signature: basalt_types::Signature([0; 64]),
    }
    .signed(0, &key(from_key))
}

fn withdraw(from_key: u64, from: u32, recipient: &Keypair, amount: u128, nonce: u64) -> L2Tx<P> {
    L2Tx::Withdraw {
        from,
        recipient: recipient.public(),
        amount,
        fee: 1,
        nonce,
        signature: basalt_types::Signature([0; 64]),
    }
    .signed(0, &key(from_key))
}

#[test]
fn deposit_transfer_withdraw_settle_and_claim_once() {
    let mut n = Net::new();
    let id = n.register();
    assert_eq!(id, 0);
    let genesis_output = n.s.rollup(id).unwrap().header.genesis_output;
    assert_eq!(n.deposit(2, id, &key(2), 10_000), None);
    assert_eq!(n.deposit(3, id, &key(3), 4_000), None);
    assert_eq!(n.s.rollup(id).unwrap().header.escrow, 14_000);

    // Batch 0: both deposits (accounts 1 and 2), a transfer, and a withdrawal to an L1 account
    // that does not exist yet (key 6).
    let batch0 = vec![
        L2Tx::Deposit { index: 0 },
        L2Tx::Deposit { index: 1 },
        transfer(2, 1, 2, 2_500, 0),
        withdraw(3, 2, &key(6), 3_000, 0),
    ];
    assert_eq!(n.post(1, id, &batch0, 2), None);
    let l2 = derive(&n.s, id);
    assert_eq!(l2.get(2).unwrap().balance, 4_000 + 2_500 - 3_000 - 1);
    assert_eq!(l2.withdrawals().len(), 1);

    // Anyone bonded proposes, not only the sequencer.
    let before = balance(&n.s, &key(4));
    assert_eq!(n.propose(4, id, 0, genesis_output, l2.output()), None);
    let proposed_at = n.s.head().height;
    assert_eq!(n.s.rollup(id).unwrap().header.bonds, BOND);
    assert!(balance(&n.s, &key(4)) < before - BOND + 1);

    // Too early: the output has not settled.
    let early = n.one(0, claim(&l2, id, 0, 0));
    assert_eq!(early, Some(FailureCode::NotSettled));

    n.settle(id, 1);
    assert_eq!(n.s.head().height, proposed_at + WINDOW);
    assert_eq!(n.s.rollup(id).unwrap().header.bonds, 0);

    // Anyone may submit the claim; the recipient is paid, once.
    assert_eq!(n.one(0, claim(&l2, id, 0, 0)), None);
    assert_eq!(balance(&n.s, &key(6)), 3_000);
    assert_eq!(n.s.rollup(id).unwrap().header.escrow, 11_000);
    let twice = n.one(0, claim(&l2, id, 0, 0));
    assert_eq!(twice, Some(FailureCode::AlreadyClaimed));
    assert_eq!(balance(&n.s, &key(6)), 3_000);

    // Batch 1 builds on batch 0; its output settles and the bond comes back.
    let batch1 = vec![withdraw(2, 1, &key(2), 1_000, 1)];
    assert_eq!(n.post(1, id, &batch1, 2), None);
    let l2 = derive(&n.s, id);
    let prior = n.s.rollup(id).unwrap().settled_output(0).unwrap().1.output;
    assert_eq!(n.propose(4, id, 1, prior, l2.output()), None);
    let bonded = balance(&n.s, &key(4));
    n.settle(id, 2);
    assert_eq!(balance(&n.s, &key(4)), bonded + BOND);
    // The sender claims its own withdrawal: paid to itself, fee and all accounted.
    let own = n.one(2, claim(&l2, id, 1, 1));
    assert_eq!(own, None);
    assert_eq!(n.s.rollup(id).unwrap().header.escrow, 10_000);
}

#[test]
fn every_bad_claim_is_refused_and_changes_nothing_but_the_fee() {
    let mut n = Net::new();
    let id = n.register();
    n.deposit(2, id, &key(2), 10_000);
    let batch0 = vec![
        L2Tx::Deposit { index: 0 },
        withdraw(2, 1, &key(6), 3_000, 0),
    ];
    n.post(1, id, &batch0, 1);
    let l2 = derive(&n.s, id);
    let genesis_output = n.s.rollup(id).unwrap().header.genesis_output;
    n.propose(4, id, 0, genesis_output, l2.output());
    n.settle(id, 1);

    let good = claim(&l2, id, 0, 0);
    let with = |f: &dyn Fn(&mut Action)| {
        let mut a = good.clone();
        f(&mut a);
        a
    };
    let cases: Vec<(Action, &str)> = vec![
        (
            with(&|a| {
                if let Action::FinalizeWithdrawal(WithdrawalClaim { amount, .. }) = a {
                    *amount += 1;
                }
            }),
            "proof does not verify",
        ),
        (
            with(&|a| {
                if let Action::FinalizeWithdrawal(WithdrawalClaim { recipient, .. }) = a {
                    *recipient = key(5).public();
                }
            }),
            "proof does not verify",
        ),
        (
            with(&|a| {
                if let Action::FinalizeWithdrawal(WithdrawalClaim {
                    withdrawals_tree_root,
                    ..
                }) = a
                {
                    *withdrawals_tree_root = Hash([9; 32]);
                }
            }),
            "do not hash to the settled output",
        ),
        (
            with(&|a| {
                if let Action::FinalizeWithdrawal(WithdrawalClaim { index, .. }) = a {
                    *index = 1;
                }
            }),
            "beyond the 1 withdrawals",
        ),
        (
            with(&|a| {
                if let Action::FinalizeWithdrawal(WithdrawalClaim { proof, .. }) = a {
                    proof.pop();
                }
            }),
            "proof does not verify",
        ),
        (
            with(&|a| {
                if let Action::FinalizeWithdrawal(WithdrawalClaim { batch, .. }) = a {
                    *batch = 1;
                }
            }),
            "has not settled",
        ),
        (
            with(&|a| {
                if let Action::FinalizeWithdrawal(WithdrawalClaim { rollup, .. }) = a {
                    *rollup = 7;
                }
            }),
            "no rollup with id 7",
        ),
    ];
    for (action, why) in cases {
        let escrow = n.s.rollup(id).unwrap().header.escrow;
        let paid = balance(&n.s, &key(6));
        let view = StateView::new(&n.s, vec![]);
        let pre = precheck_action(&view, &key(0).public(), &action, 10_000_000, 0).unwrap_err();
        assert!(
            pre.to_string().contains(why),
            "precheck said {pre:?}, expected {why:?}"
        );
        let failure = n.one(0, action).expect("refused");
        assert_eq!(
            Some(failure),
            pre.code(),
            "the receipt's code is the precheck's"
        );
        assert_eq!(n.s.rollup(id).unwrap().header.escrow, escrow);
        assert_eq!(balance(&n.s, &key(6)), paid);
    }
    assert_eq!(n.one(0, good), None);
    assert_eq!(balance(&n.s, &key(6)), 3_000);
}

#[test]
fn only_the_sequencer_posts_and_the_data_hash_and_deposit_range_must_hold() {
    let mut n = Net::new();
    let id = n.register();
    n.deposit(2, id, &key(2), 1_000);
    let txs = vec![L2Tx::Deposit { index: 0 }];
    let err = n.post(2, id, &txs, 1).unwrap();
    assert_eq!(err, FailureCode::NotSequencer);
    let err = n.post(1, id, &txs, 2).unwrap();
    assert_eq!(err, FailureCode::BadDepositRange);
    let data = encode_batch(&txs);
    let err = n
        .one(
            1,
            Action::PostBatch {
                rollup: id,
                index: n.s.rollup(id).unwrap().header.batch_count,
                data_hash: blob_hash(b"other data"),
                data,
                deposits_end: 1,
                max_fee_per_blob_byte: 100,
            },
        )
        .unwrap();
    assert_eq!(err, FailureCode::DataHashMismatch);
    assert_eq!(n.s.rollup(id).unwrap().header.batch_count, 0);
    assert_eq!(n.post(1, id, &txs, 1), None);
    // The range never goes back.
    let err = n.post(1, id, &[], 0).unwrap();
    assert_eq!(err, FailureCode::BadDepositRange);
    let r = n.s.rollup(id).unwrap();
    assert_eq!((r.header.batch_count, r.header.deposits_end), (1, 1));
}

/// A sequencer pipelines its posts: if one fails (its blob fee cap, a bad range), the posts sent
/// after it at later nonces must not take its number, or the rollup's data would skip the
/// transactions it carried.
#[test]
fn a_pipelined_post_after_a_failed_one_fails_too_so_no_batch_is_skipped() {
    let mut n = Net::new();
    let id = n.register();
    n.deposit(2, id, &key(2), 1_000);
    let post_as = |index: u64, txs: &[L2Tx<P>], deposits_end: u64| {
        let data = encode_batch(txs);
        Action::PostBatch {
            rollup: id,
            index,
            data_hash: blob_hash(&data),
            data,
            deposits_end,
            max_fee_per_blob_byte: 100,
        }
    };
    let first = vec![L2Tx::Deposit { index: 0 }];
    // Batch 0 fails (its range runs past the queue); batch 1, sent in the same block, must too.
    let failing = n.tx(1, post_as(0, &first, 5));
    let next = n.tx(1, post_as(1, &[], 1));
    let codes = n.block(vec![failing, next]);
    assert_eq!(
        codes,
        vec![
            Some(FailureCode::BadDepositRange),
            Some(FailureCode::BatchOutOfOrder)
        ]
    );
    assert_eq!(n.s.rollup(id).unwrap().header.batch_count, 0);
    // A number from the future fails as well; the right one is taken.
    assert_eq!(
        n.one(1, post_as(1, &first, 1)),
        Some(FailureCode::BatchOutOfOrder)
    );
    assert_eq!(n.one(1, post_as(0, &first, 1)), None);
    assert_eq!(n.s.rollup(id).unwrap().header.batch_count, 1);
}

#[test]
fn outputs_build_on_a_proposed_prior_with_the_bond_and_compete_without_duplicates() {
    let mut n = Net::new();
    let id = n.register();
    let g = n.s.rollup(id).unwrap().header.genesis_output;
    let out = Hash([1; 32]);
    let err = n.propose(4, id, 0, g, out).unwrap();
    assert_eq!(err, FailureCode::BatchNotPosted);
    n.post(1, id, &[], 0);
    n.post(1, id, &[], 0);
    let err = n.propose(4, id, 1, g, out).unwrap();
    assert_eq!(
        err,
        FailureCode::WrongPrior,
        "batch 1 builds on a batch-0 proposal"
    );
    let err = n.propose(4, id, 0, Hash([2; 32]), out).unwrap();
    assert_eq!(err, FailureCode::WrongPrior);
    // An account that cannot lock the bond cannot propose: it can pay its gas (100,000 at up to
    // 1,000 each), not the bond on top.
    n.one(
        0,
        Action::Transfer {
            to: key(7).public(),
            amount: 100_000_000,
        },
    );
    let action = Action::ProposeOutput {
        rollup: id,
        batch: 0,
        prior: g,
        output: out,
    };
    let t = tx_with_gas(&key(7), 0, 100_000, action);
    let err = n.block(vec![t]).remove(0).unwrap();
    assert_eq!(err, FailureCode::InsufficientBalance);
    assert_eq!(n.propose(4, id, 0, g, out), None);
    let err = n.propose(4, id, 1, g, Hash([3; 32])).unwrap();
    assert_eq!(err, FailureCode::WrongPrior);
    assert_eq!(n.propose(4, id, 1, out, Hash([3; 32])), None);
    assert_eq!(n.s.rollup(id).unwrap().header.bonds, 2 * BOND);
    // A competing proposal for batch 0 opens its own tree; the same one again is refused.
    assert_eq!(n.propose(2, id, 0, g, Hash([4; 32])), None);
    let err = n.propose(3, id, 0, g, out).unwrap();
    assert_eq!(err, FailureCode::AlreadyProposed);
    // Batch 1 may build on either proposal of batch 0.
    assert_eq!(n.propose(2, id, 1, Hash([4; 32]), Hash([3; 32])), None);
    assert_eq!(n.s.rollup(id).unwrap().header.proposal_count, 4);
    // Unchallenged, every tree resolves upheld after the window and returns its bond; batch 0
    // settles with the first of its proposals, batch 1 with the one built on it.
    n.settle(id, 2);
    while !n.s.rollup(id).unwrap().open.is_empty() {
        n.block(vec![]);
    }
    let r = n.s.rollup(id).unwrap();
    assert_eq!((r.chain.clone(), r.header.bonds), (vec![0, 1], 0));
    assert_eq!(
        r.proposal_status(2),
        "upheld",
        "upheld, but batch 0 settled first"
    );
}

#[test]
fn registration_checks_names_and_parameters_and_deposits_need_a_rollup_and_an_amount() {
    let mut n = Net::new();
    n.register();
    let again = n.one(
        0,
        Action::RegisterRollup {
            params: rollup_params(),
        },
    );
    assert_eq!(again, Some(FailureCode::NameTaken));
    for (params, why) in [
        (
            RollupParams {
                name: "Bad Name".into(),
                ..rollup_params()
            },
            "name",
        ),
        (
            RollupParams {
                name: "beta".into(),
                challenge_window: 0,
                ..rollup_params()
            },
            "challenge window",
        ),
        (
            RollupParams {
                name: "beta".into(),
                proposer_bond: 0,
                ..rollup_params()
            },
            "bond",
        ),
        (
            RollupParams {
                name: "beta".into(),
                fee_model: basalt_l1::FeeModel::Auction { block_txs: 0 },
                ..rollup_params()
            },
            "an auction of empty blocks",
        ),
    ] {
        let err = n.one(0, Action::RegisterRollup { params }).unwrap();
        assert_eq!(err, FailureCode::BadRollupParams, "{why}");
    }
    let before = balance(&n.s, &key(2));
    let err = n.deposit(2, 3, &key(2), 10).unwrap();
    assert_eq!(err, FailureCode::UnknownRollup);
    let err = n.deposit(2, 0, &key(2), 0).unwrap();
    assert_eq!(err, FailureCode::ZeroAmount);
    // Only the fees were paid.
    let fees: u128 = 2 * DEPOSIT_GAS as u128 * 102;
    assert!(balance(&n.s, &key(2)) >= before - fees - 200 * DEPOSIT_GAS as u128);
    assert_eq!(n.s.rollup(0).unwrap().header.escrow, 0);
}

#[test]
fn two_rollups_keep_separate_escrows_and_signatures_do_not_cross() {
    let mut n = Net::new();
    let a = n.register();
    let b_params = RollupParams {
        name: "beta".into(),
        sequencer: key(3).public(),
        ..rollup_params()
    };
    assert_eq!(n.one(0, Action::RegisterRollup { params: b_params }), None);
    let b = 1;
    n.deposit(2, a, &key(2), 5_000);
    n.deposit(2, b, &key(2), 7_000);
    // The same signed transfer is valid on rollup 0 and a no-op on rollup 1 (signed for id 0).
    let t = transfer(2, 1, 0, 100, 0);
    n.post(1, a, &[L2Tx::Deposit { index: 0 }, t], 1);
    n.post(3, b, &[L2Tx::Deposit { index: 0 }, t], 1);
    let la = derive(&n.s, a);
    let lb = derive(&n.s, b);
    assert_eq!(la.get(1).unwrap().balance, 5_000 - 101);
    assert_eq!(lb.get(1).unwrap().balance, 7_000);
    assert_eq!(n.s.rollup(a).unwrap().header.escrow, 5_000);
    assert_eq!(n.s.rollup(b).unwrap().header.escrow, 7_000);
}

#[test]
fn rollup_actions_roundtrip_through_the_transaction_codec() {
    let l2 = {
        let mut s = L2State::<P>::genesis(rollup_params().l2_config(0), key(1).public());
        let q = [DepositEntry {
            forced: None,
            account: None,
            key: key(2).public(),
            amount: 50,
        }];
        let w = basalt_l2::DepositWindow {
            first: 0,
            entries: &q,
        };
        s.apply_batch(
            &w,
            &[L2Tx::Deposit { index: 0 }, withdraw(2, 1, &key(6), 10, 0)],
        );
        s
    };
    for action in [
        Action::RegisterRollup {
            params: rollup_params(),
        },
        Action::Deposit {
            rollup: 3,
            account: Some(9),
            key: key(2).public(),
            amount: 12345,
        },
        Action::PostBatch {
            rollup: 1,
            index: 3,
            data: vec![1, 2, 3],
            data_hash: blob_hash(&[1, 2, 3]),
            deposits_end: 4,
            max_fee_per_blob_byte: 7,
        },
        Action::ProposeOutput {
            rollup: 1,
            batch: 2,
            prior: Hash([1; 32]),
            output: Hash([2; 32]),
        },
        claim(&l2, 0, 0, 0),
    ] {
        let stx = tx(&key(0), 0, action);
        let back = SignedTransaction::decode_untrusted(&stx.to_bytes()).unwrap();
        assert_eq!(back, stx);
        back.verify().unwrap();
    }
}
