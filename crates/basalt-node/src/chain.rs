//! The node's view of the chain: finalized state, executed-but-unfinalized blocks, the mempool and
//! transaction status. Consensus calls [`Chain::propose`], [`Chain::verify`] and [`Chain::finalize`];
//! RPC calls the read methods and [`Chain::submit`]. All rules come from `basalt-l1`.

use crate::mempool::{AdmissionError, Mempool, MempoolLimits};
use crate::metrics::ChainMetrics;
use crate::store::{Store, StoreError};
use basalt_l1::{
    check_tx, child_fees, precheck_action, threads_worth, verify_all_threads, verify_block_threads,
    verify_block_with_threads, Action, Block, BlockBuilder, BlockError, ExecutedBlock, FailureCode,
    Header, L1State, PrecheckError, SignedTransaction, StateDiff, StateView, VerifiedTx,
};
use basalt_types::{DecodeError, Hash, PublicKey};
use std::collections::{HashMap, VecDeque};

/// Most rejected transaction ids remembered for status queries.
const REJECTED_MEMORY: usize = 10_000;
/// Most locally submitted transactions waiting to be gossiped; older ones are dropped from the queue
/// (they stay in the mempool) when no gossip task drains it.
const OUTBOX_LIMIT: usize = 100_000;

/// Locks the shared chain. A panic elsewhere while holding the lock is a bug, but it must not take
/// every reader down with it, so a poisoned lock is recovered.
pub fn lock(chain: &std::sync::Mutex<Chain>) -> std::sync::MutexGuard<'_, Chain> {
    chain
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Decodes untrusted bytes into a signature-checked transaction (no chain state needed: call it
/// without holding the chain lock).
pub fn decode_and_verify(bytes: &[u8]) -> Result<VerifiedTx, SubmitError> {
    Ok(SignedTransaction::decode_untrusted(bytes)?.verify()?)
}

/// Where a transaction stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// In the mempool.
    Pending,
    /// In a verified block not yet finalized.
    Included {
        /// Height of that block.
        height: u64,
    },
    /// In a finalized block.
    Finalized {
        /// Height.
        height: u64,
        /// Why its action had no effect, if it had none.
        failure: Option<FailureCode>,
    },
    /// Dropped: it was refused or became invalid.
    Rejected {
        /// Why.
        error: String,
    },
    /// Never seen.
    Unknown,
}

/// Why a submitted transaction was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The bytes are not a transaction.
    #[error("malformed transaction: {0}")]
    Malformed(#[from] DecodeError),
    /// The signature does not verify.
    #[error("invalid signature: {0}")]
    BadSignature(#[from] basalt_types::SignatureError),
    /// The mempool refused it.
    #[error(transparent)]
    Refused(#[from] AdmissionError),
}

impl SubmitError {
    /// A stable name for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            SubmitError::Malformed(_) => "malformed",
            SubmitError::BadSignature(_) => "bad_signature",
            SubmitError::Refused(e) => e.reason(),
        }
    }
}

/// Why a block could not be proposed, verified or finalized.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The parent is neither the finalized head nor a known unfinalized block.
    #[error("unknown parent {0}")]
    UnknownParent(Hash),
    /// The block breaks a rule.
    #[error("invalid block: {0}")]
    Invalid(#[from] BlockError),
    /// Storage failed; the node cannot go on safely.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct PendingBlock {
    block: Block,
    diff: StateDiff,
}

/// The unfinalized chain from the finalized head to `tip`, oldest first.
fn ancestry<'a>(
    state: &L1State,
    pending: &'a HashMap<Hash, PendingBlock>,
    tip: &Hash,
) -> Result<Vec<&'a StateDiff>, ChainError> {
    let head = state.head().hash();
    let mut chain = Vec::new();
    let mut at = *tip;
    while at != head {
        let p = pending.get(&at).ok_or(ChainError::UnknownParent(at))?;
        chain.push(&p.diff);
        at = p.diff.header.parent;
    }
    chain.reverse();
    Ok(chain)
}

/// The chain as one node sees it.
pub struct Chain {
    state: L1State,
    store: Store,
    pending: HashMap<Hash, PendingBlock>,
    mempool: Mempool,
    rejected: HashMap<Hash, String>,
    rejected_order: VecDeque<Hash>,
    outbox: VecDeque<Vec<u8>>,
    /// Set once the chain knows whose it is ([`Chain::label_metrics`]).
    metrics: Option<ChainMetrics>,
    /// Threads a peer's block is verified on ([`Chain::set_execution_threads`]).
    threads: usize,
}

impl Chain {
    /// Wraps recovered state and its store.
    pub fn new(state: L1State, store: Store, limits: MempoolLimits) -> Self {
        Chain {
            state,
            store,
            pending: HashMap::new(),
            mempool: Mempool::new(limits),
            rejected: HashMap::new(),
            rejected_order: VecDeque::new(),
            outbox: VecDeque::new(),
            metrics: None,
            threads: 1,
        }
    }

    /// Verifies peers' blocks on `threads` threads (at least 1): the same verdict, block and
    /// state on any count, faster on a node with the cores.
    pub fn set_execution_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// Labels this chain's metrics with its validator's key.
    pub fn label_metrics(&mut self, validator: &PublicKey) {
        self.metrics = Some(ChainMetrics::new(&crate::metrics::validator_name(
            &validator.0,
        )));
    }

    fn record_mempool(&self) {
        if let Some(m) = &self.metrics {
            m.mempool(
                self.mempool.len(),
                self.mempool.bytes(),
                self.mempool.queued(),
            );
        }
    }

    /// Counts one submitted transaction's fate: `accepted` or the reason it was refused (RPC calls
    /// it for refusals before the lock: undecodable, bad signature).
    pub fn count_admission(&self, result: &'static str) {
        if let Some(m) = &self.metrics {
            m.admission(result);
        }
    }

    fn record_admission(&self, result: &Result<Hash, AdmissionError>) {
        self.count_admission(match result {
            Ok(_) => "accepted",
            Err(e) => e.reason(),
        });
    }

    /// Finalized state.
    pub fn state(&self) -> &L1State {
        &self.state
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Transactions in the mempool.
    pub fn mempool_len(&self) -> usize {
        self.mempool.len()
    }

    /// The nonce a sender's next transaction should carry, counting its queued transactions.
    pub fn pending_nonce(&self, sender: &PublicKey) -> u64 {
        let account_nonce = self.state.account(sender).map_or(0, |a| a.nonce);
        self.mempool.pending_nonce(sender, account_nonce)
    }

    /// Fees the next block on the finalized head will charge.
    pub fn next_fees(&self) -> (u64, u64) {
        child_fees(self.state.head(), self.state.params())
    }

    /// The header of a block this node knows, finalized head or unfinalized.
    pub fn known_header(&self, hash: &Hash) -> Option<&Header> {
        if *hash == self.state.head().hash() {
            return Some(self.state.head());
        }
        self.pending.get(hash).map(|p| &p.diff.header)
    }

    /// Admits a transaction from outside (decoding and signature check included).
    pub fn submit(&mut self, bytes: &[u8]) -> Result<Hash, SubmitError> {
        let tx = decode_and_verify(bytes).inspect_err(|e| self.count_admission(e.reason()))?;
        Ok(self.admit(tx)?)
    }

    /// Admits a transaction from a client and queues it for gossip to the other validators.
    pub fn submit_local(&mut self, bytes: &[u8]) -> Result<Hash, SubmitError> {
        let tx = decode_and_verify(bytes).inspect_err(|e| self.count_admission(e.reason()))?;
        Ok(self.admit_local(tx, bytes)?)
    }

    /// Admits a signature-checked transaction into the mempool.
    pub fn admit(&mut self, tx: VerifiedTx) -> Result<Hash, AdmissionError> {
        let result = self.insert(tx);
        self.record_admission(&result);
        result
    }

    fn insert(&mut self, tx: VerifiedTx) -> Result<Hash, AdmissionError> {
        let hash = tx.hash();
        let account = self.state.account(&tx.tx().signer);
        let (chain_id, fees) = (self.state.chain_id(), self.next_fees());
        self.mempool
            .insert(tx, chain_id, self.state.params(), account, fees)?;
        self.rejected.remove(&hash);
        self.record_mempool();
        Ok(hash)
    }

    /// Admits a signature-checked transaction from a client and queues its bytes for gossip.
    /// A rollup action that would fail against the finalized state is refused with its reason
    /// instead of paying a fee for nothing.
    pub fn admit_local(&mut self, tx: VerifiedTx, bytes: &[u8]) -> Result<Hash, AdmissionError> {
        let result = self.insert_local(tx, bytes);
        self.record_admission(&result);
        result
    }

    fn insert_local(&mut self, tx: VerifiedTx, bytes: &[u8]) -> Result<Hash, AdmissionError> {
        let t = tx.tx();
        // The cheap checks (chain, fees, nonce, balance for the maximum cost) before the action's
        // precheck, which prices heavy work (batch decodes, one-step re-runs) without doing it.
        let (base_fee, blob_base_fee) = self.next_fees();
        check_tx(
            t,
            self.state.chain_id(),
            self.state.params(),
            self.state.account(&t.signer),
            base_fee,
            blob_base_fee,
        )?;
        // Only a transaction at the sender's next nonce runs on the finalized state; one behind
        // the sender's own pending transactions runs after them (a sequencer's pipelined batch
        // takes the number the one before it leaves), so the finalized state cannot judge it. It
        // pays for its gas like any other if it fails.
        let next_nonce = self.state.account(&t.signer).map_or(0, |a| a.nonce);
        if t.tx.nonce == next_nonce {
            let max_gas_cost = t.tx.gas_limit as u128 * t.tx.max_fee_per_gas as u128;
            precheck_action(
                &StateView::new(&self.state, Vec::new()),
                &t.signer,
                &t.tx.action,
                t.tx.gas_limit,
                max_gas_cost,
            )
            .map_err(AdmissionError::ActionFails)?;
        }
        let hash = self.insert(tx)?;
        if self.outbox.len() >= OUTBOX_LIMIT {
            self.outbox.pop_front();
        }
        self.outbox.push_back(bytes.to_vec());
        Ok(hash)
    }

    /// The gas `signer`'s `action` would use on the finalized state, or why it would fail.
    pub fn estimate_gas(&self, signer: &PublicKey, action: &Action) -> Result<u64, PrecheckError> {
        basalt_l1::estimate_gas(&StateView::new(&self.state, Vec::new()), signer, action)
    }

    /// Signature-checked copies of a block's transactions: those this node already verified at
    /// admission (same bytes, so same hash) are taken from the mempool, the rest are batch-verified.
    fn verified_txs(&self, txs: &[SignedTransaction]) -> Result<Vec<VerifiedTx>, BlockError> {
        let mut out: Vec<Option<VerifiedTx>> = Vec::with_capacity(txs.len());
        let (mut unknown, mut positions) = (Vec::new(), Vec::new());
        for (i, t) in txs.iter().enumerate() {
            match self.mempool.get(&t.hash()) {
                Some(v) => out.push(Some(v.clone())),
                None => {
                    out.push(None);
                    unknown.push(t.clone());
                    positions.push(i);
                }
            }
        }
        let verified = verify_all_threads(unknown, threads_worth(self.threads, positions.len()))
            .map_err(|(i, err)| BlockError::BadSignature {
                index: positions[i],
                err,
            })?;
        for (i, v) in positions.into_iter().zip(verified) {
            out[i] = Some(v);
        }
        Ok(out
            .into_iter()
            .map(|v| v.expect("every position filled"))
            .collect())
    }

    /// Takes the transactions waiting to be gossiped.
    pub fn take_outbox(&mut self) -> Vec<Vec<u8>> {
        self.outbox.drain(..).collect()
    }

    /// Builds a block on `parent` from the mempool.
    pub fn propose(
        &mut self,
        parent: Hash,
        timestamp_ms: u64,
        proposer: PublicKey,
        max_txs: usize,
    ) -> Result<Block, ChainError> {
        self.propose_with(parent, timestamp_ms, proposer, max_txs, &[])
    }

    /// Builds a block on `parent` from `first` (those that apply), then the mempool.
    pub fn propose_with(
        &mut self,
        parent: Hash,
        timestamp_ms: u64,
        proposer: PublicKey,
        max_txs: usize,
        first: &[VerifiedTx],
    ) -> Result<Block, ChainError> {
        let Chain {
            state,
            pending,
            mempool,
            ..
        } = self;
        let started = std::time::Instant::now();
        let view = StateView::new(state, ancestry(state, pending, &parent)?);
        let timestamp_ms = timestamp_ms.max(view.head().timestamp_ms + 1);
        let mut builder = BlockBuilder::new(&view);
        for tx in first.iter().take(max_txs) {
            let _ = builder.apply(tx);
        }
        let dropped = mempool.fill(&mut builder, max_txs);
        let executed =
            builder
                .finish(timestamp_ms, proposer)
                .map_err(|err| BlockError::InvalidTx {
                    index: usize::MAX,
                    err,
                })?;
        drop(view);
        for (hash, err) in dropped {
            self.remember_rejected(hash, err.to_string());
        }
        let block = executed.block.clone();
        self.remember(executed);
        if let Some(m) = &self.metrics {
            m.proposed(started.elapsed().as_secs_f64());
        }
        self.record_mempool();
        Ok(block)
    }

    /// Verifies a peer's block on its parent and remembers it for finalization.
    pub fn verify(&mut self, block: &Block) -> Result<(), ChainError> {
        let hash = block.hash();
        if self.pending.contains_key(&hash) {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let txs = self.verified_txs(&block.txs)?;
        let view = StateView::new(
            &self.state,
            ancestry(&self.state, &self.pending, &block.header.parent)?,
        );
        let executed = verify_block_with_threads(&view, &block.header, &txs, self.threads)?;
        drop(view);
        self.remember(executed);
        if let Some(m) = &self.metrics {
            m.verified(started.elapsed().as_secs_f64());
        }
        Ok(())
    }

    fn remember(&mut self, executed: ExecutedBlock) {
        let hash = executed.block.hash();
        self.pending.insert(
            hash,
            PendingBlock {
                block: executed.block,
                diff: executed.diff,
            },
        );
    }

    /// Finalizes a block: executes it if this node has not, applies it, commits it durably, and
    /// prunes the mempool and abandoned forks. Blocks must be finalized in height order.
    pub fn finalize(&mut self, block: &Block) -> Result<Header, ChainError> {
        let hash = block.hash();
        if block.header.height <= self.state.head().height {
            return Ok(self.state.head().clone()); // already finalized (replay after restart)
        }
        if block.header.parent != self.state.head().hash() {
            return Err(ChainError::UnknownParent(block.header.parent));
        }
        let pending = match self.pending.remove(&hash) {
            Some(p) => p,
            None => {
                let view = StateView::new(&self.state, vec![]);
                let executed = verify_block_threads(&view, block, self.threads)?;
                PendingBlock {
                    block: executed.block,
                    diff: executed.diff,
                }
            }
        };
        // Durable first: a crash after this line recovers the new head from disk.
        self.store.commit_block(&pending.block, &pending.diff)?;
        self.state.apply(&pending.diff);
        let height = self.state.head().height;
        self.pending.retain(|_, p| p.diff.header.height > height);
        let state = &self.state;
        let (base_fee, _) = child_fees(state.head(), state.params());
        self.mempool
            .prune(|k| state.account(k).map_or(0, |a| a.nonce), base_fee);
        self.record_mempool();
        let head = self.state.head().clone();
        if let Some(m) = &self.metrics {
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            m.finalized(
                head.height,
                now_ms.saturating_sub(head.timestamp_ms) as f64 / 1000.0,
            );
        }
        Ok(head)
    }

    fn remember_rejected(&mut self, hash: Hash, error: String) {
        if self.rejected.insert(hash, error).is_none() {
            self.rejected_order.push_back(hash);
            if self.rejected_order.len() > REJECTED_MEMORY {
                if let Some(old) = self.rejected_order.pop_front() {
                    self.rejected.remove(&old);
                }
            }
        }
    }

    /// Where a transaction stands.
    pub fn tx_status(&self, hash: &Hash) -> Result<TxStatus, StoreError> {
        if let Some(loc) = self.store.tx(hash)? {
            return Ok(TxStatus::Finalized {
                height: loc.height,
                failure: loc.receipt.failure,
            });
        }
        for p in self.pending.values() {
            if p.diff.receipts.iter().any(|r| r.tx_hash == *hash) {
                return Ok(TxStatus::Included {
                    height: p.diff.header.height,
                });
            }
        }
        if self.mempool.contains(hash) {
            return Ok(TxStatus::Pending);
        }
        if let Some(e) = self.rejected.get(hash) {
            return Ok(TxStatus::Rejected { error: e.clone() });
        }
        Ok(TxStatus::Unknown)
    }
}
