//! The bounded transaction pool.
//!
//! Admission checks everything a transaction can be checked for before a block: size, signature,
//! chain id, fee cap against the current base fee, nonce against the sender's account (stale nonces are
//! replays; nonces too far ahead are refused), and balance for value plus maximum fees. Per sender,
//! transactions are kept by nonce; a same-nonce transaction replaces the old one only if it raises the fee
//! cap and tip by at least [`REPLACEMENT_BUMP_PERCENT`]. When the pool is full, a better-paying arrival
//! evicts the worst-paying transaction that is last in its sender's queue (so no queue gets a gap).
//! Block building takes senders in order of tip, each sender's transactions in nonce order.

use basalt_l1::{check_tx, Account, BlockBuilder, Params, SignedTransaction, TxError, VerifiedTx};
use basalt_types::{Hash, PublicKey};
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// A replacement must raise both fee fields by this much.
pub const REPLACEMENT_BUMP_PERCENT: u64 = 10;

/// Pool limits.
#[derive(Debug, Clone, Copy)]
pub struct MempoolLimits {
    /// Most transactions held.
    pub max_txs: usize,
    /// Most transactions held per sender.
    pub max_per_sender: usize,
    /// Furthest a nonce may be ahead of the sender's account nonce.
    pub max_nonce_gap: u64,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        MempoolLimits {
            max_txs: 200_000,
            max_per_sender: 4_096,
            max_nonce_gap: 4_096,
        }
    }
}

/// Why the pool refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// It can never be valid at this point.
    #[error(transparent)]
    Invalid(#[from] TxError),
    /// The nonce is too far ahead of the account's.
    #[error("nonce {got} is more than {max_gap} ahead of the account nonce {expected}")]
    NonceTooFarAhead {
        /// Account nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
        /// The limit.
        max_gap: u64,
    },
    /// Same sender and nonce as a pooled transaction, without a large enough fee bump.
    #[error(
        "replacement underpriced: raise max fee and tip by at least {REPLACEMENT_BUMP_PERCENT}%"
    )]
    ReplacementUnderpriced,
    /// The pool already holds it.
    #[error("transaction already known")]
    AlreadyKnown,
    /// The sender's queue is full.
    #[error("sender has {0} pending transactions, the maximum")]
    SenderFull(usize),
    /// The pool is full and the transaction pays no more than the worst it holds.
    #[error("mempool full")]
    PoolFull,
    /// Its rollup action would fail against the finalized state (checked for local submissions).
    #[error("{0}")]
    ActionFails(String),
}

/// The pool.
pub struct Mempool {
    limits: MempoolLimits,
    by_sender: HashMap<PublicKey, BTreeMap<u64, VerifiedTx>>,
    by_hash: HashMap<Hash, (PublicKey, u64)>,
}

fn bumped(old: u64, new: u64) -> bool {
    (new as u128) * 100 >= (old as u128) * (100 + REPLACEMENT_BUMP_PERCENT as u128) && new > old
}

impl Mempool {
    /// An empty pool.
    pub fn new(limits: MempoolLimits) -> Self {
        Mempool {
            limits,
            by_sender: HashMap::new(),
            by_hash: HashMap::new(),
        }
    }

    /// Transactions held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Whether the pool holds this transaction.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The nonce after the sender's transactions that are queued without a gap from `account_nonce`.
    pub fn pending_nonce(&self, sender: &PublicKey, account_nonce: u64) -> u64 {
        let mut next = account_nonce;
        if let Some(q) = self.by_sender.get(sender) {
            while q.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// A pooled transaction by id.
    pub fn get(&self, hash: &Hash) -> Option<&VerifiedTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.by_sender.get(sender)?.get(nonce)
    }

    /// Admits a signature-checked transaction, given the sender's account and the current fees.
    /// Returns the id of a transaction it replaced or evicted, if any.
    pub fn insert(
        &mut self,
        tx: VerifiedTx,
        chain_id: u64,
        params: &Params,
        account: Option<Account>,
        fees: (u64, u64),
    ) -> Result<Option<Hash>, AdmissionError> {
        if self.by_hash.contains_key(&tx.hash()) {
            return Err(AdmissionError::AlreadyKnown);
        }
        let stx = tx.tx();
        check_tx(stx, chain_id, params, account, fees.0, fees.1)?;
        let expected = account.map_or(0, |a| a.nonce);
        let nonce = stx.tx.nonce;
        if nonce - expected > self.limits.max_nonce_gap {
            return Err(AdmissionError::NonceTooFarAhead {
                expected,
                got: nonce,
                max_gap: self.limits.max_nonce_gap,
            });
        }
        let sender = stx.signer;
        let queue_len = self.by_sender.get(&sender).map_or(0, |q| q.len());
        if let Some(old) = self.by_sender.get(&sender).and_then(|q| q.get(&nonce)) {
            let (o, n) = (&old.tx().tx, &stx.tx);
            if !(bumped(o.max_fee_per_gas, n.max_fee_per_gas)
                && bumped(o.priority_fee_per_gas.max(1), n.priority_fee_per_gas.max(1)))
            {
                return Err(AdmissionError::ReplacementUnderpriced);
            }
            let old_hash = old.hash();
            self.by_hash.remove(&old_hash);
            self.by_hash.insert(tx.hash(), (sender, nonce));
            self.by_sender
                .get_mut(&sender)
                .expect("queue exists")
                .insert(nonce, tx);
            return Ok(Some(old_hash));
        }
        if queue_len >= self.limits.max_per_sender {
            return Err(AdmissionError::SenderFull(queue_len));
        }
        let mut evicted = None;
        if self.by_hash.len() >= self.limits.max_txs {
            evicted = Some(self.evict_for(stx)?);
        }
        self.by_hash.insert(tx.hash(), (sender, nonce));
        self.by_sender.entry(sender).or_default().insert(nonce, tx);
        Ok(evicted)
    }

    /// Removes the worst-paying queue tail if `incoming` pays more.
    fn evict_for(&mut self, incoming: &SignedTransaction) -> Result<Hash, AdmissionError> {
        let worst = self
            .by_sender
            .iter()
            .filter(|(s, _)| **s != incoming.signer)
            .filter_map(|(s, q)| {
                q.last_key_value()
                    .map(|(n, t)| (*s, *n, t.tx().tx.priority_fee_per_gas))
            })
            .min_by_key(|(_, _, tip)| *tip);
        match worst {
            Some((sender, nonce, tip)) if tip < incoming.tx.priority_fee_per_gas => {
                Ok(self.remove(&sender, nonce).expect("tail exists"))
            }
            _ => Err(AdmissionError::PoolFull),
        }
    }

    fn remove(&mut self, sender: &PublicKey, nonce: u64) -> Option<Hash> {
        let q = self.by_sender.get_mut(sender)?;
        let tx = q.remove(&nonce)?;
        if q.is_empty() {
            self.by_sender.remove(sender);
        }
        self.by_hash.remove(&tx.hash());
        Some(tx.hash())
    }

    /// Drops every transaction whose nonce the sender's account has passed (included or replaced).
    pub fn prune(&mut self, account_nonce: impl Fn(&PublicKey) -> u64) {
        let senders: Vec<PublicKey> = self.by_sender.keys().copied().collect();
        for s in senders {
            let next = account_nonce(&s);
            let stale: Vec<u64> = self.by_sender[&s].range(..next).map(|(n, _)| *n).collect();
            for n in stale {
                self.remove(&s, n);
            }
        }
    }

    /// Fills `builder` with the best transactions that apply, up to `max_txs`.
    /// Returns the ids of transactions found invalid at their turn (dropped from the pool).
    pub fn fill(&mut self, builder: &mut BlockBuilder<'_>, max_txs: usize) -> Vec<(Hash, TxError)> {
        // Heap of (tip of the sender's next transaction, sender), highest tip first.
        let mut heap = BinaryHeap::new();
        let mut cursors: HashMap<PublicKey, u64> = HashMap::new();
        for (sender, q) in &self.by_sender {
            let next = builder.account(sender).map_or(0, |a| a.nonce);
            if let Some(t) = q.get(&next) {
                heap.push((t.tx().tx.priority_fee_per_gas, *sender));
                cursors.insert(*sender, next);
            }
        }
        let mut dropped = Vec::new();
        while let Some((_, sender)) = heap.pop() {
            if builder.tx_count() >= max_txs {
                break;
            }
            let nonce = cursors[&sender];
            let tx = &self.by_sender[&sender][&nonce];
            match builder.apply(tx) {
                Ok(_) => {
                    if let Some(next) = self.by_sender[&sender].get(&(nonce + 1)) {
                        heap.push((next.tx().tx.priority_fee_per_gas, sender));
                        cursors.insert(sender, nonce + 1);
                    }
                }
                Err(
                    TxError::BlockGasFull | TxError::BlockBlobSpaceFull | TxError::BlockTxCountFull,
                ) => {}
                Err(e) => dropped.push((tx.hash(), e)),
            }
        }
        // Fee-cap failures may pass in a later block; nonce and balance failures will not.
        for (hash, e) in &dropped {
            if !matches!(
                e,
                TxError::FeeBelowBaseFee { .. } | TxError::BlobFeeBelowBaseFee { .. }
            ) {
                if let Some((s, n)) = self.by_hash.get(hash).copied() {
                    self.remove(&s, n);
                }
            }
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_l1::{Action, Transaction};
    use basalt_types::dev_keypair;

    fn tx(from: u64, nonce: u64, fee: u64, tip: u64) -> VerifiedTx {
        Transaction {
            chain_id: 1,
            nonce,
            max_fee_per_gas: fee,
            priority_fee_per_gas: tip,
            action: Action::Transfer {
                to: dev_keypair("m", 99).public(),
                amount: 1,
            },
        }
        .sign(&dev_keypair("m", from))
        .verify()
        .unwrap()
    }

    fn rich() -> Option<Account> {
        Some(Account {
            balance: u64::MAX as u128,
            ..Default::default()
        })
    }

    fn pool(max_txs: usize) -> Mempool {
        Mempool::new(MempoolLimits {
            max_txs,
            max_per_sender: 3,
            max_nonce_gap: 5,
        })
    }

    #[test]
    fn replacement_needs_a_ten_percent_bump() {
        let (mut p, params) = (pool(10), Params::default());
        let f = (1, 1);
        p.insert(tx(0, 0, 100, 10), 1, &params, rich(), f).unwrap();
        assert_eq!(
            p.insert(tx(0, 0, 105, 11), 1, &params, rich(), f),
            Err(AdmissionError::ReplacementUnderpriced)
        );
        let replaced = p.insert(tx(0, 0, 110, 11), 1, &params, rich(), f).unwrap();
        assert!(replaced.is_some());
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn stale_far_future_duplicate_and_overfull_senders_are_refused() {
        let (mut p, params) = (pool(10), Params::default());
        let f = (1, 1);
        let at5 = Some(Account {
            nonce: 5,
            ..rich().unwrap()
        });
        assert!(matches!(
            p.insert(tx(0, 4, 100, 1), 1, &params, at5, f),
            Err(AdmissionError::Invalid(TxError::StaleNonce { .. }))
        ));
        assert!(matches!(
            p.insert(tx(0, 11, 100, 1), 1, &params, at5, f),
            Err(AdmissionError::NonceTooFarAhead { .. })
        ));
        p.insert(tx(0, 5, 100, 1), 1, &params, at5, f).unwrap();
        assert_eq!(
            p.insert(tx(0, 5, 100, 1), 1, &params, at5, f),
            Err(AdmissionError::AlreadyKnown)
        );
        p.insert(tx(0, 6, 100, 1), 1, &params, at5, f).unwrap();
        p.insert(tx(0, 7, 100, 1), 1, &params, at5, f).unwrap();
        assert_eq!(
            p.insert(tx(0, 8, 100, 1), 1, &params, at5, f),
            Err(AdmissionError::SenderFull(3))
        );
    }

    #[test]
    fn a_full_pool_evicts_the_cheapest_tail_only_for_a_better_payer() {
        let (mut p, params) = (pool(2), Params::default());
        let f = (1, 1);
        p.insert(tx(0, 0, 100, 5), 1, &params, rich(), f).unwrap();
        p.insert(tx(1, 0, 100, 2), 1, &params, rich(), f).unwrap();
        assert_eq!(
            p.insert(tx(2, 0, 100, 2), 1, &params, rich(), f),
            Err(AdmissionError::PoolFull)
        );
        let evicted = p.insert(tx(2, 0, 100, 3), 1, &params, rich(), f).unwrap();
        assert_eq!(evicted, Some(tx(1, 0, 100, 2).hash()));
        assert_eq!(p.len(), 2);
    }
}
