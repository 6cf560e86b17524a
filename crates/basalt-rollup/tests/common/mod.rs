//! The harness the rollup tests share: an in-process L1 state machine driven block by block (every
//! block built, then verified as a peer would, then applied), dev keys and L2 transaction builders.

#![allow(dead_code)]

use basalt_l1::{
    Action, Genesis, GenesisAccount, GenesisValidator, Params, Receipt, RollupKind, RollupParams,
};
use basalt_l2::{DepositEntry, L2Tx, Optimistic};
use basalt_rollup::lab::LocalL1;
use basalt_types::{dev_keypair, Keypair, Signature};

pub type P = Optimistic;
pub const CHAIN: u64 = 99;
pub const WINDOW: u64 = 12;

pub fn key(n: u64) -> Keypair {
    dev_keypair("rollup-test", n)
}

/// Key 0 registers and claims, key 1 sequences, key 2 proposes, keys 3.. use the rollup.
pub fn genesis() -> Genesis {
    genesis_with(8)
}

/// The same chain with keys `0..keys` funded.
pub fn genesis_with(keys: u64) -> Genesis {
    Genesis {
        chain_id: CHAIN,
        timestamp_ms: 1_000,
        params: Params {
            initial_base_fee: 10,
            min_base_fee: 1,
            initial_blob_base_fee: 1,
            ..Params::default()
        },
        accounts: (0..keys)
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

/// The local L1 of the tests: every action of [`L1::block`] must take effect.
pub struct L1(pub LocalL1);

impl std::ops::Deref for L1 {
    type Target = LocalL1;
    fn deref(&self) -> &LocalL1 {
        &self.0
    }
}

impl L1 {
    pub fn new() -> Self {
        L1::with_keys(8)
    }

    /// A local L1 whose keys `0..keys` are funded signers.
    pub fn with_keys(keys: u64) -> Self {
        L1(LocalL1::new(&genesis_with(keys), (0..keys).map(key).collect()).unwrap())
    }

    /// One L1 block of these actions, each of which must take effect.
    pub fn block(&mut self, actions: Vec<(usize, Action)>) {
        self.0.block(actions).unwrap();
    }

    /// One L1 block of these actions; their receipts (an action may fail).
    pub fn try_block(&mut self, actions: Vec<(usize, Action)>) -> Vec<Receipt> {
        let included = self.0.try_block(actions).unwrap();
        included.into_iter().map(|i| i.receipt).collect()
    }

    pub fn deposits(&self, from: u64) -> Vec<DepositEntry<P>> {
        self.state.rollup(0).unwrap().deposits[from as usize..]
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
        clock_extension: 4,
        dispute_bond: 1_000,
        slash_reward_percent: 50,
        force_inclusion_blocks: 1_000,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
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
pub mod world;
