//! The rollup registry and bridge: what the L1 keeps for each rollup, and how it is committed.
//!
//! For each registered rollup the L1 keeps its parameters, the funds it escrows, the queue of
//! deposits, the batches its sequencer posted, the outputs proposed on top of them (each with a
//! bond) and the withdrawals already paid. The L1 never executes L2 transactions here: it orders
//! data, holds funds and settles outputs once their challenge window passes.

use basalt_l2::{Config, DepositEntry, L2State, Optimistic};
use basalt_types::codec::{put_bytes, put_list, put_varint};
use basalt_types::{hash_parts, Amount, Decode, DecodeError, Decoder, Encode, Hash, PublicKey};
use std::collections::HashSet;

/// Longest rollup name.
pub const MAX_ROLLUP_NAME: usize = 32;
/// Longest challenge window, in blocks.
pub const MAX_CHALLENGE_WINDOW: u64 = 1_000_000;

/// How a rollup's outputs settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RollupKind {
    /// Outputs settle when their challenge window passes unchallenged.
    Optimistic,
}

impl RollupKind {
    /// Lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            RollupKind::Optimistic => "optimistic",
        }
    }
}

/// What a rollup fixes when it registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupParams {
    /// Unique name: 1 to 32 of `a-z`, `0-9`, `-`.
    pub name: String,
    /// How outputs settle.
    pub kind: RollupKind,
    /// The only account that may post batches; also the key of the L2 fee account.
    pub sequencer: PublicKey,
    /// Blocks an output waits, unchallenged, before it settles.
    pub challenge_window: u64,
    /// Bond a proposer locks with each output until it settles.
    pub proposer_bond: Amount,
    /// Least fee an L2 transfer or withdrawal pays.
    pub min_fee: Amount,
}

impl RollupParams {
    /// Checks the parameters, naming the first bad one.
    pub fn validate(&self) -> Result<(), RollupError> {
        let bad = |why: &'static str| Err(RollupError::BadParams(why));
        if self.name.is_empty()
            || self.name.len() > MAX_ROLLUP_NAME
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return bad("name must be 1 to 32 of a-z, 0-9 and -");
        }
        if self.challenge_window == 0 || self.challenge_window > MAX_CHALLENGE_WINDOW {
            return bad("challenge window must be 1 to 1,000,000 blocks");
        }
        if self.proposer_bond == 0 {
            return bad("proposer bond must be positive");
        }
        Ok(())
    }

    /// The L2 rules of the rollup with id `id`.
    pub fn l2_config(&self, id: u32) -> Config {
        Config {
            rollup_id: id,
            min_fee: self.min_fee,
        }
    }
}

impl Encode for RollupParams {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_bytes(out, self.name.as_bytes());
        out.push(match self.kind {
            RollupKind::Optimistic => 0,
        });
        self.sequencer.encode_to(out);
        put_varint(out, self.challenge_window as u128);
        put_varint(out, self.proposer_bond);
        put_varint(out, self.min_fee);
    }
}

impl Decode for RollupParams {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let name = String::from_utf8(d.bytes("rollup name", MAX_ROLLUP_NAME)?.to_vec())
            .map_err(|_| DecodeError::Invalid("rollup name (not UTF-8)"))?;
        let kind = match d.u8()? {
            0 => RollupKind::Optimistic,
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "rollup kind",
                    tag: tag as u64,
                })
            }
        };
        Ok(RollupParams {
            name,
            kind,
            sequencer: PublicKey::decode_from(d)?,
            challenge_window: d.varint_u64()?,
            proposer_bond: d.varint()?,
            min_fee: d.varint()?,
        })
    }
}

/// Why a rollup action failed. The transaction still pays its fee; nothing else changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollupError {
    /// Registration parameters are out of range.
    #[error("invalid rollup parameters: {0}")]
    BadParams(&'static str),
    /// The name is taken.
    #[error("a rollup named {0:?} is already registered")]
    NameTaken(String),
    /// No rollup has this id.
    #[error("no rollup with id {0}")]
    UnknownRollup(u32),
    /// The id space is exhausted.
    #[error("rollup registry is full")]
    RegistryFull,
    /// An amount is zero where it must be positive.
    #[error("amount must be positive")]
    ZeroAmount,
    /// The sender cannot pay the amount.
    #[error("insufficient balance: need {need}, have {have}")]
    InsufficientBalance {
        /// Amount needed beyond fees.
        need: Amount,
        /// Balance after fees.
        have: Amount,
    },
    /// Only the rollup's sequencer posts batches.
    #[error("only the sequencer {sequencer} may post batches, not {sender}")]
    NotSequencer {
        /// The registered sequencer.
        sequencer: PublicKey,
        /// Who tried.
        sender: PublicKey,
    },
    /// The declared data hash is not the hash of the posted data.
    #[error("data hash {declared} does not match the blob's hash {actual}")]
    DataHashMismatch {
        /// What the batch declared.
        declared: Hash,
        /// What the data hashes to.
        actual: Hash,
    },
    /// The deposit range goes backwards or past the queue.
    #[error("deposit range ..{end} must cover at least ..{consumed} and at most the {queued} queued deposits")]
    BadDepositRange {
        /// The batch's declared end.
        end: u64,
        /// Where the previous batch ended.
        consumed: u64,
        /// Deposits queued.
        queued: u64,
    },
    /// Outputs are proposed in batch order, one per batch.
    #[error("the next output to propose is for batch {expected}, not {got}")]
    WrongBatch {
        /// The next batch without an output.
        expected: u64,
        /// The batch named.
        got: u64,
    },
    /// The batch has not been posted.
    #[error("batch {0} has not been posted")]
    BatchNotPosted(u64),
    /// The claimed prior output is not the output of the previous batch.
    #[error("prior output {got} is not the output {expected} of the previous batch")]
    WrongPrior {
        /// The previous batch's output.
        expected: Hash,
        /// What the proposal builds on.
        got: Hash,
    },
    /// The output has not settled (or does not exist).
    #[error("the output of batch {0} has not settled")]
    NotSettled(u64),
    /// The roots given do not hash to the settled output.
    #[error("state root and withdrawals root do not hash to the settled output of batch {0}")]
    OutputMismatch(u64),
    /// The withdrawal is beyond the withdrawals the output commits to.
    #[error("withdrawal {index} is beyond the {count} withdrawals of that output")]
    WithdrawalOutOfRange {
        /// The index claimed.
        index: u64,
        /// Withdrawals in the output.
        count: u64,
    },
    /// The Merkle proof does not place this withdrawal under the withdrawals root.
    #[error("withdrawal proof does not verify against the settled withdrawals root")]
    BadWithdrawalProof,
    /// The withdrawal was paid already.
    #[error("withdrawal {0} was already claimed")]
    AlreadyClaimed(u64),
    /// The escrow cannot cover the payment (a broken invariant: refused rather than minted).
    #[error("escrow {escrow} cannot pay {amount}")]
    EscrowShort {
        /// Escrow held.
        escrow: Amount,
        /// Payment asked.
        amount: Amount,
    },
    /// An amount overflowed 128 bits.
    #[error("amount overflow")]
    Overflow,
}

/// A deposit waiting in a rollup's queue (and, once consumed, its record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositRecord {
    /// The queue entry the L2 state transition reads.
    pub entry: DepositEntry<Optimistic>,
    /// The L1 account that paid.
    pub sender: PublicKey,
    /// L1 block that queued it.
    pub height: u64,
}

impl Encode for DepositRecord {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.entry.encode_to(out);
        self.sender.encode_to(out);
        put_varint(out, self.height as u128);
    }
}

impl Decode for DepositRecord {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(DepositRecord {
            entry: DepositEntry::decode_from(d)?,
            sender: PublicKey::decode_from(d)?,
            height: d.varint_u64()?,
        })
    }
}

/// A batch the sequencer posted: its data is the blob with digest `data_hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRecord {
    /// Digest of the blob holding the batch (see [`crate::blob_hash`]).
    pub data_hash: Hash,
    /// The batch may consume queued deposits with index below this.
    pub deposits_end: u64,
    /// L1 block that posted it.
    pub height: u64,
}

impl Encode for BatchRecord {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.data_hash.encode_to(out);
        put_varint(out, self.deposits_end as u128);
        put_varint(out, self.height as u128);
    }
}

impl Decode for BatchRecord {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(BatchRecord {
            data_hash: Hash::decode_from(d)?,
            deposits_end: d.varint_u64()?,
            height: d.varint_u64()?,
        })
    }
}

/// A proposed output: the L2 output after batch `batch`, with the bond that backs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputRecord {
    /// The batch it follows.
    pub batch: u64,
    /// The output it builds on (the previous batch's, or the rollup's genesis output).
    pub prior: Hash,
    /// The claimed output, H(state root, withdrawals root).
    pub output: Hash,
    /// Who proposed it; the bond returns to them.
    pub proposer: PublicKey,
    /// The bond locked.
    pub bond: Amount,
    /// L1 block that proposed it.
    pub height: u64,
}

impl OutputRecord {
    /// The block at which it settles if unchallenged.
    pub fn settles_at(&self, challenge_window: u64) -> u64 {
        self.height.saturating_add(challenge_window)
    }
}

impl Encode for OutputRecord {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.batch as u128);
        self.prior.encode_to(out);
        self.output.encode_to(out);
        self.proposer.encode_to(out);
        put_varint(out, self.bond);
        put_varint(out, self.height as u128);
    }
}

impl Decode for OutputRecord {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(OutputRecord {
            batch: d.varint_u64()?,
            prior: Hash::decode_from(d)?,
            output: Hash::decode_from(d)?,
            proposer: PublicKey::decode_from(d)?,
            bond: d.varint()?,
            height: d.varint_u64()?,
        })
    }
}

/// A claim of an L2 withdrawal on L1, against a Merkle proof into a settled output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalClaim {
    /// Rollup id.
    pub rollup: u32,
    /// A batch whose output has settled.
    pub batch: u64,
    /// The state root of that output.
    pub state_root: Hash,
    /// The withdrawals tree root of that output.
    pub withdrawals_tree_root: Hash,
    /// Withdrawals that output contains.
    pub withdrawal_count: u64,
    /// Index of the withdrawal in the tree.
    pub index: u64,
    /// The L1 account paid.
    pub recipient: PublicKey,
    /// The amount paid.
    pub amount: Amount,
    /// Sibling digests from the leaf up (exactly the tree depth).
    pub proof: Vec<Hash>,
}

impl Encode for WithdrawalClaim {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.rollup as u128);
        put_varint(out, self.batch as u128);
        self.state_root.encode_to(out);
        self.withdrawals_tree_root.encode_to(out);
        put_varint(out, self.withdrawal_count as u128);
        put_varint(out, self.index as u128);
        self.recipient.encode_to(out);
        put_varint(out, self.amount);
        put_list(out, &self.proof);
    }
}

impl Decode for WithdrawalClaim {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(WithdrawalClaim {
            rollup: u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)?,
            batch: d.varint_u64()?,
            state_root: Hash::decode_from(d)?,
            withdrawals_tree_root: Hash::decode_from(d)?,
            withdrawal_count: d.varint_u64()?,
            index: d.varint_u64()?,
            recipient: PublicKey::decode_from(d)?,
            amount: d.varint()?,
            proof: d.list("withdrawal proof", basalt_merkle::DEFAULT_DEPTH as usize)?,
        })
    }
}

/// Running digest of an append-only list: each item folds into the previous digest.
pub fn fold(acc: Hash, domain: &str, item: &[u8]) -> Hash {
    hash_parts(domain, &[&acc.0, item])
}

/// The summary of a rollup that the L1 state root commits to. The lists it counts are committed
/// by running digests, so a block that appends to them costs the same however long they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupHeader {
    /// Registry index; also the L2 `rollup_id` that signatures bind to.
    pub id: u32,
    /// Registration parameters.
    pub params: RollupParams,
    /// The output of the rollup's genesis state: what batch 0's output builds on.
    pub genesis_output: Hash,
    /// Funds held for the rollup's users.
    pub escrow: Amount,
    /// Proposer bonds held.
    pub bonds: Amount,
    /// Deposits queued so far.
    pub deposit_count: u64,
    /// Running digest of the deposit queue.
    pub deposits_digest: Hash,
    /// Batches posted so far.
    pub batch_count: u64,
    /// Running digest of the batches.
    pub batches_digest: Hash,
    /// The deposit range end of the last batch.
    pub deposits_end: u64,
    /// Outputs proposed so far (one per batch, in order).
    pub output_count: u64,
    /// Running digest of the outputs.
    pub outputs_digest: Hash,
    /// Outputs settled so far (always a prefix).
    pub settled: u64,
    /// Withdrawals paid so far.
    pub claim_count: u64,
    /// Running digest of the paid withdrawal indices.
    pub claims_digest: Hash,
}

impl RollupHeader {
    /// A freshly registered rollup.
    pub fn new(id: u32, params: RollupParams) -> Self {
        let genesis_output =
            L2State::<Optimistic>::genesis(params.l2_config(id), params.sequencer).output();
        RollupHeader {
            id,
            params,
            genesis_output,
            escrow: 0,
            bonds: 0,
            deposit_count: 0,
            deposits_digest: Hash::ZERO,
            batch_count: 0,
            batches_digest: Hash::ZERO,
            deposits_end: 0,
            output_count: 0,
            outputs_digest: Hash::ZERO,
            settled: 0,
            claim_count: 0,
            claims_digest: Hash::ZERO,
        }
    }

    /// The digest the L1 state root commits to.
    pub fn hash(&self) -> Hash {
        hash_parts("basalt/l1/rollup", &[&self.to_bytes()])
    }
}

impl Encode for RollupHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_le_bytes());
        self.params.encode_to(out);
        self.genesis_output.encode_to(out);
        put_varint(out, self.escrow);
        put_varint(out, self.bonds);
        put_varint(out, self.deposit_count as u128);
        self.deposits_digest.encode_to(out);
        put_varint(out, self.batch_count as u128);
        self.batches_digest.encode_to(out);
        put_varint(out, self.deposits_end as u128);
        put_varint(out, self.output_count as u128);
        self.outputs_digest.encode_to(out);
        put_varint(out, self.settled as u128);
        put_varint(out, self.claim_count as u128);
        self.claims_digest.encode_to(out);
    }
}

impl Decode for RollupHeader {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(RollupHeader {
            id: d.u32()?,
            params: RollupParams::decode_from(d)?,
            genesis_output: Hash::decode_from(d)?,
            escrow: d.varint()?,
            bonds: d.varint()?,
            deposit_count: d.varint_u64()?,
            deposits_digest: Hash::decode_from(d)?,
            batch_count: d.varint_u64()?,
            batches_digest: Hash::decode_from(d)?,
            deposits_end: d.varint_u64()?,
            output_count: d.varint_u64()?,
            outputs_digest: Hash::decode_from(d)?,
            settled: d.varint_u64()?,
            claim_count: d.varint_u64()?,
            claims_digest: Hash::decode_from(d)?,
        })
    }
}

/// What one block changed in one rollup: its new header and what it appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupDiff {
    /// The header after the block.
    pub header: RollupHeader,
    /// Deposits queued by the block.
    pub deposits: Vec<DepositRecord>,
    /// Batches posted by the block.
    pub batches: Vec<BatchRecord>,
    /// Outputs proposed by the block.
    pub outputs: Vec<OutputRecord>,
    /// Withdrawal indices paid by the block.
    pub claims: Vec<u64>,
}

impl RollupDiff {
    /// A diff that changes nothing yet.
    pub fn new(header: RollupHeader) -> Self {
        RollupDiff {
            header,
            deposits: Vec::new(),
            batches: Vec::new(),
            outputs: Vec::new(),
            claims: Vec::new(),
        }
    }
}

/// Everything the L1 keeps for one rollup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupState {
    /// The committed summary.
    pub header: RollupHeader,
    /// The deposit queue, by index.
    pub deposits: Vec<DepositRecord>,
    /// Posted batches, by index.
    pub batches: Vec<BatchRecord>,
    /// Proposed outputs, by batch.
    pub outputs: Vec<OutputRecord>,
    /// Withdrawal indices paid, in payment order.
    pub claims: Vec<u64>,
    /// The same indices, for lookup.
    pub claimed: HashSet<u64>,
}

impl RollupState {
    /// A rollup with empty lists.
    pub fn new(header: RollupHeader) -> Self {
        RollupState {
            header,
            deposits: Vec::new(),
            batches: Vec::new(),
            outputs: Vec::new(),
            claims: Vec::new(),
            claimed: HashSet::new(),
        }
    }

    /// Applies one block's changes.
    pub fn apply(&mut self, diff: &RollupDiff) {
        self.header = diff.header.clone();
        self.deposits.extend_from_slice(&diff.deposits);
        self.batches.extend_from_slice(&diff.batches);
        self.outputs.extend_from_slice(&diff.outputs);
        self.claims.extend_from_slice(&diff.claims);
        self.claimed.extend(diff.claims.iter().copied());
    }

    /// Checks that the lists match the counts and running digests of the header.
    pub fn check(&self) -> Result<(), String> {
        let h = &self.header;
        let digest = |items: Vec<Vec<u8>>, domain: &str| {
            items
                .iter()
                .fold(Hash::ZERO, |acc, item| fold(acc, domain, item))
        };
        let ok = self.deposits.len() as u64 == h.deposit_count
            && self.batches.len() as u64 == h.batch_count
            && self.outputs.len() as u64 == h.output_count
            && self.claims.len() as u64 == h.claim_count
            && self.claimed.len() == self.claims.len()
            && digest(
                self.deposits.iter().map(|d| d.to_bytes()).collect(),
                DEPOSITS_DOMAIN,
            ) == h.deposits_digest
            && digest(
                self.batches.iter().map(|b| b.to_bytes()).collect(),
                BATCHES_DOMAIN,
            ) == h.batches_digest
            && digest(
                self.outputs.iter().map(|o| o.to_bytes()).collect(),
                OUTPUTS_DOMAIN,
            ) == h.outputs_digest
            && digest(
                self.claims
                    .iter()
                    .map(|c| c.to_le_bytes().to_vec())
                    .collect(),
                CLAIMS_DOMAIN,
            ) == h.claims_digest;
        if ok {
            Ok(())
        } else {
            Err(format!(
                "stored lists of rollup {} do not match its header",
                h.id
            ))
        }
    }
}

/// Domain of the deposit queue's running digest.
pub const DEPOSITS_DOMAIN: &str = "basalt/l1/rollup-deposits";
/// Domain of the batches' running digest.
pub const BATCHES_DOMAIN: &str = "basalt/l1/rollup-batches";
/// Domain of the outputs' running digest.
pub const OUTPUTS_DOMAIN: &str = "basalt/l1/rollup-outputs";
/// Domain of the claims' running digest.
pub const CLAIMS_DOMAIN: &str = "basalt/l1/rollup-claims";
