//! A rollup world for dispute tests: three batches that give every fault a place to show, the
//! parties that play on it, and the invariants checked after every block.

use super::*;
use basalt_l1::{blob_hash, Action, Claims, L1State, Receipt};

use basalt_l2::encode_batch;
use basalt_rollup::lab::Player;
use basalt_rollup::Fault;
use basalt_types::Hash;

/// Blocks a scenario may take before it is declared stuck.
pub const MAX_BLOCKS: usize = 600;

/// A party: key `who` of the harness, deriving with `fault` injected if any.
pub fn party(who: usize, fault: Option<(Fault, (u64, u64))>, proposes: bool) -> Player {
    Player::new(who, key(who as u64).public(), 0, &params(), fault, proposes)
}

/// Bonds held equal what the trees owe, supply is conserved, and the escrow equals every L2
/// balance, unpaid withdrawal and unapplied deposit of an honest view of every posted batch.
pub fn check_invariants(l1: &L1State, honest: Option<&Player>) {
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

/// One block with every party's actions, then `extra`; returns the receipts, each with its
/// signer.
pub fn step_with(
    l1: &mut L1,
    parties: &mut [Player],
    extra: Vec<(usize, Action)>,
) -> Vec<(usize, Receipt)> {
    for p in parties.iter_mut() {
        p.refresh(&l1.state).unwrap();
    }
    let mut actions: Vec<(usize, Action)> = parties
        .iter()
        .flat_map(|p| p.actions(&l1.state).into_iter().map(move |a| (p.who, a)))
        .collect();
    actions.extend(extra);
    let signers: Vec<usize> = actions.iter().map(|(who, _)| *who).collect();
    let receipts = l1.try_block(actions);
    let honest = parties.iter().find(|p| p.view.fault().is_none());
    check_invariants(&l1.state, honest);
    signers.into_iter().zip(receipts).collect()
}

/// One block with every party's actions.
pub fn step(l1: &mut L1, parties: &mut [Player]) -> Vec<Receipt> {
    step_with(l1, parties, Vec::new())
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

/// Whether every batch has settled and every tree resolved.
pub fn all_settled(l1: &L1State) -> bool {
    let r = l1.rollup(0).unwrap();
    r.header.settled == r.header.batch_count && r.open.is_empty()
}

/// Runs blocks until every batch has settled and every tree resolved, or panics after
/// [`MAX_BLOCKS`].
pub fn run_until_settled(l1: &mut L1, parties: &mut [Player]) {
    for _ in 0..MAX_BLOCKS {
        if all_settled(&l1.state) {
            return;
        }
        step(l1, parties);
    }
    let r = l1.state.rollup(0).unwrap();
    panic!(
        "not settled after {MAX_BLOCKS} blocks: {} of {} settled, open trees {:?}",
        r.header.settled, r.header.batch_count, r.open
    );
}

pub fn post(l1: &mut L1, data: Vec<u8>, deposits_end: u64) {
    let index = l1.state.rollup(0).unwrap().header.batch_count;
    l1.block(vec![(
        1,
        Action::PostBatch {
            rollup: 0,
            index,
            data_hash: blob_hash(&data),
            data,
            deposits_end,
            max_fee_per_blob_byte: 1_000,
        },
    )]);
}

/// Registers the rollup and posts its three batches: batch 0 has deposits, `transfers`
/// transfers, a withdrawal, a forged transfer and a replayed one; batch 1 does not decode;
/// batch 2 has a few more transfers.
pub fn populate(l1: &mut L1, transfers: usize) {
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
    post(l1, encode_batch(&txs), 3);
    post(l1, vec![0xff; 64], 3);
    post(
        l1,
        encode_batch(&[transfer(3, 1, 3, 11, n3), transfer(5, 3, 2, 12, 2)]),
        3,
    );
}

/// The world of [`populate`] on a fresh L1 with keys 0..8.
pub fn world(transfers: usize) -> L1 {
    let mut l1 = L1::new();
    populate(&mut l1, transfers);
    l1
}

/// The honest outputs, as a fresh honest view derives them.
pub fn honest_outputs(l1: &L1State) -> Vec<Hash> {
    let mut p = party(9, None, false);
    p.refresh(l1).unwrap();
    (0..p.view.batches())
        .map(|b| p.view.output(b).unwrap())
        .collect()
}

/// The settled chain is the honest one, and every claim an honest party (`honest` keys) posted
/// stood when its tree resolved.
pub fn assert_honest_outcome(l1: &L1State, honest: &[basalt_types::PublicKey]) {
    let r = l1.rollup(0).unwrap();
    let settled: Vec<Hash> = (0..r.header.settled)
        .map(|b| r.settled_output(b).unwrap().1.output)
        .collect();
    assert_eq!(
        settled,
        honest_outputs(l1),
        "the settled chain is the honest one"
    );
    for (p, t) in r.trees.iter().enumerate() {
        if r.disputes[p].result.is_none() {
            continue;
        }
        let resolution = t.resolve();
        for (i, c) in t.claims().iter().enumerate() {
            if honest.contains(&c.claimant) {
                assert!(
                    !resolution.countered[i],
                    "honest claim {i} of proposal {p} was countered"
                );
            }
        }
    }
}
