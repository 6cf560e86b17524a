//! A profile fixes the cryptography of a rollup: how its state, withdrawals and transactions are
//! hashed, its trees, and its signature scheme. The state transition function is written once, over
//! any profile.
//!
//! Each commitment is a method of the profile, not bytes fed to a hash, because the ZK profile must
//! compute every one of them in a circuit: there each is a Poseidon hash of field elements, with
//! its own domain tag ([`zk_tags`]).

use crate::types::{Account, L2Tx, Withdrawal};
use basalt_merkle::{Blake3Hasher, PoseidonHasher, TreeHasher};
use basalt_types::zk::{poseidon_tagged, BabyPublicKey, BabySignature, Felt};
use basalt_types::{Decode, Encode};
use std::fmt::Debug;

/// The cryptography of one kind of rollup.
pub trait Profile: Copy + Eq + Debug + Default + Send + Sync + 'static {
    /// The digest of trees, leaves and commitments.
    type Digest: Copy + Eq + Debug + Encode + Decode + Send + Sync;
    /// The tree hasher.
    type Hasher: TreeHasher<Digest = Self::Digest>;
    /// An account's public key.
    type PublicKey: Copy + Eq + Debug + Encode + Decode + Send + Sync;
    /// A transaction signature.
    type Signature: Copy + Eq + Debug + Encode + Decode + Send + Sync;

    /// Short name, for logs and reports.
    const NAME: &'static str;
    /// Levels of the accounts and withdrawals trees.
    const TREE_DEPTH: u8;

    /// Leaves of each tree: the most accounts, and the most withdrawals over the rollup's life.
    fn tree_capacity() -> u64 {
        1u64 << (Self::TREE_DEPTH as u32 * Self::Hasher::ARITY.trailing_zeros())
    }

    /// The accounts-tree leaf of an account.
    fn account_leaf(account: &Account<Self>) -> Self::Digest;

    /// The withdrawals-tree leaf of a withdrawal.
    fn withdrawal_leaf(withdrawal: &Withdrawal) -> Self::Digest;

    /// The message a sender signs for `tx` on rollup `rollup_id`: every field but the signature.
    fn signing_message(rollup_id: u32, tx: &L2Tx<Self>) -> Self::Digest;

    /// The state root: the accounts tree and the deposit cursor.
    fn state_root(
        accounts_root: &Self::Digest,
        account_count: u32,
        next_deposit: u64,
    ) -> Self::Digest;

    /// The withdrawals root that L1 withdrawal proofs are checked against.
    fn withdrawals_root(tree_root: &Self::Digest, count: u64) -> Self::Digest;

    /// An output: H(state root, withdrawals root).
    fn output(state_root: &Self::Digest, withdrawals_root: &Self::Digest) -> Self::Digest;

    /// A signature of the scheme's size that signs nothing: what a transaction is priced with
    /// before it is signed.
    fn placeholder_signature() -> Self::Signature;

    /// Whether `signature` by `key` over `message` is valid.
    fn verify(key: &Self::PublicKey, message: &Self::Digest, signature: &Self::Signature) -> bool;

    /// [`Profile::verify`] of many signatures at once; the answers must equal one-by-one checks.
    fn verify_many(items: &[(Self::PublicKey, Self::Digest, Self::Signature)]) -> Vec<bool> {
        items
            .iter()
            .map(|(k, m, s)| Self::verify(k, m, s))
            .collect()
    }
}

/// The optimistic profile: blake3 trees and commitments over canonical bytes, ed25519 signatures
/// under the L1's rule (ZIP-215, [`basalt_types::PublicKey::verify`]: batch and single checks agree
/// on every input).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Optimistic;

impl Profile for Optimistic {
    type Digest = basalt_types::Hash;
    type Hasher = Blake3Hasher;
    type PublicKey = basalt_types::PublicKey;
    type Signature = basalt_types::Signature;

    const NAME: &'static str = "optimistic";

    fn placeholder_signature() -> Self::Signature {
        basalt_types::Signature([0; 64])
    }
    const TREE_DEPTH: u8 = basalt_merkle::DEFAULT_DEPTH;

    fn account_leaf(account: &Account<Self>) -> Self::Digest {
        Blake3Hasher::leaf(&account.to_bytes())
    }

    fn withdrawal_leaf(withdrawal: &Withdrawal) -> Self::Digest {
        Blake3Hasher::leaf(&withdrawal.to_bytes())
    }

    fn signing_message(rollup_id: u32, tx: &L2Tx<Self>) -> Self::Digest {
        basalt_types::hash_parts("basalt/l2/tx", &[&rollup_id.to_le_bytes(), &tx.body()])
    }

    fn state_root(
        accounts_root: &Self::Digest,
        account_count: u32,
        next_deposit: u64,
    ) -> Self::Digest {
        basalt_types::hash_parts(
            "basalt/l2/state",
            &[
                &accounts_root.to_bytes(),
                &account_count.to_le_bytes(),
                &next_deposit.to_le_bytes(),
            ],
        )
    }

    fn withdrawals_root(tree_root: &Self::Digest, count: u64) -> Self::Digest {
        basalt_types::hash_parts(
            "basalt/l2/withdrawals",
            &[&tree_root.to_bytes(), &count.to_le_bytes()],
        )
    }

    fn output(state_root: &Self::Digest, withdrawals_root: &Self::Digest) -> Self::Digest {
        basalt_types::hash_parts(
            "basalt/l2/output",
            &[&state_root.to_bytes(), &withdrawals_root.to_bytes()],
        )
    }

    fn verify(key: &Self::PublicKey, message: &Self::Digest, signature: &Self::Signature) -> bool {
        key.verify(&message.0, signature).is_ok()
    }

    fn verify_many(items: &[(Self::PublicKey, Self::Digest, Self::Signature)]) -> Vec<bool> {
        let items: Vec<_> = items.iter().map(|(k, m, s)| (*k, m.0, *s)).collect();
        basalt_types::verify_each(&items)
            .into_iter()
            .map(|r| r.is_ok())
            .collect()
    }
}

/// Domain tags of the ZK profile's Poseidon hashes (the initial capacity element; tree nodes and
/// EdDSA's challenge use circomlib's zero).
pub mod zk_tags {
    /// An account leaf.
    pub const ACCOUNT: u64 = 1;
    /// A withdrawal leaf.
    pub const WITHDRAWAL: u64 = 2;
    /// A transaction's signing message.
    pub const TX: u64 = 3;
    /// A state root.
    pub const STATE: u64 = 4;
    /// A withdrawals root.
    pub const WITHDRAWALS: u64 = 5;
    /// An output.
    pub const OUTPUT: u64 = 6;
}

/// The ZK profile: 4-ary Poseidon trees over BN254 and Poseidon commitments, EdDSA-Poseidon
/// signatures over BabyJubJub (circomlib-compatible). Trees have 10 levels: 2^20 accounts, and 2^20
/// withdrawals over a rollup's life, which keeps a transfer inside the circuit's budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Zk;

/// The field element of an integer below 2^128.
fn felt(v: u128) -> Felt {
    Felt::from_u128(v)
}

/// An L1 key as two field elements: its first and last 16 bytes, big-endian.
pub fn key_halves(key: &basalt_types::PublicKey) -> [Felt; 2] {
    let b = key.0;
    let half = |s: &[u8]| felt(u128::from_be_bytes(s.try_into().expect("16 bytes")));
    [half(&b[..16]), half(&b[16..])]
}

impl Zk {
    /// The first element of a signing message: kind + 2^8·rollup + 2^40·from + 2^72·to + 2^104·nonce
    /// (a deposit: kind 0 and its queue index as `nonce`).
    pub fn tx_head(kind: u8, rollup_id: u32, from: u32, to: u32, nonce: u64) -> Felt {
        let low =
            kind as u128 | (rollup_id as u128) << 8 | (from as u128) << 40 | (to as u128) << 72;
        let low = low | ((nonce as u128) & ((1 << 24) - 1)) << 104;
        let high = (nonce >> 24) as u128;
        Felt(felt(low).0 + felt(high).0 * felt(1u128 << 127).0 * felt(2).0)
    }
}

impl Profile for Zk {
    type Digest = Felt;
    type Hasher = PoseidonHasher;
    type PublicKey = BabyPublicKey;
    type Signature = BabySignature;

    const NAME: &'static str = "zk";

    fn placeholder_signature() -> Self::Signature {
        crate::zkverify::unchecked_signature()
    }
    const TREE_DEPTH: u8 = 10;

    fn account_leaf(account: &Account<Self>) -> Felt {
        let a = account.key.point();
        poseidon_tagged(
            zk_tags::ACCOUNT,
            &[a.x, a.y, felt(account.balance), felt(account.nonce as u128)],
        )
    }

    fn withdrawal_leaf(withdrawal: &Withdrawal) -> Felt {
        let [hi, lo] = key_halves(&withdrawal.recipient);
        poseidon_tagged(zk_tags::WITHDRAWAL, &[hi, lo, felt(withdrawal.amount)])
    }

    fn signing_message(rollup_id: u32, tx: &L2Tx<Self>) -> Felt {
        let zero = Felt::ZERO;
        let (head, amount, fee, recipient) = match tx {
            L2Tx::Deposit { index } => (Zk::tx_head(0, rollup_id, 0, 0, *index), 0, 0, [zero; 2]),
            L2Tx::Transfer {
                from,
                to,
                amount,
                fee,
                nonce,
                ..
            } => (
                Zk::tx_head(1, rollup_id, *from, *to, *nonce),
                *amount,
                *fee,
                [zero; 2],
            ),
            L2Tx::Withdraw {
                from,
                recipient,
                amount,
                fee,
                nonce,
                ..
            } => (
                Zk::tx_head(2, rollup_id, *from, 0, *nonce),
                *amount,
                *fee,
                key_halves(recipient),
            ),
        };
        poseidon_tagged(
            zk_tags::TX,
            &[head, felt(amount), felt(fee), recipient[0], recipient[1]],
        )
    }

    fn state_root(accounts_root: &Felt, account_count: u32, next_deposit: u64) -> Felt {
        let counters = felt(account_count as u128 | (next_deposit as u128) << 32);
        poseidon_tagged(zk_tags::STATE, &[*accounts_root, counters])
    }

    fn withdrawals_root(tree_root: &Felt, count: u64) -> Felt {
        poseidon_tagged(zk_tags::WITHDRAWALS, &[*tree_root, felt(count as u128)])
    }

    fn output(state_root: &Felt, withdrawals_root: &Felt) -> Felt {
        poseidon_tagged(zk_tags::OUTPUT, &[*state_root, *withdrawals_root])
    }

    fn verify(key: &BabyPublicKey, message: &Felt, signature: &BabySignature) -> bool {
        key.verify(message, signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_types::zk::Fr;

    #[test]
    fn packed_elements_hold_every_field_apart() {
        // The nonce straddles the 128-bit limb: its low 24 bits at bit 104, the rest at 128.
        let head = Zk::tx_head(2, u32::MAX, u32::MAX, u32::MAX, u64::MAX);
        let mut expect = Fr::from(2u8);
        for (v, shift) in [
            (u32::MAX as u64, 8),
            (u32::MAX as u64, 40),
            (u32::MAX as u64, 72),
            (u64::MAX, 104),
        ] {
            let mut p = Fr::from(1u8);
            for _ in 0..shift {
                p *= Fr::from(2u8);
            }
            expect += Fr::from(v) * p;
        }
        assert_eq!(head.0, expect);
    }
}
