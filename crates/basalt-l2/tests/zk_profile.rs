//! The ZK profile through the shared STF: the same rules as the optimistic profile, with Poseidon
//! trees and commitments and EdDSA-Poseidon signatures.

use basalt_l2::{
    apply_posted, apply_tx, data_hash, decode_zk_batch, encode_zk_batch, Access, Account, Config,
    DepositEntry, DepositWindow, Effort, L2State, L2Tx, Outcome, PostedBatchError, PostedTx,
    Profile, SigCheck, TxFailure, Withdrawal, Zk,
};
use basalt_merkle::{PartialError, PoseidonHasher};
use basalt_types::zk::{BabyKeypair, BabySignature, Felt};
use basalt_types::{dev_keypair, Encode};

const CONFIG: Config = Config {
    rollup_id: 3,
    min_fee: 10,
};

fn key(i: u8) -> BabyKeypair {
    BabyKeypair::dev(&[b'k', i])
}

fn no_signature() -> BabySignature {
    key(0).sign(&Felt::ZERO)
}

fn transfer(from: u32, to: u32, amount: u128, fee: u128, nonce: u64) -> L2Tx<Zk> {
    L2Tx::Transfer {
        from,
        to,
        amount,
        fee,
        nonce,
        signature: no_signature(),
    }
}

/// Sequencer key 0; accounts 1 and 2 opened by deposits of 1,000 and 500.
fn funded() -> (L2State<Zk>, Vec<DepositEntry<Zk>>) {
    let mut s = L2State::<Zk>::genesis(CONFIG, key(0).public());
    let deposits: Vec<DepositEntry<Zk>> = [(1, 1_000), (2, 500)]
        .iter()
        .map(|(k, amount)| DepositEntry {
            forced: None,
            account: None,
            key: key(*k).public(),
            amount: *amount,
        })
        .collect();
    let window = DepositWindow {
        first: 0,
        entries: &deposits,
    };
    let outcomes = s.apply_batch(
        &window,
        &[L2Tx::Deposit { index: 0 }, L2Tx::Deposit { index: 1 }],
    );
    assert_eq!(outcomes, vec![Outcome::Applied; 2]);
    (s, deposits)
}

#[test]
fn the_zk_profile_applies_transfers_and_withdrawals_under_the_shared_rules() {
    let (mut s, deposits) = funded();
    let window = DepositWindow {
        first: 0,
        entries: &deposits,
    };
    let genesis_output = s.output();
    let recipient = dev_keypair("zk-profile", 1).public();
    let txs = vec![
        transfer(1, 2, 300, 10, 0).signed_zk(CONFIG.rollup_id, &key(1)),
        // Signed by the wrong key, for the wrong rollup, with a low fee, and with a stale nonce.
        transfer(1, 2, 1, 10, 1).signed_zk(CONFIG.rollup_id, &key(2)),
        transfer(1, 2, 1, 10, 1).signed_zk(CONFIG.rollup_id + 1, &key(1)),
        transfer(1, 2, 1, 9, 1).signed_zk(CONFIG.rollup_id, &key(1)),
        transfer(1, 2, 1, 10, 0).signed_zk(CONFIG.rollup_id, &key(1)),
        transfer(2, 1, 900, 10, 0).signed_zk(CONFIG.rollup_id, &key(2)),
        L2Tx::Withdraw {
            from: 2,
            recipient,
            amount: 700,
            fee: 10,
            nonce: 0,
            signature: no_signature(),
        }
        .signed_zk(CONFIG.rollup_id, &key(2)),
    ];
    let outcomes = s.apply_batch(&window, &txs);
    assert_eq!(
        outcomes,
        vec![
            Outcome::Applied,
            Outcome::Failed(TxFailure::BadSignature),
            Outcome::Failed(TxFailure::BadSignature),
            Outcome::Failed(TxFailure::FeeTooLow),
            Outcome::Failed(TxFailure::BadNonce {
                expected: 1,
                got: 0
            }),
            Outcome::Failed(TxFailure::InsufficientBalance),
            Outcome::Applied,
        ]
    );
    assert_eq!(s.get(1).unwrap().balance, 690);
    assert_eq!(s.get(2).unwrap().balance, 90);
    assert_eq!(s.get(0).unwrap().balance, 20);
    assert_eq!(s.withdrawals().len(), 1);
    assert_ne!(s.output(), genesis_output);

    // Every commitment is the Poseidon value the circuit will compute.
    let c = s.commitment();
    assert_eq!(
        c.output(),
        Zk::output(
            &Zk::state_root(&c.accounts_root, 3, 2),
            &Zk::withdrawals_root(&c.withdrawals_tree_root, 1)
        )
    );
    let (w, proof) = s.withdrawal_proof(0).unwrap();
    assert_eq!(proof.siblings.len(), 30);
    assert!(proof.verify::<PoseidonHasher>(&c.withdrawals_tree_root, w.leaf::<Zk>()));

    // Replaying the state from scratch gives the same output.
    let (mut again, _) = funded();
    again.apply_batch(&window, &txs);
    assert_eq!(again.output(), s.output());
}

#[test]
fn zk_transactions_round_trip_through_their_encoding() {
    let tx = transfer(1, 2, 300, 10, 0).signed_zk(CONFIG.rollup_id, &key(1));
    assert_eq!(L2Tx::<Zk>::decode_untrusted(&tx.to_bytes()).unwrap(), tx);
    let s = L2State::<Zk>::genesis(CONFIG, key(0).public());
    assert!(s.get(0).is_some());
}

/// A state that is full: as many accounts and withdrawals as the ZK trees hold.
struct Full {
    account: Account<Zk>,
    next_deposit: u64,
}

impl Access<Zk> for Full {
    fn account_count(&self) -> u32 {
        Zk::tree_capacity() as u32
    }
    fn account(&mut self, _: u32) -> Result<Account<Zk>, PartialError> {
        Ok(self.account)
    }
    fn set_account(&mut self, _: u32, account: Account<Zk>) -> Result<(), PartialError> {
        self.account = account;
        Ok(())
    }
    fn next_deposit(&self) -> u64 {
        self.next_deposit
    }
    fn set_next_deposit(&mut self, next: u64) {
        self.next_deposit = next;
    }
    fn withdrawal_count(&self) -> u64 {
        Zk::tree_capacity()
    }
    fn push_withdrawal(&mut self, _: Withdrawal) -> Result<(), PartialError> {
        panic!("a full withdrawals tree took a withdrawal")
    }
}

#[test]
fn a_zk_rollup_refuses_accounts_and_withdrawals_past_its_trees() {
    assert_eq!(Zk::tree_capacity(), 1 << 20);
    let mut account = Account::new(key(1).public());
    account.balance = 1_000;
    let mut full = Full {
        account,
        next_deposit: 0,
    };
    let deposits = vec![DepositEntry {
        forced: None,
        account: None,
        key: key(2).public(),
        amount: 5,
    }];
    let window = DepositWindow {
        first: 0,
        entries: &deposits,
    };
    let deposit = L2Tx::Deposit { index: 0 };
    assert_eq!(
        apply_tx(&CONFIG, &mut full, &window, &deposit, SigCheck::Verify).unwrap(),
        Outcome::Failed(TxFailure::AccountsFull)
    );
    // The deposit is consumed all the same (its funds stay escrowed on L1).
    assert_eq!(full.next_deposit, 1);
    let withdraw = L2Tx::Withdraw {
        from: 5,
        recipient: dev_keypair("zk-profile", 1).public(),
        amount: 10,
        fee: 10,
        nonce: 0,
        signature: no_signature(),
    }
    .signed_zk(CONFIG.rollup_id, &key(1));
    assert_eq!(
        apply_tx(&CONFIG, &mut full, &window, &withdraw, SigCheck::Verify).unwrap(),
        Outcome::Failed(TxFailure::WithdrawalsFull)
    );
}

#[test]
fn a_verifier_replays_a_posted_zk_batch_from_l1_data_alone() {
    let (sequencer_start, deposits) = funded();
    let window = DepositWindow {
        first: 0,
        entries: &deposits,
    };
    let recipient = dev_keypair("zk-profile", 2).public();
    let txs = vec![
        transfer(1, 2, 100, 10, 0).signed_zk(CONFIG.rollup_id, &key(1)),
        transfer(1, 1, 50, 10, 1).signed_zk(CONFIG.rollup_id, &key(1)),
        transfer(2, 1, 20, 10, 0).signed_zk(CONFIG.rollup_id, &key(2)),
        L2Tx::Withdraw {
            from: 1,
            recipient,
            amount: 30,
            fee: 10,
            nonce: 2,
            signature: no_signature(),
        }
        .signed_zk(CONFIG.rollup_id, &key(1)),
    ];
    let mut sequencer = sequencer_start.clone();
    assert!(sequencer
        .apply_batch(&window, &txs)
        .iter()
        .all(|o| *o == Outcome::Applied));
    let posted: Vec<PostedTx> = txs.iter().map(PostedTx::from).collect();
    let blob = encode_zk_batch(&posted, Effort::Best);
    let mut verifier = sequencer_start.clone();
    apply_posted(&mut verifier, &window, &decode_zk_batch(&blob).unwrap()).unwrap();
    assert_eq!(verifier.output(), sequencer.output());

    // A posted transfer the sender cannot pay makes the batch unprovable.
    let mut bad = posted.clone();
    bad.push(PostedTx::Transfer {
        from: 2,
        to: 1,
        amount: 10_000,
        fee: 10,
    });
    let mut verifier = sequencer_start;
    assert_eq!(
        apply_posted(&mut verifier, &window, &bad),
        Err(PostedBatchError::Fails {
            index: 4,
            failure: TxFailure::InsufficientBalance
        })
    );
}

#[test]
fn the_data_hash_binds_every_posted_field_and_every_consumed_deposit() {
    let (_, deposits) = funded();
    let window = DepositWindow {
        first: 0,
        entries: &deposits,
    };
    let base = vec![
        PostedTx::Deposit,
        PostedTx::Transfer {
            from: 1,
            to: 2,
            amount: 5,
            fee: 10,
        },
        PostedTx::Withdraw {
            from: 2,
            recipient: dev_keypair("zk-profile", 3).public(),
            amount: 7,
            fee: 10,
        },
    ];
    let h = data_hash(&CONFIG, &base, &window, 0).unwrap();
    let variants = [
        vec![base[1], base[0], base[2]],
        vec![
            base[0],
            PostedTx::Transfer {
                from: 1,
                to: 2,
                amount: 6,
                fee: 10,
            },
            base[2],
        ],
        vec![
            base[0],
            PostedTx::Transfer {
                from: 1,
                to: 2,
                amount: 5,
                fee: 11,
            },
            base[2],
        ],
        vec![
            base[0],
            PostedTx::Transfer {
                from: 2,
                to: 1,
                amount: 5,
                fee: 10,
            },
            base[2],
        ],
        vec![
            base[0],
            base[1],
            PostedTx::Withdraw {
                from: 2,
                recipient: dev_keypair("zk-profile", 4).public(),
                amount: 7,
                fee: 10,
            },
        ],
        base[..2].to_vec(),
    ];
    for v in &variants {
        assert_ne!(data_hash(&CONFIG, v, &window, 0).unwrap(), h, "{v:?}");
    }
    // The same posted data for another rollup, or under another minimum fee, is another hash.
    let other = |rollup_id, min_fee| Config { rollup_id, min_fee };
    let cfg = CONFIG;
    for c in [
        other(cfg.rollup_id + 1, cfg.min_fee),
        other(cfg.rollup_id, cfg.min_fee + 1),
    ] {
        assert_ne!(data_hash(&c, &base, &window, 0).unwrap(), h);
    }
    // The same posted data over another deposit is another hash.
    assert_ne!(data_hash(&CONFIG, &base, &window, 1).unwrap(), h);
    assert_eq!(
        data_hash(&CONFIG, &base, &window, 2),
        Err(PostedBatchError::MissingDeposit(2))
    );
}
