//! Validity-proof settlement on the L1: a real Groth16 proof of a posted ZK batch settles it at
//! once and makes its withdrawals payable in the same block; every forged, tampered or misplaced
//! proof is refused with no state change; a batch no proof can exist for is reverted, freeing the
//! deposits it consumed. The keys are the insecure development setup (devnet only).

#[path = "../common/mod.rs"]
mod common;
mod escape;

use basalt_l1::*;
use basalt_l2::{
    encode_zk_batch, unchecked_signature, DepositWindow, Effort, L2State, L2Tx, PostedTx, Zk,
};
use basalt_types::zk::BabyKeypair;
use basalt_types::{Decode, Encode, Hash, PublicKey};
use basalt_zk::batch::BatchWitness;
use common::*;

/// Slots of the test circuit: a deposit and a withdrawal fit.
const SLOTS: usize = 2;
const ID: u32 = 0;

fn alice() -> BabyKeypair {
    BabyKeypair::dev(b"l1-zk-test/alice")
}

fn fee_key() -> BabyKeypair {
    BabyKeypair::dev(b"l1-zk-test/fees")
}

/// The test circuit's development keys (insecure: devnet only), set up once and cached for the
/// other tests.
fn keys() -> basalt_zk::Keys {
    basalt_zk::keys::KeyCache::new(env!("CARGO_TARGET_TMPDIR"))
        .load_or_setup(SLOTS, |_| {})
        .expect("setup")
}

/// Key 0 registers, key 1 sequences, key 2 deposits and is paid, key 3 proves.
fn zk_params(keys: &basalt_zk::Keys) -> RollupParams {
    RollupParams {
        name: "gamma".into(),
        kind: RollupKind::Zk(ZkParams {
            fee_key: fee_key().public(),
            slots: SLOTS as u32,
            verifying_key: basalt_zk::verifying_key_bytes(&keys.verifying),
        }),
        sequencer: key(1).public(),
        challenge_window: 5,
        proposer_bond: 1,
        min_fee: 1,
        clock_extension: 4,
        dispute_bond: 1,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    }
}

/// A chain with room for proofs: large blocks, rich accounts, long retention.
struct Net {
    s: L1State,
    nonces: [u64; 8],
    keys: basalt_zk::Keys,
    prover: basalt_zk::Prover,
    /// The L2 state after the settled batches, as the prover keeps it.
    l2: L2State<Zk>,
    /// The fee the last transaction paid.
    last_fee: u128,
}

impl Net {
    fn new() -> Self {
        Self::with(|_| {})
    }

    /// A chain whose rollup registers with `params` changed by `change`.
    fn with(change: impl FnOnce(&mut RollupParams)) -> Self {
        let mut g = genesis();
        g.params.block_gas_limit = 100_000_000;
        g.params.block_gas_target = 50_000_000;
        g.params.blob_retention_blocks = 1_000;
        for a in &mut g.accounts {
            a.balance = 10u128.pow(15);
        }
        let (s, _) = L1State::genesis(&g).unwrap();
        let keys = keys();
        let mut params = zk_params(&keys);
        change(&mut params);
        let l2 = L2State::genesis(params.l2_config(ID), fee_key().public());
        let prover = basalt_zk::batch::batch_prover(keys.proving.clone(), SLOTS).unwrap();
        let mut net = Net {
            s,
            nonces: [0; 8],
            keys,
            prover,
            l2,
            last_fee: 0,
        };
        net.ok(0, Action::RegisterRollup { params });
        net
    }

    /// Runs one action of `who` in its own block; returns its failure, if any.
    fn run(&mut self, who: u64, action: Action) -> Option<FailureCode> {
        let limit = match &action {
            Action::PostBatch { .. } => gas::zk_post_limit(&action),
            _ => gas::known_limit(&action).unwrap_or(action.intrinsic_gas() + 140_000),
        };
        let t = tx_with_gas(&key(who), self.nonces[who as usize], limit, action);
        self.nonces[who as usize] += 1;
        let (exec, results) = step(&mut self.s, vec![t]);
        results[0].clone().expect("the transaction is valid");
        self.last_fee = exec.diff.receipts[0].fee_paid;
        exec.diff.receipts[0].failure
    }

    fn ok(&mut self, who: u64, action: Action) {
        assert_eq!(self.run(who, action), None);
    }

    fn header(&self) -> RollupHeader {
        self.s.rollup(ID).unwrap().header.clone()
    }

    /// Runs `action`, which must fail with `code`, and checks that the rollup did not change.
    fn refused(&mut self, who: u64, action: Action, code: FailureCode) {
        let before = self.header();
        assert_eq!(self.run(who, action), Some(code));
        assert_eq!(self.header(), before, "a refused action changed the rollup");
    }

    fn deposit(&mut self, amount: u128) {
        let key = PublicKey(alice().public().to_bytes().try_into().unwrap());
        self.ok(
            2,
            Action::Deposit {
                rollup: ID,
                account: None,
                key,
                amount,
            },
        );
    }

    fn post(&mut self, txs: &[PostedTx]) -> Option<FailureCode> {
        self.post_by(1, txs)
    }

    fn post_by(&mut self, who: u64, txs: &[PostedTx]) -> Option<FailureCode> {
        let action = post_action(self, txs);
        self.run(who, action)
    }

    /// The L2 queue as the prover reads it from L1.
    fn queue(&self) -> Vec<basalt_l2::DepositEntry<Zk>> {
        self.s
            .rollup(ID)
            .unwrap()
            .deposits
            .iter()
            .map(|d| basalt_l2::DepositEntry {
                forced: d.zk_forced,
                account: d.entry.account,
                key: zk_key(&d.entry.key).unwrap(),
                amount: d.entry.amount,
            })
            .collect()
    }

    /// A proof of `txs` on the prover's state, with the new output; the state advances.
    fn prove(&mut self, txs: &[L2Tx<Zk>]) -> (Hash, Vec<u8>) {
        let q = self.queue();
        let window = DepositWindow {
            first: 0,
            entries: &q,
        };
        let witness = BatchWitness::build(&self.l2, &window, txs, SLOTS).expect("witness");
        let output = felt_hash(witness.new_output);
        let proof = basalt_zk::batch::prove_batch(&self.prover, witness).expect("prove");
        self.l2.apply_batch(&window, txs);
        (output, proof)
    }

    fn prove_action(batch: u64, output: Hash, proof: Vec<u8>) -> Action {
        Action::ProveBatch {
            rollup: ID,
            batch,
            output,
            proof,
        }
    }
}

/// Alice's deposit and her withdrawal of `amount` to key 2's L1 account.
fn deposit_and_withdraw(amount: u128) -> Vec<L2Tx<Zk>> {
    vec![
        L2Tx::Deposit { index: 0 },
        L2Tx::Withdraw {
            from: 1,
            recipient: key(2).public(),
            amount,
            fee: 1,
            nonce: 0,
            signature: unchecked_signature(),
        }
        .signed_zk(ID, &alice()),
    ]
}

fn posted(txs: &[L2Tx<Zk>]) -> Vec<PostedTx> {
    txs.iter().map(PostedTx::from).collect()
}

fn claim(net: &Net, batch: u64, index: u32) -> WithdrawalClaim {
    let l2 = &net.l2;
    let c = l2.commitment();
    let (w, proof) = l2.withdrawal_proof(index).unwrap();
    WithdrawalClaim {
        rollup: ID,
        batch,
        state_root: felt_hash(c.state_root()),
        withdrawals_tree_root: felt_hash(c.withdrawals_tree_root),
        withdrawal_count: c.withdrawal_count,
        index: index as u64,
        recipient: w.recipient,
        amount: w.amount,
        proof: proof.siblings.into_iter().map(felt_hash).collect(),
    }
}

#[test]
fn a_valid_proof_settles_at_once_and_its_withdrawal_is_paid_once() {
    let mut net = Net::new();
    net.deposit(1_000);
    let txs = deposit_and_withdraw(400);
    assert_eq!(net.post(&posted(&txs)), None);
    let (output, proof) = net.prove(&txs);
    net.ok(3, Net::prove_action(0, output, proof));
    let h = net.header();
    assert_eq!(h.settled, 1, "the proof settled the batch in its block");
    assert_eq!(
        net.s
            .rollup(ID)
            .unwrap()
            .settled_output(0)
            .unwrap()
            .1
            .output,
        output
    );
    let before = balance(&net.s, &key(2));
    let c = claim(&net, 0, 0);
    net.ok(2, Action::FinalizeWithdrawal(c.clone()));
    // Paid 400, less the fee of the claim itself.
    assert_eq!(balance(&net.s, &key(2)), before + 400 - net.last_fee);
    assert_eq!(
        net.header().escrow,
        600,
        "the escrow holds what the L2 still owes"
    );
    net.refused(
        2,
        Action::FinalizeWithdrawal(c),
        FailureCode::AlreadyClaimed,
    );
}

#[test]
fn every_mutated_byte_of_a_proof_is_refused() {
    let mut net = Net::new();
    net.deposit(1_000);
    let txs = deposit_and_withdraw(400);
    net.post(&posted(&txs));
    let (output, proof) = net.prove(&txs);
    for i in 0..proof.len() {
        let mut bad = proof.clone();
        bad[i] ^= 1 << (i % 8);
        net.refused(3, Net::prove_action(0, output, bad), FailureCode::BadProof);
    }
    let mut short = proof.clone();
    short.pop();
    net.refused(
        3,
        Net::prove_action(0, output, short),
        FailureCode::BadProof,
    );
    net.ok(3, Net::prove_action(0, output, proof));
}

#[test]
fn a_proof_for_other_public_inputs_is_refused() {
    let mut net = Net::new();
    net.deposit(1_000);
    let txs = deposit_and_withdraw(400);
    net.post(&posted(&txs));
    let (output, proof) = net.prove(&txs);
    // Another output: the proof binds the one it was made for.
    let mut other = output;
    other.0[31] ^= 1;
    net.refused(
        3,
        Net::prove_action(0, other, proof.clone()),
        FailureCode::BadProof,
    );
    // Not a field element at all.
    net.refused(
        3,
        Net::prove_action(0, Hash([0xff; 32]), proof.clone()),
        FailureCode::NotAFieldElement,
    );
    // A batch not posted, and the settled one.
    net.refused(
        3,
        Net::prove_action(1, output, proof.clone()),
        FailureCode::BatchNotPosted,
    );
    net.ok(3, Net::prove_action(0, output, proof.clone()));
    net.refused(
        3,
        Net::prove_action(0, output, proof),
        FailureCode::AlreadySettled,
    );
}

#[test]
fn a_proof_of_other_data_than_was_posted_is_refused() {
    let mut net = Net::new();
    net.deposit(1_000);
    let txs = deposit_and_withdraw(400);
    // The sequencer posts a withdrawal of 300; the proof is of one of 400.
    let mut data = posted(&txs);
    if let PostedTx::Withdraw { amount, .. } = &mut data[1] {
        *amount = 300;
    }
    net.post(&data);
    let (output, proof) = net.prove(&txs);
    net.refused(
        3,
        Net::prove_action(0, output, proof),
        FailureCode::BadProof,
    );
}

#[test]
fn an_unprovable_batch_is_reverted_and_its_deposit_returns_to_the_queue() {
    let mut net = Net::new();
    net.deposit(1_000);
    // An overdraft: no proof can exist for this batch.
    let bad = deposit_and_withdraw(5_000);
    assert_eq!(net.post(&posted(&bad)), None);
    assert_eq!(net.header().deposits_end, 1);
    // Only the sequencer may revert, and only from the first unsettled batch.
    net.refused(
        3,
        Action::RevertBatches {
            rollup: ID,
            from: 0,
        },
        FailureCode::NotSequencer,
    );
    net.refused(
        1,
        Action::RevertBatches {
            rollup: ID,
            from: 1,
        },
        FailureCode::ProveInOrder,
    );
    net.ok(
        1,
        Action::RevertBatches {
            rollup: ID,
            from: 0,
        },
    );
    let h = net.header();
    assert_eq!((h.settled, h.batch_count, h.deposits_end), (1, 1, 0));
    let reverted = *net.s.rollup(ID).unwrap().settled_output(0).unwrap().1;
    assert_eq!(
        reverted.output, reverted.prior,
        "a reverted batch settles as a no-op"
    );
    // The same deposit, in a good batch, proven on the unchanged state.
    let good = deposit_and_withdraw(400);
    assert_eq!(net.post(&posted(&good)), None);
    let (output, proof) = net.prove(&good);
    net.ok(3, Net::prove_action(1, output, proof));
    let c = claim(&net, 1, 0);
    net.ok(2, Action::FinalizeWithdrawal(c));
    assert_eq!(net.header().escrow, 600);
}

#[test]
fn data_no_proof_could_cover_is_refused_at_its_post() {
    let mut net = Net::new();
    net.deposit(1_000);
    let h = net.header();
    // A deposit that is not queued.
    assert_eq!(
        net.post(&[PostedTx::Deposit, PostedTx::Deposit]),
        Some(FailureCode::BadDepositRange)
    );
    // More transactions than the circuit has slots.
    let three = vec![PostedTx::Deposit; 3];
    assert_eq!(net.post(&three), Some(FailureCode::TooManyTxs));
    // Bytes that are no ZK batch (an optimistic batch's).
    let data = basalt_l2::encode_batch::<basalt_l2::Optimistic>(&[L2Tx::Deposit { index: 0 }]);
    let action = Action::PostBatch {
        rollup: ID,
        index: 0,
        data_hash: blob_hash(&data),
        data,
        deposits_end: 1,
        max_fee_per_blob_byte: 100,
    };
    net.refused(1, action, FailureCode::Unprovable);
    assert_eq!(net.header(), h);
}

#[test]
fn a_deposit_to_a_key_off_the_curve_is_refused() {
    let mut net = Net::new();
    let action = Action::Deposit {
        rollup: ID,
        account: None,
        key: key(2).public(),
        amount: 10,
    };
    net.refused(2, action, FailureCode::BadL2Key);
}

#[test]
fn outputs_of_a_zk_rollup_are_never_proposed() {
    let mut net = Net::new();
    net.deposit(1_000);
    net.post(&[PostedTx::Deposit]);
    let prior = net.header().genesis_output;
    let action = Action::ProposeOutput {
        rollup: ID,
        batch: 0,
        prior,
        output: prior,
    };
    net.refused(4, action, FailureCode::NotOptimistic);
}

#[test]
fn a_bad_verifying_key_is_refused_at_registration() {
    let mut net = Net::new();
    let mut params = zk_params(&net.keys);
    params.name = "delta".into();
    if let RollupKind::Zk(z) = &mut params.kind {
        z.verifying_key[40] ^= 1;
    }
    assert_eq!(
        net.run(
            0,
            Action::RegisterRollup {
                params: params.clone()
            }
        ),
        Some(FailureCode::BadRollupParams)
    );
    // Params round-trip through their encoding, key and all.
    let good = zk_params(&net.keys);
    assert_eq!(RollupParams::from_bytes(&good.to_bytes()).unwrap(), good);
}

/// The post of `txs` as the next batch, consuming its deposits in queue order.
pub(crate) fn post_action(net: &Net, txs: &[PostedTx]) -> Action {
    let h = net.header();
    let data = encode_zk_batch(txs, Effort::Fast);
    let deposits = txs.iter().filter(|t| **t == PostedTx::Deposit).count() as u64;
    Action::PostBatch {
        rollup: ID,
        index: h.batch_count,
        data_hash: blob_hash(&data),
        data,
        deposits_end: h.deposits_end + deposits,
        max_fee_per_blob_byte: 100,
    }
}
