//! The rollup registry and bridge: what the L1 keeps for each rollup, and how it is committed.
//!
//! For each registered rollup the L1 keeps its parameters, the funds it escrows, the queue of
//! deposits, the batches its sequencer posted, every output proposed on top of them (each with a
//! bond), the chain of live outputs (one per batch), the disputes over them and the withdrawals
//! already paid. The L1 never executes L2 transactions here, except the single step a dispute
//! narrows down to: it orders data, holds funds and settles outputs once their challenge window
//! passes and no challenger is left.

use crate::dispute::{Dispute, DisputeError, DisputeResult};
use basalt_l2::{Config, DepositEntry, L2State, Optimistic};
use basalt_merkle::{Blake3Hasher, MerkleTree, TreeHasher, DEFAULT_DEPTH};
use basalt_types::codec::{put_bytes, put_list, put_varint};
use basalt_types::{hash_parts, Amount, Decode, DecodeError, Decoder, Encode, Hash, PublicKey};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Longest rollup name.
pub const MAX_ROLLUP_NAME: usize = 32;
/// Shortest challenge window, in blocks: an online challenger needs a block to see a proposal and
/// one to get its challenge in, with slack for a missed slot. A floor against degenerate rollups,
/// not a recommendation: production windows are days (the OP Stack's is 7).
pub const MIN_CHALLENGE_WINDOW: u64 = 4;
/// Shortest dispute clock, in blocks, for the same reason as [`MIN_CHALLENGE_WINDOW`]: each move
/// needs a block to be seen and one to be answered.
pub const MIN_DISPUTE_CLOCK: u64 = 4;
/// Longest challenge window, in blocks.
pub const MAX_CHALLENGE_WINDOW: u64 = 1_000_000;
/// Longest dispute clock, in blocks.
pub const MAX_DISPUTE_CLOCK: u64 = 1_000_000;

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
    /// Blocks each side of a dispute game may spend on its moves in all (a chess clock).
    pub dispute_clock: u64,
    /// Bond a challenger, or a defender other than the proposer, locks to join a dispute.
    pub dispute_bond: Amount,
    /// Share of a slashed bond paid to the winner of the game, in percent; the rest is burned.
    pub slash_reward_percent: u8,
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
        if !(MIN_CHALLENGE_WINDOW..=MAX_CHALLENGE_WINDOW).contains(&self.challenge_window) {
            return bad("challenge window must be 4 to 1,000,000 blocks");
        }
        if self.proposer_bond == 0 {
            return bad("proposer bond must be positive");
        }
        if !(MIN_DISPUTE_CLOCK..=MAX_DISPUTE_CLOCK).contains(&self.dispute_clock) {
            return bad("dispute clock must be 4 to 1,000,000 blocks");
        }
        if self.dispute_bond == 0 {
            return bad("dispute bond must be positive");
        }
        if self.slash_reward_percent > 100 {
            return bad("slash reward must be 0 to 100 percent");
        }
        Ok(())
    }

    /// Blocks from a proposal until every dispute over it has ended, at the latest: the window,
    /// one clock for late defenders, then both clocks of a game that starts last.
    pub fn dispute_horizon(&self) -> u64 {
        self.challenge_window
            .saturating_add(self.dispute_clock.saturating_mul(3))
    }

    /// The part of a slashed bond the winner receives.
    pub fn slash_reward(&self, bond: Amount) -> Amount {
        bond / 100 * self.slash_reward_percent as Amount
            + bond % 100 * self.slash_reward_percent as Amount / 100
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
        put_varint(out, self.dispute_clock as u128);
        put_varint(out, self.dispute_bond);
        out.push(self.slash_reward_percent);
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
            dispute_clock: d.varint_u64()?,
            dispute_bond: d.varint()?,
            slash_reward_percent: d.u8()?,
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
    /// The transaction's gas limit cannot pay for the work the action needs next.
    #[error("out of gas: the next step needs {needed} gas and {left} is left of the limit")]
    OutOfGas {
        /// Gas the next step costs.
        needed: u64,
        /// Gas left of the limit.
        left: u64,
    },
    /// The live output of the batch is not the one named.
    #[error("the live output of batch {batch} is {live:?}, not {named}")]
    NotLive {
        /// The batch.
        batch: u64,
        /// Its live output, if it has one.
        live: Option<Hash>,
        /// The output the action named.
        named: Hash,
    },
    /// The output has settled: it can no longer be disputed.
    #[error("the output of batch {0} has settled")]
    AlreadySettled(u64),
    /// The output's challenge window (or, for a defender, the window plus one clock) has closed.
    #[error("joining the dispute over batch {batch} closed at block {until}")]
    JoinClosed {
        /// The batch.
        batch: u64,
        /// The first block at which joining was refused.
        until: u64,
    },
    /// Nobody has challenged the output, so there is nothing to defend.
    #[error("the output of batch {0} is not disputed")]
    NotDisputed(u64),
    /// This very output was proposed on this prior before and removed by a dispute.
    #[error("output {output} of batch {batch} was already proven wrong and removed")]
    ProvenWrong {
        /// The batch.
        batch: u64,
        /// The output.
        output: Hash,
    },
    /// The batch's data has passed the L1's retention window.
    #[error("the data of batch {0} is no longer retained")]
    DataExpired(u64),
    /// The batch's data would expire before a dispute over this proposal could end.
    #[error(
        "batch {batch} data expires at block {expires}, before a dispute could end at {horizon}"
    )]
    TooLate {
        /// The batch.
        batch: u64,
        /// The first block without its data.
        expires: u64,
        /// The last block a dispute over a proposal made now could need it.
        horizon: u64,
    },
    /// The one-step witness does not decode.
    #[error("one-step proof: malformed witness: {0}")]
    MalformedWitness(basalt_types::DecodeError),
    /// The disputed step is past the batch's transactions.
    #[error("one-step proof: the batch has no transaction {0}")]
    NoSuchStep(u64),
    /// The witness does not open the agreed claim or cannot decide the step.
    #[error("one-step proof: {0}")]
    BadWitness(#[from] basalt_l2::WitnessError),
    /// A dispute rule refused the action.
    #[error(transparent)]
    Dispute(#[from] DisputeError),
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
    /// Decompressed length its blob declares (0 if the blob's header does not parse).
    pub raw_len: u64,
    /// Transactions its blob declares (0 if the header does not parse). With `raw_len`, what a
    /// decode of it costs, known without reading the blob.
    pub tx_count: u64,
}

impl Encode for BatchRecord {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.data_hash.encode_to(out);
        put_varint(out, self.deposits_end as u128);
        put_varint(out, self.height as u128);
        put_varint(out, self.raw_len as u128);
        put_varint(out, self.tx_count as u128);
    }
}

impl Decode for BatchRecord {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(BatchRecord {
            data_hash: Hash::decode_from(d)?,
            deposits_end: d.varint_u64()?,
            height: d.varint_u64()?,
            raw_len: d.varint_u64()?,
            tx_count: d.varint_u64()?,
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

/// The summary of a rollup that the L1 state root commits to. Append-only lists are committed by
/// running digests, so a block that appends to them costs the same however long they are; the
/// output chain and the disputes, which change in place, by Merkle trees.
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
    /// Proposer and dispute bonds held.
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
    /// Outputs ever proposed (live or removed).
    pub proposal_count: u64,
    /// Running digest of every proposal.
    pub proposals_digest: Hash,
    /// Live outputs: one per batch, in order, each building on the one before.
    pub output_count: u64,
    /// Merkle root of the live chain: position `k` holds the proposal id of batch `k`'s output.
    pub chain_root: Hash,
    /// Outputs settled so far (always a prefix of the chain).
    pub settled: u64,
    /// Disputes opened so far.
    pub dispute_count: u64,
    /// Merkle root of the disputes: position `i` holds the digest of dispute `i`.
    pub disputes_root: Hash,
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
        let empty_root = MerkleTree::<Blake3Hasher>::new(DEFAULT_DEPTH).root();
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
            proposal_count: 0,
            proposals_digest: Hash::ZERO,
            output_count: 0,
            chain_root: empty_root,
            settled: 0,
            dispute_count: 0,
            disputes_root: empty_root,
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
        put_varint(out, self.proposal_count as u128);
        self.proposals_digest.encode_to(out);
        put_varint(out, self.output_count as u128);
        self.chain_root.encode_to(out);
        put_varint(out, self.settled as u128);
        put_varint(out, self.dispute_count as u128);
        self.disputes_root.encode_to(out);
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
            proposal_count: d.varint_u64()?,
            proposals_digest: Hash::decode_from(d)?,
            output_count: d.varint_u64()?,
            chain_root: Hash::decode_from(d)?,
            settled: d.varint_u64()?,
            dispute_count: d.varint_u64()?,
            disputes_root: Hash::decode_from(d)?,
            claim_count: d.varint_u64()?,
            claims_digest: Hash::decode_from(d)?,
        })
    }
}

/// The leaf of the chain tree that holds proposal `id`.
pub fn chain_leaf(id: u64) -> Hash {
    Blake3Hasher::leaf(&id.to_le_bytes())
}

/// A change to the live chain: keep its first `keep` entries, then append `append`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainUpdate {
    /// Entries kept.
    pub keep: u64,
    /// Proposal ids appended after them.
    pub append: Vec<u64>,
}

impl ChainUpdate {
    /// Leaf writes this update makes to a chain of `len` entries.
    pub fn leaves(&self, len: u64, out: &mut BTreeMap<u32, Hash>) {
        for (i, id) in self.append.iter().enumerate() {
            out.insert((self.keep + i as u64) as u32, chain_leaf(*id));
        }
        for pos in self.keep + self.append.len() as u64..len {
            out.insert(pos as u32, Blake3Hasher::empty_leaf());
        }
    }
}

/// What one block changed in one rollup: its new header, what it appended and what it rewrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupDiff {
    /// The header after the block.
    pub header: RollupHeader,
    /// Deposits queued by the block.
    pub deposits: Vec<DepositRecord>,
    /// Batches posted by the block.
    pub batches: Vec<BatchRecord>,
    /// Outputs proposed by the block.
    pub proposals: Vec<OutputRecord>,
    /// The block's change to the live chain, if any.
    pub chain: Option<ChainUpdate>,
    /// Disputes the block opened or changed, each in its final state, by id.
    pub disputes: BTreeMap<u64, Dispute>,
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
            proposals: Vec::new(),
            chain: None,
            disputes: BTreeMap::new(),
            claims: Vec::new(),
        }
    }
}

/// Everything the L1 keeps for one rollup.
#[derive(Clone)]
pub struct RollupState {
    /// The committed summary.
    pub header: RollupHeader,
    /// The deposit queue, by index.
    pub deposits: Vec<DepositRecord>,
    /// Posted batches, by index.
    pub batches: Vec<BatchRecord>,
    /// Every proposed output, by proposal id.
    pub proposals: Vec<OutputRecord>,
    /// The live chain: the proposal id of each batch's output.
    pub chain: Vec<u64>,
    /// Every dispute, by id.
    pub disputes: Vec<Dispute>,
    /// Withdrawal indices paid, in payment order.
    pub claims: Vec<u64>,
    /// The same indices, for lookup.
    pub claimed: HashSet<u64>,
    /// Disputes still being played.
    pub open: BTreeSet<u64>,
    /// The dispute over each disputed proposal.
    pub dispute_of: HashMap<u64, u64>,
    /// (batch, prior, output) of every output a dispute removed.
    removed: HashSet<(u64, Hash, Hash)>,
    chain_tree: MerkleTree<Blake3Hasher>,
    dispute_tree: MerkleTree<Blake3Hasher>,
}

/// Equal when every list is equal (the trees and indexes are derived from them).
impl PartialEq for RollupState {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && self.deposits == other.deposits
            && self.batches == other.batches
            && self.proposals == other.proposals
            && self.chain == other.chain
            && self.disputes == other.disputes
            && self.claims == other.claims
    }
}

impl std::fmt::Debug for RollupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollupState")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl RollupState {
    /// A rollup with empty lists.
    pub fn new(header: RollupHeader) -> Self {
        RollupState {
            header,
            deposits: Vec::new(),
            batches: Vec::new(),
            proposals: Vec::new(),
            chain: Vec::new(),
            disputes: Vec::new(),
            claims: Vec::new(),
            claimed: HashSet::new(),
            open: BTreeSet::new(),
            dispute_of: HashMap::new(),
            removed: HashSet::new(),
            chain_tree: MerkleTree::new(DEFAULT_DEPTH),
            dispute_tree: MerkleTree::new(DEFAULT_DEPTH),
        }
    }

    /// The live output of `batch`, with its proposal id.
    pub fn live_output(&self, batch: u64) -> Option<(u64, &OutputRecord)> {
        let id = *self.chain.get(usize::try_from(batch).ok()?)?;
        Some((id, &self.proposals[id as usize]))
    }

    /// Whether `output` on `prior` for `batch` was proposed and removed by a dispute.
    pub fn proven_wrong(&self, batch: u64, prior: &Hash, output: &Hash) -> bool {
        self.removed.contains(&(batch, *prior, *output))
    }

    /// The dispute over proposal `id`, if it was disputed.
    pub fn dispute_over(&self, id: u64) -> Option<&Dispute> {
        self.dispute_of
            .get(&id)
            .map(|d| &self.disputes[*d as usize])
    }

    /// The escrow the rollup must hold for `l2`, the state after its posted batches: every L2
    /// balance, every withdrawal not yet paid and every queued deposit not yet applied.
    pub fn escrow_owed(&self, l2: &L2State<Optimistic>) -> Amount {
        let queued: Amount = self
            .deposits
            .get(l2.commitment().next_deposit as usize..)
            .unwrap_or_default()
            .iter()
            .map(|d| d.entry.amount)
            .sum();
        let unpaid: Amount = l2
            .withdrawals()
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.claimed.contains(&(*i as u64)))
            .map(|(_, w)| w.amount)
            .sum();
        l2.total_balance() + queued + unpaid
    }

    /// The bonds the rollup must hold, recomputed from its lists: every unsettled live output's
    /// bond unless a game slashed it, and every bond still in an open dispute.
    pub fn bonds_owed(&self) -> Amount {
        let proposals: Amount = self.chain[self.header.settled as usize..]
            .iter()
            .filter(|p| {
                self.dispute_over(**p)
                    .is_none_or(|d| d.defenders[0].active())
            })
            .map(|p| self.proposals[*p as usize].bond)
            .sum();
        let disputes: Amount = self
            .open
            .iter()
            .map(|d| &self.disputes[*d as usize])
            .flat_map(|d| d.challengers.iter().chain(&d.defenders[1..]))
            .filter(|p| p.active())
            .map(|p| p.bond)
            .sum();
        proposals + disputes
    }

    /// Root of the chain tree with `updates` on top.
    pub fn chain_root_with(&self, updates: &BTreeMap<u32, Hash>) -> Hash {
        self.chain_tree.root_with(updates)
    }

    /// Root of the dispute tree with `updates` on top.
    pub fn disputes_root_with(&self, updates: &BTreeMap<u32, Hash>) -> Hash {
        self.dispute_tree.root_with(updates)
    }

    /// Applies one block's changes.
    pub fn apply(&mut self, diff: &RollupDiff) {
        self.header = diff.header.clone();
        self.deposits.extend_from_slice(&diff.deposits);
        self.batches.extend_from_slice(&diff.batches);
        self.proposals.extend_from_slice(&diff.proposals);
        if let Some(update) = &diff.chain {
            self.update_chain(update);
        }
        for d in diff.disputes.values() {
            self.put_dispute(d.clone());
        }
        self.chain_tree.commit();
        self.dispute_tree.commit();
        self.claims.extend_from_slice(&diff.claims);
        self.claimed.extend(diff.claims.iter().copied());
    }

    fn update_chain(&mut self, update: &ChainUpdate) {
        let mut leaves = BTreeMap::new();
        update.leaves(self.chain.len() as u64, &mut leaves);
        for (pos, leaf) in leaves {
            self.chain_tree.set(pos, leaf);
        }
        self.chain.truncate(update.keep as usize);
        self.chain.extend_from_slice(&update.append);
    }

    fn put_dispute(&mut self, d: Dispute) {
        let i = d.id as usize;
        self.dispute_tree.set(d.id as u32, d.hash());
        self.dispute_of.insert(d.proposal, d.id);
        if let Some(DisputeResult::Removed { .. }) = d.result {
            self.removed.insert((d.batch, d.prior, d.output));
        }
        if d.result.is_none() {
            self.open.insert(d.id);
        } else {
            self.open.remove(&d.id);
        }
        if i == self.disputes.len() {
            self.disputes.push(d);
        } else {
            self.disputes[i] = d;
        }
    }

    /// Rebuilds the indexes and trees from the stored lists (after a restart), then checks them
    /// against the header.
    pub fn restore(
        header: RollupHeader,
        deposits: Vec<DepositRecord>,
        batches: Vec<BatchRecord>,
        proposals: Vec<OutputRecord>,
        chain: Vec<u64>,
        disputes: Vec<Dispute>,
        claims: Vec<u64>,
    ) -> Result<Self, RestoreError> {
        let mut r = RollupState::new(header);
        r.deposits = deposits;
        r.batches = batches;
        r.proposals = proposals;
        r.update_chain(&ChainUpdate {
            keep: 0,
            append: chain,
        });
        for (i, d) in disputes.into_iter().enumerate() {
            if d.id != i as u64 {
                return Err(RestoreError::DisputeOutOfPlace {
                    rollup: r.header.id,
                    position: i as u64,
                    id: d.id,
                });
            }
            r.put_dispute(d);
        }
        r.chain_tree.commit();
        r.dispute_tree.commit();
        r.claimed = claims.iter().copied().collect();
        r.claims = claims;
        r.check()?;
        Ok(r)
    }

    /// Checks that the lists match the counts, digests and roots of the header.
    pub fn check(&self) -> Result<(), RestoreError> {
        let h = &self.header;
        let digest = |items: Vec<Vec<u8>>, domain: &str| {
            items
                .iter()
                .fold(Hash::ZERO, |acc, item| fold(acc, domain, item))
        };
        let ok = self.deposits.len() as u64 == h.deposit_count
            && self.batches.len() as u64 == h.batch_count
            && self.proposals.len() as u64 == h.proposal_count
            && self.chain.len() as u64 == h.output_count
            && self.chain.iter().all(|id| *id < h.proposal_count)
            && self.disputes.len() as u64 == h.dispute_count
            && self.claims.len() as u64 == h.claim_count
            && self.claimed.len() == self.claims.len()
            && self.chain_tree.root() == h.chain_root
            && self.dispute_tree.root() == h.disputes_root
            && digest(
                self.deposits.iter().map(|d| d.to_bytes()).collect(),
                DEPOSITS_DOMAIN,
            ) == h.deposits_digest
            && digest(
                self.batches.iter().map(|b| b.to_bytes()).collect(),
                BATCHES_DOMAIN,
            ) == h.batches_digest
            && digest(
                self.proposals.iter().map(|o| o.to_bytes()).collect(),
                OUTPUTS_DOMAIN,
            ) == h.proposals_digest
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
            Err(RestoreError::RollupMismatch(h.id))
        }
    }
}

/// Why stored state cannot be restored: it does not match its own commitments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// A rollup is stored out of id order.
    #[error("stored rollup at position {position} has id {id}")]
    RollupOutOfPlace {
        /// Where it was found.
        position: u64,
        /// Its id.
        id: u32,
    },
    /// A dispute is stored out of id order.
    #[error("stored dispute at position {position} of rollup {rollup} has id {id}")]
    DisputeOutOfPlace {
        /// The rollup.
        rollup: u32,
        /// Where it was found.
        position: u64,
        /// Its id.
        id: u64,
    },
    /// A rollup's stored lists do not match the counts, digests and roots of its header.
    #[error("stored lists of rollup {0} do not match its header")]
    RollupMismatch(u32),
    /// The stored accounts, committee and registry do not hash to the head's state root.
    #[error("stored accounts do not match the stored head's state root")]
    StateRootMismatch,
}

/// Domain of the deposit queue's running digest.
pub const DEPOSITS_DOMAIN: &str = "basalt/l1/rollup-deposits";
/// Domain of the batches' running digest.
pub const BATCHES_DOMAIN: &str = "basalt/l1/rollup-batches";
/// Domain of the proposals' running digest.
pub const OUTPUTS_DOMAIN: &str = "basalt/l1/rollup-outputs";
/// Domain of the claims' running digest.
pub const CLAIMS_DOMAIN: &str = "basalt/l1/rollup-claims";
