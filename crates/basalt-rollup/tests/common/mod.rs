//! The harness the rollup tests share: an in-process L1 state machine driven block by block (every
//! block built, then verified as a peer would, then applied), dev keys and L2 transaction builders.

#![allow(dead_code)]

use basalt_l1::{
    verify_block, Action, BlockBuilder, Genesis, GenesisAccount, GenesisValidator, L1State, Params,
    Receipt, RollupKind, RollupParams, SignedTransaction, StateView, Transaction,
};
use basalt_l2::{DepositEntry, L2Tx, Optimistic};
use basalt_types::{dev_keypair, Keypair, Signature};

pub type P = Optimistic;
pub const CHAIN: u64 = 99;
pub const WINDOW: u64 = 4;

pub fn key(n: u64) -> Keypair {
    dev_keypair("rollup-test", n)
}

/// Key 0 registers and claims, key 1 sequences, key 2 proposes, keys 3.. use the rollup.
pub fn genesis() -> Genesis {
    Genesis {
        chain_id: CHAIN,
        timestamp_ms: 1_000,
        params: Params {
            initial_base_fee: 10,
            min_base_fee: 1,
            initial_blob_base_fee: 1,
            ..Params::default()
        },
        accounts: (0..8)
            .map(|i| GenesisAccount {
                key: key(i).public(),
                balance: 1_000_000_000_000,
            })
            .collect(),
        validators: vec![GenesisValidator {
            key: key(100).public(),
            stake: Params::default().min_stake,
        }],
    }
}

pub struct L1 {
    pub s: L1State,
    pub nonces: [u64; 8],
}

impl L1 {
    pub fn new() -> Self {
        L1 {
            s: L1State::genesis(&genesis()).unwrap().0,
            nonces: [0; 8],
        }
    }

    /// One L1 block of these actions, each of which must take effect.
    pub fn block(&mut self, actions: Vec<(u64, Action)>) {
        for r in self.try_block(actions) {
            assert!(r.success, "{:?}", r.error);
        }
    }

    /// One L1 block of these actions; their receipts (an action may fail).
    pub fn try_block(&mut self, actions: Vec<(u64, Action)>) -> Vec<Receipt> {
        let txs: Vec<SignedTransaction> = actions
            .into_iter()
            .map(|(who, action)| {
                let n = self.nonces[who as usize];
                self.nonces[who as usize] += 1;
                Transaction {
                    chain_id: CHAIN,
                    nonce: n,
                    max_fee_per_gas: 1_000,
                    priority_fee_per_gas: 1,
                    action,
                }
                .sign(&key(who))
            })
            .collect();
        let view = StateView::new(&self.s, vec![]);
        let mut b = BlockBuilder::new(&view);
        for t in &txs {
            b.apply(&t.clone().verify().unwrap()).unwrap();
        }
        let exec = b
            .finish(self.s.head().timestamp_ms + 200, self.s.committee()[0])
            .unwrap();
        let checked = verify_block(&view, &exec.block).unwrap();
        drop(view);
        self.s.apply(&checked.diff);
        checked.diff.receipts
    }

    pub fn deposits(&self, from: u64) -> Vec<DepositEntry<P>> {
        self.s.rollup(0).unwrap().deposits[from as usize..]
            .iter()
            .map(|d| d.entry)
            .collect()
    }
}

pub fn params() -> RollupParams {
    RollupParams {
        name: "alpha".into(),
        kind: RollupKind::Optimistic,
        sequencer: key(1).public(),
        challenge_window: WINDOW,
        proposer_bond: 1_000,
        min_fee: 2,
        dispute_clock: 10,
        dispute_bond: 1_000,
        slash_reward_percent: 50,
    }
}

pub fn transfer(k: u64, from: u32, to: u32, amount: u128, nonce: u64) -> L2Tx<P> {
    L2Tx::Transfer {
        from,
        to,
        amount,
        fee: 2,
        nonce,
        signature: Signature([0; 64]),
    }
    .signed(0, &key(k))
}

pub fn withdraw(k: u64, from: u32, to: &Keypair, amount: u128, nonce: u64) -> L2Tx<P> {
    L2Tx::Withdraw {
        from,
        recipient: to.public(),
        amount,
        fee: 2,
        nonce,
        signature: Signature([0; 64]),
    }
    .signed(0, &key(k))
}

pub fn deposit(to: &Keypair, amount: u128) -> Action {
    Action::Deposit {
        rollup: 0,
        account: None,
        key: to.public(),
        amount,
    }
}
