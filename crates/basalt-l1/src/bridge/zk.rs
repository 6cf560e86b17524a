//! Validity-proof settlement, the rules of a ZK rollup: its deposits carry BabyJubJub keys, checked
//! when queued; its batches are decoded when posted, so the L1 knows the exact deposits each
//! consumes and the Poseidon data hash its proof must take; a proof of the next unsettled batch
//! settles its output at once; and the sequencer may revert unproven batches, which settle as
//! no-ops, so that a batch no proof can exist for holds no funds.
//!
//! The proof's public inputs are `[prior output, new output, data hash]`, each a BN254 field
//! element, carried on L1 as 32 big-endian bytes ([`felt_hash`]). The L1 computes the prior and the
//! data hash itself; only the new output comes from the prover, and the proof binds it.

use super::OUTPUTS_DOMAIN;
use super::{fold, BatchRecord, OutputRecord, RollupError, RollupHeader, ViewDeposits};
use crate::exec::BlockBuilder;
use crate::view::StateRead;
use basalt_l2::{BatchHeader, DepositEntry, Deposits, Zk};
use basalt_types::zk::{BabyPublicKey, Felt};
use basalt_types::{Decode, Encode, Hash, PublicKey};
use std::sync::Arc;

/// Most batches a ZK rollup may hold posted and unproven: bounds what one revert settles.
pub const MAX_UNPROVEN_BATCHES: u64 = 256;

/// A field element as the L1 carries it: 32 big-endian bytes.
pub fn felt_hash(f: Felt) -> Hash {
    Hash(f.to_be_bytes())
}

/// The field element 32 bytes carry, if they are below the modulus.
pub fn hash_felt(h: &Hash) -> Option<Felt> {
    Felt::from_be_bytes(&h.0)
}

/// The BabyJubJub key a ZK deposit's 32 key bytes pack (circomlib's packed point), if they are a
/// point of the prime-order subgroup.
pub fn zk_key(key: &PublicKey) -> Option<BabyPublicKey> {
    BabyPublicKey::from_bytes(&key.0).ok()
}

impl<S: StateRead> Deposits<Zk> for ViewDeposits<'_, S> {
    fn get(&self, index: u64) -> Option<DepositEntry<Zk>> {
        if index >= self.end {
            return None;
        }
        let r = self.state.deposit(self.rollup, index)?;
        Some(DepositEntry {
            forced: r.zk_forced,
            account: r.entry.account,
            key: zk_key(&r.entry.key)?,
            amount: r.entry.amount,
        })
    }
}

impl BlockBuilder<'_> {
    /// Checks a ZK deposit's key before it is queued: a key that is not a point would make every
    /// batch that consumes the deposit unprovable, and block the queue behind it.
    pub(crate) fn check_zk_deposit(&mut self, key: &PublicKey) -> Result<(), RollupError> {
        self.charge(crate::gas::ZK_KEY_GAS)?;
        if zk_key(key).is_none() {
            return Err(RollupError::BadL2Key);
        }
        Ok(())
    }

    /// The deposit range end and data hash of a ZK batch being posted: its blob must decode to at
    /// most `slots` transactions, and its deposits must be queued, starting where the previous
    /// batch's ended. Charged (decode and one hash a transaction, then each deposit's key) before
    /// the work.
    pub(crate) fn zk_batch_input(
        &mut self,
        h: &RollupHeader,
        slots: u32,
        data: &[u8],
        declared_end: u64,
    ) -> Result<(BatchHeader, u64, Hash), RollupError> {
        if h.batch_count - h.settled >= MAX_UNPROVEN_BATCHES {
            return Err(RollupError::TooManyUnproven(MAX_UNPROVEN_BATCHES));
        }
        let header = basalt_l2::batch_header(data).map_err(|_| RollupError::Unprovable)?;
        if header.tx_count > slots as u64 {
            return Err(RollupError::TooManyTxs {
                txs: header.tx_count,
                slots,
            });
        }
        self.charge(crate::gas::zk_post(header.raw_len, header.tx_count))?;
        if self.pricing_only {
            return Ok((header, declared_end, Hash::ZERO));
        }
        let posted = basalt_l2::decode_zk_batch(data).map_err(|_| RollupError::Unprovable)?;
        let consumed = posted
            .iter()
            .filter(|t| matches!(t, basalt_l2::PostedTx::Deposit))
            .count() as u64;
        // Counted by the decode, charged before any key is read.
        self.charge(crate::gas::ZK_DATA_DEPOSIT_GAS.saturating_mul(consumed))?;
        let end = h.deposits_end + consumed;
        if end != declared_end || end > h.deposit_count {
            return Err(RollupError::BadDepositRange {
                end: declared_end,
                consumed: end,
                queued: h.deposit_count,
            });
        }
        let state = self.state();
        let deposits = ViewDeposits {
            state: &state,
            rollup: h.id,
            end,
        };
        let input = basalt_l2::data_hash(
            &h.params.l2_config(h.id),
            &posted,
            &deposits,
            h.deposits_end,
        )
        .map_err(|_| RollupError::Unprovable)?;
        Ok((header, end, felt_hash(input)))
    }

    /// Settles batch `batch` of a ZK rollup on a validity proof of `output`.
    pub(crate) fn prove_batch(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        batch: u64,
        output: Hash,
        proof: &[u8],
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        if h.params.kind.zk().is_none() {
            return Err(RollupError::NotZk);
        }
        self.refuse_frozen(&h)?;
        if batch < h.settled {
            return Err(RollupError::AlreadySettled(batch));
        }
        if batch >= h.batch_count {
            return Err(RollupError::BatchNotPosted(batch));
        }
        if batch != h.settled {
            return Err(RollupError::ProveInOrder {
                next: h.settled,
                got: batch,
            });
        }
        let new = hash_felt(&output).ok_or(RollupError::NotAFieldElement)?;
        if proof.len() != basalt_zk::PROOF_BYTES {
            return Err(RollupError::BadProof(basalt_zk::ZkError::BadProofLength(
                proof.len(),
            )));
        }
        let record = self
            .state()
            .batch(rollup, batch)
            .expect("posted batches exist");
        let prior = self
            .state()
            .settled_prior(rollup, batch)
            .expect("the batch before the first unsettled one has settled");
        // The price is the action's intrinsic gas; the checks above cost a lookup each.
        if !self.pricing_only {
            let verifier = self.verifier(&h)?;
            let inputs = [
                hash_felt(&prior).expect("outputs are field elements"),
                new,
                hash_felt(&record.proof_input).expect("data hashes are field elements"),
            ];
            verifier
                .verify(&inputs.map(|f| f.0), proof)
                .map_err(RollupError::BadProof)?;
        }
        self.settle_zk(h, vec![(batch, prior, output, record)], signer);
        Ok(())
    }

    /// Reverts every unproven batch of a ZK rollup from `from` (its first unsettled batch): each
    /// settles as a no-op on the last settled output, and the queue resumes where the settled
    /// batches left it.
    pub(crate) fn revert_batches(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        from: u64,
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        if h.params.kind.zk().is_none() {
            return Err(RollupError::NotZk);
        }
        self.refuse_frozen(&h)?;
        if signer != h.params.sequencer {
            return Err(RollupError::NotSequencer {
                sequencer: h.params.sequencer,
                sender: signer,
            });
        }
        if from != h.settled || from >= h.batch_count {
            return Err(RollupError::ProveInOrder {
                next: h.settled,
                got: from,
            });
        }
        let count = h.batch_count - from;
        self.charge(crate::gas::REVERT_BATCH_GAS * count)?;
        let prior = self
            .state()
            .settled_prior(rollup, from)
            .expect("the batch before the first unsettled one has settled");
        let reverted = (from..h.batch_count)
            .map(|b| {
                let record = self.state().batch(rollup, b).expect("posted batches exist");
                (b, prior, prior, record)
            })
            .collect();
        self.settle_zk(h, reverted, signer);
        Ok(())
    }

    /// Appends settled outputs `(batch, prior, output, record)`, in batch order, to a ZK rollup's
    /// chain; a no-op (`output == prior`) leaves the deposit cursor where it was.
    fn settle_zk(
        &mut self,
        mut h: RollupHeader,
        settled: Vec<(u64, Hash, Hash, BatchRecord)>,
        by: PublicKey,
    ) {
        let height = self.height;
        let mut records = Vec::with_capacity(settled.len());
        for (batch, prior, output, batch_record) in settled {
            if output != prior {
                h.settled_deposits = batch_record.deposits_end;
                h.settled_at = height;
            }
            let record = OutputRecord {
                batch,
                prior,
                output,
                proposer: by,
                bond: 0,
                height,
            };
            h.proposals_digest = fold(h.proposals_digest, OUTPUTS_DOMAIN, &record.to_bytes());
            records.push(record);
        }
        let first = h.proposal_count;
        h.proposal_count += records.len() as u64;
        h.settled += records.len() as u64;
        if h.settled == h.batch_count {
            // Nothing unsettled is left (always so after a revert): the queue resumes after the
            // last batch that applied.
            h.deposits_end = h.settled_deposits;
        }
        let d = self.write_header(h);
        d.chain.extend(first..first + records.len() as u64);
        d.proposals.extend(records);
    }

    /// The prepared verifying key of a ZK rollup, decoded once per block (every proof pays for
    /// the decode in its intrinsic gas, decoded or not, so its price does not depend on the block).
    fn verifier(&mut self, h: &RollupHeader) -> Result<Arc<basalt_zk::Verifier>, RollupError> {
        if let Some(v) = self.verifiers.get(&h.id) {
            return Ok(v.clone());
        }
        let zk = h.params.kind.zk().expect("a ZK rollup");
        let v = Arc::new(
            basalt_zk::Verifier::from_bytes(&zk.verifying_key).map_err(RollupError::BadProof)?,
        );
        self.verifiers.insert(h.id, v.clone());
        Ok(v)
    }
}
