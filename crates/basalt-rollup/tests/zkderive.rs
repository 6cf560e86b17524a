//! A ZK rollup's state derived from L1 data alone: posted batches replayed without signatures,
//! each batch's data hash (its proof's public input) checked against the one the L1 recorded,
//! each settled output checked against the derivation, and a batch no proof can exist for
//! reverted (settled as a no-op, its deposits returned to the queue) so that derivation goes on.

use basalt_l1::felt_hash;
use basalt_l2::{
    data_hash, encode_zk_batch, unchecked_signature, Config, DepositEntry, DepositWindow, Effort,
    L2State, L2Tx, PostedTx, Zk,
};
use basalt_rollup::{ZkDerivation, ZkDeriveError};
use basalt_types::zk::BabyKeypair;
use basalt_types::{Hash, PublicKey};

const CONFIG: Config = Config {
    rollup_id: 3,
    min_fee: 1,
};

fn alice() -> BabyKeypair {
    BabyKeypair::dev(b"zkderive-test/alice")
}

fn fee_key() -> BabyKeypair {
    BabyKeypair::dev(b"zkderive-test/fees")
}

fn deposit(amount: u128) -> DepositEntry<Zk> {
    DepositEntry {
        forced: None,
        account: None,
        key: alice().public(),
        amount,
    }
}

fn withdraw(from: u32, amount: u128, nonce: u64) -> L2Tx<Zk> {
    L2Tx::Withdraw {
        from,
        recipient: PublicKey([7; 32]),
        amount,
        fee: 1,
        nonce,
        signature: unchecked_signature(),
    }
    .signed_zk(CONFIG.rollup_id, &alice())
}

fn transfer(from: u32, to: u32, amount: u128, nonce: u64) -> L2Tx<Zk> {
    L2Tx::Transfer {
        from,
        to,
        amount,
        fee: 1,
        nonce,
        signature: unchecked_signature(),
    }
    .signed_zk(CONFIG.rollup_id, &alice())
}

/// What the L1 holds of the rollup: its deposit queue, where the batches consumed it up to, and
/// the state an honest prover reaches (the signed transactions applied natively).
struct L1 {
    queue: Vec<DepositEntry<Zk>>,
    deposits_end: u64,
    proven: L2State<Zk>,
}

impl L1 {
    fn new() -> Self {
        L1 {
            queue: Vec::new(),
            deposits_end: 0,
            proven: L2State::genesis(CONFIG, fee_key().public()),
        }
    }

    /// Posts `txs` as the L1 records a ZK batch: its blob, its deposit range end and its data
    /// hash (computed by the L1 from the blob and its queue).
    fn post(&mut self, txs: &[L2Tx<Zk>]) -> (Vec<u8>, u64, Hash) {
        let posted: Vec<PostedTx> = txs.iter().map(PostedTx::from).collect();
        let window = DepositWindow {
            first: 0,
            entries: &self.queue,
        };
        let hash = felt_hash(data_hash(&CONFIG, &posted, &window, self.deposits_end).unwrap());
        let consumed = posted.iter().filter(|p| **p == PostedTx::Deposit).count() as u64;
        self.deposits_end += consumed;
        (
            encode_zk_batch(&posted, Effort::Fast),
            self.deposits_end,
            hash,
        )
    }

    /// The output a proof of `txs` settles (the native STF on the signed transactions).
    fn prove(&mut self, txs: &[L2Tx<Zk>]) -> Hash {
        let window = DepositWindow {
            first: 0,
            entries: &self.queue,
        };
        self.proven.apply_batch(&window, txs);
        felt_hash(self.proven.output())
    }
}

fn derivation(l1: &L1) -> ZkDerivation {
    let mut d = ZkDerivation::new(CONFIG, fee_key().public());
    d.add_deposits(l1.queue.iter().copied());
    d
}

#[test]
fn a_proven_batch_settles_and_its_withdrawal_is_claimable() {
    let mut l1 = L1::new();
    l1.queue.push(deposit(1_000));
    let txs = [
        L2Tx::Deposit { index: 0 },
        transfer(1, 0, 10, 0),
        withdraw(1, 400, 1),
    ];
    let (blob, end, hash) = l1.post(&txs);
    let mut d = derivation(&l1);
    d.apply_batch(&blob, end, &hash).unwrap();
    assert_eq!(d.batches(), 1);
    assert_eq!(d.txs_in_first(1), 3);
    assert_eq!(d.batch_of(2), Some(0));
    assert_eq!(d.batch_of(3), None);
    assert!(
        d.withdrawal_claim(3, 0).is_none(),
        "nothing is claimable before the proof"
    );
    let output = l1.prove(&txs);
    assert_eq!(d.output(0).map(felt_hash), Some(output), "derived = proven");
    d.settle(0, &output).unwrap();
    assert_eq!(d.settled_batches(), 1);
    assert_eq!(d.settled_state().get(1).unwrap().balance, 1_000 - 11 - 401);
    let claim = d.withdrawal_claim(3, 0).expect("claimable once proven");
    assert_eq!(
        (claim.batch, claim.amount, claim.recipient),
        (0, 400, PublicKey([7; 32]))
    );
    assert_eq!(
        claim.state_root,
        felt_hash(l1.proven.commitment().state_root())
    );
    assert!(d.withdrawal_claim(3, 1).is_none(), "no second withdrawal");
}

#[test]
fn a_data_hash_the_l1_recorded_wrongly_is_caught() {
    let mut l1 = L1::new();
    l1.queue.push(deposit(1_000));
    let (blob, end, mut hash) = l1.post(&[L2Tx::Deposit { index: 0 }]);
    hash.0[31] ^= 1;
    let mut d = derivation(&l1);
    assert!(matches!(
        d.apply_batch(&blob, end, &hash),
        Err(ZkDeriveError::DataHash { batch: 0, .. })
    ));
    assert_eq!(d.batches(), 0, "the batch was not taken");
}

#[test]
fn a_settled_output_its_data_does_not_lead_to_is_caught() {
    let mut l1 = L1::new();
    l1.queue.push(deposit(1_000));
    let txs = [L2Tx::Deposit { index: 0 }, withdraw(1, 400, 0)];
    let (blob, end, hash) = l1.post(&txs);
    let mut d = derivation(&l1);
    d.apply_batch(&blob, end, &hash).unwrap();
    let mut forged = l1.prove(&txs);
    forged.0[31] ^= 1;
    assert!(matches!(
        d.settle(0, &forged),
        Err(ZkDeriveError::Settled { batch: 0, .. })
    ));
    assert_eq!(d.settled_batches(), 0);
    assert!(d.withdrawal_claim(3, 0).is_none());
}

#[test]
fn a_batch_that_consumes_deposits_not_fetched_waits() {
    let mut l1 = L1::new();
    l1.queue.push(deposit(1_000));
    let (blob, end, hash) = l1.post(&[L2Tx::Deposit { index: 0 }]);
    let mut d = ZkDerivation::new(CONFIG, fee_key().public());
    assert!(matches!(
        d.apply_batch(&blob, end, &hash),
        Err(ZkDeriveError::MissingDeposits {
            end: 1,
            known: 0,
            ..
        })
    ));
    d.add_deposits(l1.queue.iter().copied());
    d.apply_batch(&blob, end, &hash).unwrap();
}

#[test]
fn a_reverted_batch_returns_its_deposits_and_derivation_goes_on() {
    let mut l1 = L1::new();
    l1.queue.extend([deposit(1_000), deposit(500)]);
    // Batch 0 is valid; batch 1 applies deposit 1 then a transfer from an account that does not
    // exist: no proof can exist for it.
    let first = [L2Tx::Deposit { index: 0 }];
    let (b0, e0, h0) = l1.post(&first);
    let bad = [L2Tx::Deposit { index: 1 }, transfer(9, 0, 1, 0)];
    let (b1, e1, h1) = l1.post(&bad);
    let mut d = derivation(&l1);
    d.apply_batch(&b0, e0, &h0).unwrap();
    d.apply_batch(&b1, e1, &h1).unwrap();
    assert_eq!(d.stuck().map(|(batch, _)| batch), Some(1));
    let out0 = l1.prove(&first);
    d.settle(0, &out0).unwrap();
    // The L1 reverts batch 1: settled on the output before it; its deposit returns to the queue.
    d.settle(1, &out0).unwrap();
    l1.deposits_end = e0;
    assert_eq!((d.reverted(), d.stuck()), (1, None));
    assert_eq!(
        d.output(1).map(felt_hash),
        Some(out0),
        "a revert changes nothing"
    );
    // The next batch applies deposit 1 again, from the settled state.
    let next = [L2Tx::Deposit { index: 1 }, withdraw(2, 100, 0)];
    let (b2, e2, h2) = l1.post(&next);
    assert_eq!(e2, 2);
    d.apply_batch(&b2, e2, &h2).unwrap();
    let out2 = l1.prove(&next);
    assert_eq!(d.output(2).map(felt_hash), Some(out2));
    d.settle(2, &out2).unwrap();
    assert_eq!(d.settled_state().get(2).unwrap().balance, 500 - 101);
    assert_eq!(d.withdrawal_claim(3, 0).unwrap().amount, 100);
}

#[test]
fn an_undecodable_blob_the_l1_accepted_is_caught() {
    let l1 = L1::new();
    let mut d = derivation(&l1);
    assert!(matches!(
        d.apply_batch(b"not a batch", 0, &Hash::ZERO),
        Err(ZkDeriveError::Undecodable { batch: 0, .. })
    ));
}

#[test]
fn a_batch_of_several_deposits_and_transfers_derives_as_the_prover_proves() {
    let mut l1 = L1::new();
    l1.queue
        .extend([deposit(1_000), deposit(500), deposit(200)]);
    // Deposits after other transactions in the same batch: each reads the queue position the
    // batch has reached, not a committed one.
    let txs = [
        L2Tx::Deposit { index: 0 },
        L2Tx::Deposit { index: 1 },
        transfer(1, 2, 10, 0),
        L2Tx::Deposit { index: 2 },
        withdraw(2, 100, 0),
    ];
    let (blob, end, hash) = l1.post(&txs);
    let mut d = derivation(&l1);
    d.apply_batch(&blob, end, &hash).unwrap();
    assert_eq!(d.stuck(), None);
    let output = l1.prove(&txs);
    assert_eq!(d.output(0).map(felt_hash), Some(output));
    d.settle(0, &output).unwrap();
    assert_eq!(d.settled_state().get(3).unwrap().balance, 200);
}
