//! No permission needed, on an optimistic rollup: a deposit past its force-inclusion deadline must
//! be consumed by the next batch, which anyone may then post; and a rollup that owes something and
//! settles nothing for its escape delay freezes, every account of its last settled state exits
//! once with exactly its balance, deposits that state never consumed are refunded, and the escrow
//! ends at zero.

mod common;

use basalt_l1::*;
use basalt_l2::{batch_deposits, encode_batch, DepositEntry, L2State, L2Tx, Optimistic};
use basalt_types::{Hash, Keypair, Signature};
use common::*;

type P = Optimistic;

const WINDOW: u64 = 5;
const EXTENSION: u64 = 4;
const FORCE: u64 = 3;
const BOND: u128 = 100_000_000;

/// Key 0 registers, key 1 sequences, keys 2 and 3 use the rollup, key 4 proposes and deposits once.
fn rollup_params() -> RollupParams {
    let mut p = RollupParams {
        name: "alpha".into(),
        kind: RollupKind::Optimistic,
        sequencer: key(1).public(),
        challenge_window: WINDOW,
        proposer_bond: BOND,
        min_fee: 1,
        clock_extension: EXTENSION,
        dispute_bond: BOND,
        slash_reward_percent: 50,
        force_inclusion_blocks: FORCE,
        escape_blocks: 0,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    p.escape_blocks = p.settle_bound() + 1;
    p
}

struct Net {
    s: L1State,
    nonces: [u64; 8],
}

impl Net {
    fn new() -> Self {
        let mut g = genesis();
        g.params.blob_retention_blocks = 1_000;
        let (s, _) = L1State::genesis(&g).unwrap();
        Net { s, nonces: [0; 8] }
    }

    fn one(&mut self, who: u64, action: Action) -> Option<FailureCode> {
        let n = self.nonces[who as usize];
        self.nonces[who as usize] += 1;
        let (exec, results) = step(&mut self.s, vec![tx(&key(who), n, action)]);
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
        exec.diff.receipts[0].failure
    }

    fn empty(&mut self) {
        step(&mut self.s, vec![]);
    }

    fn header(&self) -> RollupHeader {
        self.s.rollup(0).unwrap().header.clone()
    }

    fn deposit(&mut self, who: u64, amount: u128) -> Option<FailureCode> {
        self.one(
            who,
            Action::Deposit {
                rollup: 0,
                account: None,
                key: key(who).public(),
                amount,
            },
        )
    }

    fn post(&mut self, txs: &[L2Tx<P>], deposits_end: u64) -> Option<FailureCode> {
        self.post_by(1, txs, deposits_end)
    }

    fn post_by(&mut self, who: u64, txs: &[L2Tx<P>], deposits_end: u64) -> Option<FailureCode> {
        let data = encode_batch(txs);
        let index = self.header().batch_count;
        self.one(
            who,
            Action::PostBatch {
                rollup: 0,
                index,
                data_hash: blob_hash(&data),
                data,
                deposits_end,
                max_fee_per_blob_byte: 100,
            },
        )
    }

    /// Blocks until the next block is the first the rollup is frozen in.
    fn until_frozen(&mut self) {
        let at = self
            .s
            .rollup(0)
            .unwrap()
            .frozen_from()
            .expect("it owes something");
        while self.s.head().height + 1 < at {
            self.empty();
        }
    }
}

fn signed(tx: L2Tx<P>, who: u64) -> L2Tx<P> {
    tx.signed(0, &key(who))
}

fn transfer(who: u64, from: u32, to: u32, amount: u128, nonce: u64) -> L2Tx<P> {
    signed(
        L2Tx::Transfer {
            from,
            to,
            amount,
            fee: 1,
            nonce,
            signature: Signature([0; 64]),
        },
        who,
    )
}

fn withdraw(who: u64, from: u32, to: &Keypair, amount: u128, nonce: u64) -> L2Tx<P> {
    signed(
        L2Tx::Withdraw {
            from,
            recipient: to.public(),
            amount,
            fee: 1,
            nonce,
            signature: Signature([0; 64]),
        },
        who,
    )
}

/// Account `index` of `l2` exits to `recipient`, signed by key `signer`.
fn exit(l2: &L2State<P>, index: u32, signer: u64, recipient: &Keypair) -> ExitClaim {
    ExitClaim::build(
        l2,
        index,
        recipient.public(),
        Signature([0; 64]),
        |h| *h,
        |tx| signed(tx, signer),
    )
    .unwrap()
}

/// A rollup with one settled batch (two deposits, a transfer, a withdrawal), then a batch nobody
/// proposes an output for and a deposit nobody consumes: its sequencer and proposer vanished.
/// Returns the settled L2 state.
fn vanished() -> (Net, L2State<P>) {
    let mut n = Net::new();
    assert_eq!(
        n.one(
            0,
            Action::RegisterRollup {
                params: rollup_params()
            }
        ),
        None
    );
    assert_eq!(n.deposit(2, 10_000), None);
    assert_eq!(n.deposit(3, 4_000), None);
    let batch0 = vec![
        L2Tx::Deposit { index: 0 },
        L2Tx::Deposit { index: 1 },
        transfer(2, 1, 2, 2_500, 0),
        withdraw(3, 2, &key(6), 3_000, 0),
    ];
    assert_eq!(n.post(&batch0, 2), None);
    let queue: Vec<DepositEntry<P>> =
        n.s.rollup(0)
            .unwrap()
            .deposits
            .iter()
            .map(|d| d.entry)
            .collect();
    let mut l2 = L2State::genesis(rollup_params().l2_config(0), key(1).public());
    l2.apply_batch(&batch_deposits(&queue, 2).unwrap(), &batch0);
    let genesis = n.header().genesis_output;
    assert_eq!(
        n.one(
            4,
            Action::ProposeOutput {
                rollup: 0,
                batch: 0,
                prior: genesis,
                output: l2.output(),
            }
        ),
        None
    );
    while n.header().settled < 1 {
        n.empty();
    }
    // Batch 1 moves funds but never settles; deposit 2 is never consumed.
    assert_eq!(n.post(&[transfer(2, 1, 2, 1_000, 1)], 2), None);
    assert_eq!(n.deposit(4, 700), None);
    (n, l2)
}

#[test]
fn an_idle_rollup_that_owes_nothing_never_freezes() {
    let mut n = Net::new();
    let params = rollup_params();
    assert_eq!(n.one(0, Action::RegisterRollup { params }), None);
    assert_eq!(n.s.rollup(0).unwrap().frozen_from(), None);
    for _ in 0..rollup_params().escape_blocks + 5 {
        n.empty();
    }
    assert_eq!(n.deposit(2, 10), None, "still open after the escape delay");
}

#[test]
fn a_vanished_rollup_freezes_and_every_user_exits_with_exactly_their_balance() {
    let (mut n, l2) = vanished();
    let settled = SettledState::of(&l2.commitment(), |h| *h);
    // Not frozen yet: exits and refunds wait.
    let early = exit(&l2, 1, 2, &key(2));
    assert_eq!(
        n.one(2, Action::Exit(early.clone())),
        Some(FailureCode::NotFrozen)
    );
    n.until_frozen();
    // Frozen: nothing more goes in or settles.
    assert_eq!(n.deposit(2, 10), Some(FailureCode::Frozen));
    assert_eq!(
        n.post(&[transfer(2, 1, 2, 1, 2)], 2),
        Some(FailureCode::Frozen)
    );
    let prior = n.s.rollup(0).unwrap().settled_output(0).unwrap().1.output;
    let propose = Action::ProposeOutput {
        rollup: 0,
        batch: 1,
        prior,
        output: Hash([7; 32]),
    };
    assert_eq!(n.one(4, propose), Some(FailureCode::Frozen));

    let escrow = n.header().escrow;
    assert_eq!(escrow, 10_000 + 4_000 + 700, "nothing was paid yet");
    // The settled withdrawal stays claimable.
    let claim = first_withdrawal(&l2, 0);
    assert_eq!(n.one(0, Action::FinalizeWithdrawal(claim)), None);
    assert_eq!(balance(&n.s, &key(6)), 3_000);

    // Refused exits: a balance the state does not hold, another key's signature, another state.
    let mut richer = exit(&l2, 1, 2, &key(2));
    richer.balance += 1;
    assert_eq!(
        n.one(2, Action::Exit(richer)),
        Some(FailureCode::BadAccountProof)
    );
    let stolen = exit(&l2, 1, 3, &key(3));
    assert_eq!(
        n.one(3, Action::Exit(stolen)),
        Some(FailureCode::BadExitSignature)
    );
    let mut other = exit(&l2, 1, 2, &key(2));
    other.state.next_deposit = 3;
    assert_eq!(
        n.one(2, Action::Exit(other)),
        Some(FailureCode::OutputMismatch)
    );

    // Every account exits once, with its settled balance (batch 1's transfer never settled); the
    // fee account too. Anyone may send an exit: the signature says where the funds go.
    let balances: Vec<u128> = l2.accounts().iter().map(|a| a.balance).collect();
    assert_eq!(
        balances,
        vec![2, 10_000 - 2_500 - 1, 4_000 + 2_500 - 3_000 - 1]
    );
    let before = balance(&n.s, &key(2));
    assert_eq!(n.one(0, Action::Exit(exit(&l2, 1, 2, &key(2)))), None);
    assert_eq!(balance(&n.s, &key(2)), before + balances[1]);
    assert_eq!(
        n.one(2, Action::Exit(exit(&l2, 1, 2, &key(2)))),
        Some(FailureCode::AlreadyExited),
        "a second exit by the same account is refused"
    );
    assert_eq!(n.one(3, Action::Exit(exit(&l2, 2, 3, &key(3)))), None);
    assert_eq!(n.one(1, Action::Exit(exit(&l2, 0, 1, &key(1)))), None);

    // Deposits: those the settled state consumed exit with their accounts; the rest are refunded.
    let refund = |index| Action::RefundDeposit {
        rollup: 0,
        index,
        state: settled,
    };
    assert_eq!(n.one(0, refund(0)), Some(FailureCode::DepositApplied));
    let before = balance(&n.s, &key(4));
    assert_eq!(n.one(0, refund(2)), None);
    assert_eq!(
        balance(&n.s, &key(4)),
        before + 700,
        "paid to its L1 sender"
    );
    assert_eq!(n.one(0, refund(2)), Some(FailureCode::AlreadyRefunded));
    assert_eq!(n.one(0, refund(3)), Some(FailureCode::UnknownDeposit));

    let h = n.header();
    assert_eq!(h.escrow, 0, "after every exit the escrow is exactly empty");
    assert_eq!((h.exit_count, h.refund_count, h.claim_count), (3, 1, 5));
}

#[test]
fn a_censored_deposit_is_forced_in_and_anyone_may_post_once_it_is_overdue() {
    let mut n = Net::new();
    let params = rollup_params();
    assert_eq!(n.one(0, Action::RegisterRollup { params }), None);
    assert_eq!(n.deposit(2, 10_000), None);
    let queued = n.s.head().height;
    // Before its deadline the sequencer may leave it queued, and only the sequencer posts.
    assert_eq!(n.post(&[], 0), None);
    assert_eq!(n.post_by(3, &[], 1), Some(FailureCode::NotSequencer));
    while n.s.head().height + 1 < queued + FORCE {
        n.empty();
    }
    // Overdue: a batch that leaves it out is refused, whoever posts it.
    assert_eq!(n.post(&[], 0), Some(FailureCode::OverdueSkipped));
    assert_eq!(n.post_by(3, &[], 0), Some(FailureCode::OverdueSkipped));
    // Anyone may now post the next batch; its range applies the deposit though its blob is empty.
    assert_eq!(n.post_by(3, &[], 1), None);
    let states = derived(&n);
    let l2 = states.last().unwrap();
    assert_eq!(l2.get(1).unwrap().balance, 10_000);
    assert_eq!(l2.get(1).unwrap().key, key(2).public());
}

/// The L2 state after each posted batch, derived from L1 data alone as every party does.
fn derived(n: &Net) -> Vec<L2State<P>> {
    let r = n.s.rollup(0).unwrap();
    let queue: Vec<DepositEntry<P>> = r.deposits.iter().map(|d| d.entry).collect();
    let mut l2 = L2State::genesis(rollup_params().l2_config(0), key(1).public());
    let (mut from, mut states) = (0, Vec::new());
    for b in &r.batches {
        let blob = n.s.blob(&b.data_hash).unwrap();
        let txs = basalt_l2::batch_trace_txs(
            basalt_l2::posted_batch_txs::<P>(&blob.data).0,
            from,
            b.deposits_end,
        );
        l2.apply_batch(&batch_deposits(&queue, b.deposits_end).unwrap(), &txs);
        from = b.deposits_end;
        states.push(l2.clone());
    }
    states
}

#[test]
fn a_censored_withdrawal_is_forced_in_and_paid_on_l1() {
    let mut n = Net::new();
    let params = rollup_params();
    assert_eq!(n.one(0, Action::RegisterRollup { params }), None);
    assert_eq!(n.deposit(2, 10_000), None);
    assert_eq!(n.post(&[L2Tx::Deposit { index: 0 }], 1), None);
    // What is not a signed transfer or withdrawal is refused at the door.
    let force = |tx: Vec<u8>| Action::ForceInclude {
        rollup: 0,
        key: key(2).public(),
        tx,
    };
    assert_eq!(
        n.one(2, force(vec![1, 2, 3])),
        Some(FailureCode::BadForcedTx)
    );
    let deposit = basalt_types::Encode::to_bytes(&L2Tx::<P>::Deposit { index: 0 });
    assert_eq!(n.one(2, force(deposit)), Some(FailureCode::BadForcedTx));
    // The user's withdrawal, which the sequencer refuses to sequence, goes in through the L1.
    let w = withdraw(2, 1, &key(2), 4_000, 0);
    let forged = Action::ForceInclude {
        rollup: 0,
        key: key(3).public(),
        tx: basalt_types::Encode::to_bytes(&w),
    };
    assert_eq!(
        n.one(2, forged),
        Some(FailureCode::BadForcedSignature),
        "a forced transaction is signed by the key it names"
    );
    assert_eq!(n.one(2, force(basalt_types::Encode::to_bytes(&w))), None);
    let queued = n.s.head().height;
    assert_eq!(n.header().deposit_count, 2, "queued like a deposit");
    assert_eq!(n.header().escrow, 10_000, "holding no funds");
    assert_eq!(n.post(&[], 1), None, "before its deadline it may wait");
    while n.s.head().height + 1 < queued + FORCE {
        n.empty();
    }
    assert_eq!(n.post(&[], 1), Some(FailureCode::OverdueSkipped));
    assert_eq!(n.post(&[], 2), None, "the censor must carry it");
    let states = derived(&n);
    let last = states.last().unwrap();
    assert_eq!(last.withdrawals().len(), 1);
    assert_eq!(last.get(1).unwrap().balance, 10_000 - 4_000 - 1);
    // Anyone proposes the outputs; they settle; the withdrawal is paid on L1.
    let mut prior = n.header().genesis_output;
    for (batch, s) in states.iter().enumerate() {
        let propose = Action::ProposeOutput {
            rollup: 0,
            batch: batch as u64,
            prior,
            output: s.output(),
        };
        assert_eq!(n.one(4, propose), None);
        prior = s.output();
    }
    while n.header().settled < states.len() as u64 {
        n.empty();
    }
    let claim = first_withdrawal(last, states.len() as u64 - 1);
    let before = balance(&n.s, &key(2));
    assert_eq!(n.one(0, Action::FinalizeWithdrawal(claim)), None);
    assert_eq!(balance(&n.s, &key(2)), before + 4_000, "paid on L1");
}

/// The claim of withdrawal 0 of `l2`, the state after batch `batch`.
fn first_withdrawal(l2: &L2State<P>, batch: u64) -> WithdrawalClaim {
    let c = l2.commitment();
    let (w, proof) = l2.withdrawal_proof(0).unwrap();
    WithdrawalClaim {
        rollup: 0,
        batch,
        state_root: c.state_root(),
        withdrawals_tree_root: c.withdrawals_tree_root,
        withdrawal_count: c.withdrawal_count,
        index: 0,
        recipient: w.recipient,
        amount: w.amount,
        proof: proof.siblings,
    }
}
