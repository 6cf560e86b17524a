//! The bounded transaction pool.
//!
//! Admission checks everything a transaction can be checked for before a block: size, signature,
//! chain id, fee cap against the current base fee, tip not above the cap, nonce against the sender's
//! account (stale nonces are replays; nonces too far ahead are refused), and balance for value plus
//! maximum fees. Per sender, transactions are kept by nonce; a same-nonce transaction replaces the
//! old one only if it raises the fee cap and tip by at least [`REPLACEMENT_BUMP_PERCENT`].
//!
//! The pool is two sub-pools that share one store: *pending* transactions, whose nonces run without
//! a gap from the sender's account nonce (a block could take them now), and *queued* ones behind a
//! gap (they can never execute until the gap is filled). Both are bounded in count and bytes, per
//! sender and in all. A queued transaction only ever displaces another queued one, so however many
//! gapped transactions an attacker sends, at any tip, they cannot hold a slot an executable
//! transaction needs: an executable arrival evicts queued transactions first, whatever they pay,
//! and only then the pending transaction with the lowest effective tip, if it pays less. Evictions
//! take the tail of a sender's queue (its highest nonce), so no queue gets a gap.
//! Block building takes senders in order of effective tip, each sender's transactions in nonce order;
//! senders at equal tips take turns (fewest taken into the block first), so no sender's key order
//! lets it fill a block's blob or gas space ahead of others paying the same.

use basalt_l1::{check_tx, Account, BlockBuilder, Params, TxError, VerifiedTx};
use basalt_types::{Hash, PublicKey};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

/// A replacement must raise both fee fields by this much.
pub const REPLACEMENT_BUMP_PERCENT: u64 = 10;

/// Pool limits.
#[derive(Debug, Clone, Copy)]
pub struct MempoolLimits {
    /// Most transactions held.
    pub max_txs: usize,
    /// Most encoded bytes held.
    pub max_bytes: usize,
    /// Most transactions held per sender.
    pub max_per_sender: usize,
    /// Most encoded bytes held per sender.
    pub max_bytes_per_sender: usize,
    /// Most queued (gapped) transactions held.
    pub max_queued: usize,
    /// Most encoded bytes of queued transactions held.
    pub max_queued_bytes: usize,
    /// Most queued transactions held per sender.
    pub max_queued_per_sender: usize,
    /// Furthest a nonce may be ahead of the sender's account nonce.
    pub max_nonce_gap: u64,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        MempoolLimits {
            max_txs: 200_000,
            max_bytes: 256 << 20,
            max_per_sender: 4_096,
            max_bytes_per_sender: 16 << 20,
            max_queued: 16_384,
            max_queued_bytes: 32 << 20,
            max_queued_per_sender: 64,
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
    /// The sender's queue is full (in count or bytes).
    #[error("sender has {0} pending transactions, the maximum")]
    SenderFull(usize),
    /// The sender already has the most transactions behind a nonce gap.
    #[error(
        "sender has {0} transactions behind a nonce gap, the maximum: send the missing nonce first"
    )]
    SenderQueuedFull(usize),
    /// The queued sub-pool is full and the transaction pays no more than the worst it holds.
    #[error("too many transactions behind nonce gaps: send the missing nonce first")]
    QueuedFull,
    /// The pool is full and the transaction pays no more than the worst it holds.
    #[error("mempool full")]
    PoolFull,
    /// Its rollup action would fail against the finalized state (checked for local submissions).
    #[error(transparent)]
    ActionFails(#[from] basalt_l1::PrecheckError),
}

impl AdmissionError {
    /// A stable name for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            AdmissionError::Invalid(_) => "invalid",
            AdmissionError::NonceTooFarAhead { .. } => "nonce_too_far_ahead",
            AdmissionError::ReplacementUnderpriced => "replacement_underpriced",
            AdmissionError::AlreadyKnown => "already_known",
            AdmissionError::SenderFull(_) => "sender_full",
            AdmissionError::SenderQueuedFull(_) => "sender_queued_full",
            AdmissionError::QueuedFull => "queued_full",
            AdmissionError::PoolFull => "pool_full",
            AdmissionError::ActionFails(_) => "action_fails",
        }
    }
}

/// The tip per gas a transaction pays the proposer at `base_fee`.
fn effective_tip(tx: &VerifiedTx, base_fee: u64) -> u64 {
    let t = &tx.tx().tx;
    t.priority_fee_per_gas
        .min(t.max_fee_per_gas.saturating_sub(base_fee))
}

/// One sender's transactions by nonce, with its split into pending and queued.
#[derive(Default)]
struct SenderQueue {
    txs: BTreeMap<u64, VerifiedTx>,
    /// The sender's account nonce as last seen.
    account_nonce: u64,
    bytes: usize,
    /// Transactions from `account_nonce` on without a gap.
    pending: usize,
    pending_bytes: usize,
}

impl SenderQueue {
    fn queued(&self) -> usize {
        self.txs.len() - self.pending
    }

    fn queued_bytes(&self) -> usize {
        self.bytes - self.pending_bytes
    }

    /// Moves to `account_nonce`, dropping the transactions it has passed; returns their ids.
    fn advance(&mut self, account_nonce: u64) -> Vec<Hash> {
        self.account_nonce = account_nonce;
        let stale: Vec<u64> = self.txs.range(..account_nonce).map(|(n, _)| *n).collect();
        stale
            .into_iter()
            .map(|n| {
                let tx = self.txs.remove(&n).expect("listed");
                self.bytes -= tx.encoded_len();
                tx.hash()
            })
            .collect()
    }

    fn recount(&mut self) {
        let run = (self.account_nonce..)
            .zip(self.txs.range(self.account_nonce..))
            .take_while(|(expected, (nonce, _))| *expected == **nonce);
        let (mut pending, mut pending_bytes) = (0, 0);
        for (_, (_, tx)) in run {
            pending += 1;
            pending_bytes += tx.encoded_len();
        }
        self.pending = pending;
        self.pending_bytes = pending_bytes;
    }
}

/// Which sub-pool a sender's tail (highest nonce) is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Pending,
    Queued,
}

/// The pool.
pub struct Mempool {
    limits: MempoolLimits,
    by_sender: HashMap<PublicKey, SenderQueue>,
    by_hash: HashMap<Hash, (PublicKey, u64)>,
    /// Base fee the tail index is ordered at.
    base_fee: u64,
    /// Senders by the effective tip of their tail, one set per sub-pool of that tail.
    pending_tails: BTreeSet<(u64, PublicKey)>,
    queued_tails: BTreeSet<(u64, PublicKey)>,
    /// Totals over all senders.
    bytes: usize,
    queued: usize,
    queued_bytes: usize,
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
            base_fee: 0,
            pending_tails: BTreeSet::new(),
            queued_tails: BTreeSet::new(),
            bytes: 0,
            queued: 0,
            queued_bytes: 0,
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

    /// Encoded bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Transactions held behind a nonce gap.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Whether the pool holds this transaction.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The nonce after the sender's transactions that are queued without a gap from `account_nonce`.
    pub fn pending_nonce(&self, sender: &PublicKey, account_nonce: u64) -> u64 {
        let mut next = account_nonce;
        if let Some(q) = self.by_sender.get(sender) {
            while q.txs.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// A pooled transaction by id.
    pub fn get(&self, hash: &Hash) -> Option<&VerifiedTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.by_sender.get(sender)?.txs.get(nonce)
    }

    /// The tail index entry of a sender, if it has transactions.
    fn tail_key(&self, sender: &PublicKey) -> Option<(Class, (u64, PublicKey))> {
        let q = self.by_sender.get(sender)?;
        let (_, tail) = q.txs.last_key_value()?;
        let class = if q.queued() > 0 {
            Class::Queued
        } else {
            Class::Pending
        };
        Some((class, (effective_tip(tail, self.base_fee), *sender)))
    }

    fn tails(&mut self, class: Class) -> &mut BTreeSet<(u64, PublicKey)> {
        match class {
            Class::Pending => &mut self.pending_tails,
            Class::Queued => &mut self.queued_tails,
        }
    }

    /// Takes a sender out of the totals and the tail index before its queue changes.
    fn unlink(&mut self, sender: &PublicKey) {
        if let Some((class, key)) = self.tail_key(sender) {
            self.tails(class).remove(&key);
        }
        if let Some(q) = self.by_sender.get(sender) {
            self.bytes -= q.bytes;
            self.queued -= q.queued();
            self.queued_bytes -= q.queued_bytes();
        }
    }

    /// Puts a sender back into the totals and the tail index after its queue changed.
    fn link(&mut self, sender: &PublicKey) {
        let Some(q) = self.by_sender.get_mut(sender) else {
            return;
        };
        if q.txs.is_empty() {
            self.by_sender.remove(sender);
            return;
        }
        q.recount();
        let (bytes, queued, queued_bytes) = (q.bytes, q.queued(), q.queued_bytes());
        self.bytes += bytes;
        self.queued += queued;
        self.queued_bytes += queued_bytes;
        if let Some((class, key)) = self.tail_key(sender) {
            self.tails(class).insert(key);
        }
    }

    /// Admits a signature-checked transaction, given the sender's account and the current fees.
    /// Returns the ids of the transactions it replaced or evicted.
    pub fn insert(
        &mut self,
        tx: VerifiedTx,
        chain_id: u64,
        params: &Params,
        account: Option<Account>,
        fees: (u64, u64),
    ) -> Result<Vec<Hash>, AdmissionError> {
        if self.by_hash.contains_key(&tx.hash()) {
            return Err(AdmissionError::AlreadyKnown);
        }
        let stx = tx.tx();
        check_tx(stx, chain_id, params, account, fees.0, fees.1)?;
        let account_nonce = account.map_or(0, |a| a.nonce);
        let nonce = stx.tx.nonce;
        if nonce - account_nonce > self.limits.max_nonce_gap {
            return Err(AdmissionError::NonceTooFarAhead {
                expected: account_nonce,
                got: nonce,
                max_gap: self.limits.max_nonce_gap,
            });
        }
        let sender = stx.signer;
        self.sync_nonce(&sender, account_nonce);
        let len = tx.encoded_len();
        let tip = effective_tip(&tx, self.base_fee);
        let (count, bytes, pending, queued) =
            self.by_sender.get(&sender).map_or((0, 0, 0, 0), |q| {
                (q.txs.len(), q.bytes, q.pending, q.queued())
            });
        if let Some(old) = self.by_sender.get(&sender).and_then(|q| q.txs.get(&nonce)) {
            let (o, n) = (&old.tx().tx, &stx.tx);
            if !(bumped(o.max_fee_per_gas, n.max_fee_per_gas)
                && bumped(o.priority_fee_per_gas.max(1), n.priority_fee_per_gas.max(1)))
            {
                return Err(AdmissionError::ReplacementUnderpriced);
            }
            if bytes - old.encoded_len() + len > self.limits.max_bytes_per_sender {
                return Err(AdmissionError::SenderFull(count));
            }
            if (self.bytes - old.encoded_len()).saturating_add(len) > self.limits.max_bytes {
                return Err(AdmissionError::PoolFull);
            }
            let old_hash = old.hash();
            self.unlink(&sender);
            let q = self.by_sender.get_mut(&sender).expect("queue exists");
            let old = q.txs.insert(nonce, tx).expect("replaced");
            q.bytes = q.bytes - old.encoded_len() + len;
            self.by_hash.remove(&old_hash);
            self.by_hash
                .insert(self.by_sender[&sender].txs[&nonce].hash(), (sender, nonce));
            self.link(&sender);
            return Ok(vec![old_hash]);
        }
        if count >= self.limits.max_per_sender || bytes + len > self.limits.max_bytes_per_sender {
            return Err(AdmissionError::SenderFull(count));
        }
        let executable = nonce == account_nonce + pending as u64;
        if !executable && queued >= self.limits.max_queued_per_sender {
            return Err(AdmissionError::SenderQueuedFull(queued));
        }
        // Room is planned before anything is evicted, so a refused arrival changes nothing.
        let over = |held: usize, extra: usize, max: usize| (held + extra).saturating_sub(max);
        let (need_txs, need_bytes) = (
            over(self.by_hash.len(), 1, self.limits.max_txs),
            over(self.bytes, len, self.limits.max_bytes),
        );
        let plan = if executable {
            // Gapped transactions go first, whatever they pay, when an executable one needs room.
            self.plan(
                &[(Class::Queued, None), (Class::Pending, Some(tip))],
                &sender,
                need_txs,
                need_bytes,
            )
            .ok_or(AdmissionError::PoolFull)?
        } else {
            let (queued_txs, queued_bytes) = (
                over(self.queued, 1, self.limits.max_queued),
                over(self.queued_bytes, len, self.limits.max_queued_bytes),
            );
            self.plan(
                &[(Class::Queued, Some(tip))],
                &sender,
                need_txs.max(queued_txs),
                need_bytes.max(queued_bytes),
            )
            .ok_or(if queued_txs > 0 || queued_bytes > 0 {
                AdmissionError::QueuedFull
            } else {
                AdmissionError::PoolFull
            })?
        };
        let evicted: Vec<Hash> = plan
            .into_iter()
            .filter_map(|(s, n)| self.remove(&s, n))
            .collect();
        self.unlink(&sender);
        self.by_hash.insert(tx.hash(), (sender, nonce));
        let q = self.by_sender.entry(sender).or_default();
        q.account_nonce = account_nonce;
        q.bytes += len;
        q.txs.insert(nonce, tx);
        self.link(&sender);
        Ok(evicted)
    }

    /// The tails to evict, at most one per sender, cheapest first through `classes` in order (each
    /// only below its tip bound, if it has one), that free `txs` transactions and `bytes` bytes;
    /// `None` if they cannot.
    fn plan(
        &self,
        classes: &[(Class, Option<u64>)],
        except: &PublicKey,
        txs: usize,
        bytes: usize,
    ) -> Option<Vec<(PublicKey, u64)>> {
        let (mut freed_txs, mut freed_bytes, mut plan) = (0, 0, Vec::new());
        for (class, below) in classes {
            let set = match class {
                Class::Pending => &self.pending_tails,
                Class::Queued => &self.queued_tails,
            };
            for (tip, sender) in set {
                if freed_txs >= txs && freed_bytes >= bytes {
                    return Some(plan);
                }
                if below.is_some_and(|b| *tip >= b) {
                    break;
                }
                if sender == except {
                    continue;
                }
                let (nonce, tail) = self.by_sender[sender].txs.last_key_value()?;
                freed_txs += 1;
                freed_bytes += tail.encoded_len();
                plan.push((*sender, *nonce));
            }
        }
        (freed_txs >= txs && freed_bytes >= bytes).then_some(plan)
    }

    /// Brings a sender's queue to its account nonce: stale transactions go, the split is redone.
    fn sync_nonce(&mut self, sender: &PublicKey, account_nonce: u64) {
        if self
            .by_sender
            .get(sender)
            .is_none_or(|q| q.account_nonce == account_nonce)
        {
            return;
        }
        self.unlink(sender);
        let q = self.by_sender.get_mut(sender).expect("checked");
        for hash in q.advance(account_nonce) {
            self.by_hash.remove(&hash);
        }
        self.link(sender);
    }

    fn remove(&mut self, sender: &PublicKey, nonce: u64) -> Option<Hash> {
        if !self.by_sender.get(sender)?.txs.contains_key(&nonce) {
            return None;
        }
        self.unlink(sender);
        let q = self.by_sender.get_mut(sender).expect("checked");
        let tx = q.txs.remove(&nonce).expect("checked");
        q.bytes -= tx.encoded_len();
        self.by_hash.remove(&tx.hash());
        self.link(sender);
        Some(tx.hash())
    }

    /// Drops every transaction whose nonce the sender's account has passed (included or replaced),
    /// and re-orders the pool at the next block's base fee.
    pub fn prune(&mut self, account_nonce: impl Fn(&PublicKey) -> u64, base_fee: u64) {
        let senders: Vec<PublicKey> = self.by_sender.keys().copied().collect();
        self.base_fee = base_fee;
        self.pending_tails.clear();
        self.queued_tails.clear();
        (self.bytes, self.queued, self.queued_bytes) = (0, 0, 0);
        for s in senders {
            // Totals and tails were cleared: each queue is re-linked at the new base fee.
            let q = self.by_sender.get_mut(&s).expect("listed");
            for hash in q.advance(account_nonce(&s)) {
                self.by_hash.remove(&hash);
            }
            self.link(&s);
        }
    }

    /// Fills `builder` with the best transactions that apply, up to `max_txs`.
    /// Returns the ids of transactions found invalid at their turn (dropped from the pool).
    pub fn fill(&mut self, builder: &mut BlockBuilder<'_>, max_txs: usize) -> Vec<(Hash, TxError)> {
        let base_fee = builder.base_fee();
        // Heap of (effective tip of the sender's next transaction, fewest of the sender's taken,
        // sender), highest first.
        let mut heap = BinaryHeap::new();
        let mut cursors: HashMap<PublicKey, u64> = HashMap::new();
        for (sender, q) in &self.by_sender {
            let next = builder.account(sender).map_or(0, |a| a.nonce);
            if let Some(t) = q.txs.get(&next) {
                heap.push((effective_tip(t, base_fee), Reverse(0u64), *sender));
                cursors.insert(*sender, next);
            }
        }
        let mut dropped = Vec::new();
        while let Some((_, Reverse(taken), sender)) = heap.pop() {
            if builder.tx_count() >= max_txs {
                break;
            }
            let nonce = cursors[&sender];
            let tx = &self.by_sender[&sender].txs[&nonce];
            match builder.apply(tx) {
                Ok(_) => {
                    if let Some(next) = self.by_sender[&sender].txs.get(&(nonce + 1)) {
                        heap.push((effective_tip(next, base_fee), Reverse(taken + 1), sender));
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
            gas_limit: basalt_l1::TRANSFER_GAS,
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
            max_queued: 2,
            max_queued_per_sender: 2,
            ..MempoolLimits::default()
        })
    }

    /// Checks the running totals against a recount.
    fn assert_totals(p: &Mempool) {
        let all: Vec<&SenderQueue> = p.by_sender.values().collect();
        assert_eq!(p.len(), all.iter().map(|q| q.txs.len()).sum::<usize>());
        let bytes: usize = all
            .iter()
            .flat_map(|q| q.txs.values())
            .map(|t| t.encoded_len())
            .sum();
        assert_eq!(p.bytes, bytes);
        assert_eq!(p.queued, all.iter().map(|q| q.queued()).sum::<usize>());
        assert_eq!(p.pending_tails.len() + p.queued_tails.len(), all.len());
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
        assert_eq!(replaced, vec![tx(0, 0, 100, 10).hash()]);
        assert_totals(&p);
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
        assert_eq!(evicted, vec![tx(1, 0, 100, 2).hash()]);
        assert_eq!(p.len(), 2);
        assert_totals(&p);
    }

    #[test]
    fn a_tip_above_the_fee_cap_is_refused() {
        let (mut p, params) = (pool(10), Params::default());
        assert_eq!(
            p.insert(tx(0, 0, 100, 101), 1, &params, rich(), (1, 1)),
            Err(AdmissionError::Invalid(TxError::TipAboveMaxFee {
                tip: 101,
                max_fee: 100
            }))
        );
    }

    #[test]
    fn gapped_transactions_never_displace_executable_ones_and_executable_ones_displace_them() {
        let (mut p, params) = (pool(4), Params::default());
        let f = (1, 1);
        // Two executable transactions at a low tip, then the queued sub-pool fills at the top tip.
        p.insert(tx(0, 0, 100, 1), 1, &params, rich(), f).unwrap();
        p.insert(tx(1, 0, 100, 1), 1, &params, rich(), f).unwrap();
        p.insert(tx(2, 1, 100, 100), 1, &params, rich(), f).unwrap();
        p.insert(tx(3, 1, 100, 100), 1, &params, rich(), f).unwrap();
        assert_eq!(p.queued(), 2);
        // A gapped transaction at the top tip finds no cheaper gapped one to displace.
        assert_eq!(
            p.insert(tx(4, 1, 100, 100), 1, &params, rich(), f),
            Err(AdmissionError::QueuedFull)
        );
        // An executable one at the lowest tip takes a gapped one's place in a full pool.
        let evicted = p.insert(tx(5, 0, 100, 1), 1, &params, rich(), f).unwrap();
        assert_eq!(evicted.len(), 1);
        assert_eq!(p.queued(), 1);
        assert_totals(&p);
        // Filling the gap of the gapped transaction left turns it pending; with no other gapped
        // transaction to displace, the cheapest pending tail goes.
        let left = if p.contains(&tx(2, 1, 100, 100).hash()) {
            2
        } else {
            3
        };
        let evicted = p
            .insert(tx(left, 0, 100, 2), 1, &params, rich(), f)
            .unwrap();
        assert_eq!(evicted.len(), 1);
        assert_eq!((p.len(), p.queued()), (4, 0));
        assert_totals(&p);
    }

    #[test]
    fn the_pool_is_bounded_in_bytes_and_a_refused_arrival_evicts_nothing() {
        let params = Params::default();
        let one = tx(0, 0, 100, 1).encoded_len();
        let mut p = Mempool::new(MempoolLimits {
            max_bytes: 3 * one,
            ..MempoolLimits::default()
        });
        let f = (1, 1);
        for s in 0..3 {
            p.insert(tx(s, 0, 100, 5), 1, &params, rich(), f).unwrap();
        }
        assert_eq!(p.bytes(), 3 * one);
        assert_eq!(
            p.insert(tx(9, 0, 100, 5), 1, &params, rich(), f),
            Err(AdmissionError::PoolFull)
        );
        assert_eq!(p.len(), 3);
        let evicted = p.insert(tx(9, 0, 100, 6), 1, &params, rich(), f).unwrap();
        assert_eq!(evicted.len(), 1);
        assert_eq!(p.bytes(), 3 * one);
        assert_totals(&p);
    }

    #[test]
    fn prune_drops_included_nonces_and_promotes_queued_ones() {
        let (mut p, params) = (pool(10), Params::default());
        let f = (1, 1);
        p.insert(tx(0, 0, 100, 1), 1, &params, rich(), f).unwrap();
        p.insert(tx(0, 2, 100, 1), 1, &params, rich(), f).unwrap();
        assert_eq!(p.queued(), 1);
        p.prune(|_| 2, 1);
        assert_eq!((p.len(), p.queued()), (1, 0));
        assert_totals(&p);
    }
}
