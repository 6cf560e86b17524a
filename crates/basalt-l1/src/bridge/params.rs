//! A rollup's registration parameters and the floors and ceilings they must respect.

use super::RollupError;
use crate::dispute::tree::MAX_TREE_DEPTH;
use basalt_l2::{Config, FeeModel};
use basalt_types::codec::{put_bytes, put_varint};
use basalt_types::zk::BabyPublicKey;
use basalt_types::{Amount, Decode, DecodeError, Decoder, Encode, Hash, PublicKey};

/// Longest rollup name.
pub const MAX_ROLLUP_NAME: usize = 32;
/// Shortest challenge window, in blocks: an online challenger needs a block to see a proposal and
/// one to get its counter in, with slack for a missed slot, and the window (each side's whole
/// clock) must exceed the clock extension. A floor against degenerate rollups, not a
/// recommendation: production windows are days (the OP Stack's is 7).
pub const MIN_CHALLENGE_WINDOW: u64 = MIN_CLOCK_EXTENSION + 1;
/// Shortest clock extension, in blocks, for the same reason as [`MIN_CHALLENGE_WINDOW`]: each move
/// needs a block to be seen and one to be answered.
pub const MIN_CLOCK_EXTENSION: u64 = 4;
/// Longest challenge window, in blocks.
pub const MAX_CHALLENGE_WINDOW: u64 = 1_000_000;
/// Longest clock extension, in blocks.
pub const MAX_CLOCK_EXTENSION: u64 = 1_000_000;

/// Shortest force-inclusion delay, in blocks: a queued item may be overdue one block after it
/// was queued.
pub const MIN_FORCE_INCLUSION_BLOCKS: u64 = 1;
/// Longest force-inclusion delay, in blocks.
pub const MAX_FORCE_INCLUSION_BLOCKS: u64 = 1_000_000;
/// Longest escape delay, in blocks.
pub const MAX_ESCAPE_BLOCKS: u64 = 10_000_000;
/// Blocks a ZK rollup's escape delay leaves, beyond the force-inclusion delay, to prove a batch
/// that holds an overdue item.
pub const ZK_PROVING_ALLOWANCE: u64 = 10;

/// Most transaction slots a ZK rollup's batch circuit may have.
pub const MAX_ZK_SLOTS: u32 = 1024;
/// Longest verifying key a ZK rollup may register (the batch circuit's, with its three public
/// inputs, is 360 bytes compressed).
pub const MAX_VERIFYING_KEY_BYTES: usize = 512;
/// Public inputs of the batch circuit: the prior output, the new output and the data hash.
pub const ZK_PUBLIC_INPUTS: usize = 3;

/// How a rollup's outputs settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollupKind {
    /// Outputs settle when their challenge window passes unchallenged.
    Optimistic,
    /// Outputs settle when a validity proof of the batch verifies.
    Zk(ZkParams),
}

impl RollupKind {
    /// Lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            RollupKind::Optimistic => "optimistic",
            RollupKind::Zk(_) => "zk",
        }
    }

    /// The ZK parameters, for a ZK rollup.
    pub fn zk(&self) -> Option<&ZkParams> {
        match self {
            RollupKind::Optimistic => None,
            RollupKind::Zk(z) => Some(z),
        }
    }
}

/// What a ZK rollup fixes at registration beyond the common parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkParams {
    /// The BabyJubJub key of the L2 fee account (account 0), which signs nothing on L1.
    pub fee_key: BabyPublicKey,
    /// Transaction slots of the batch circuit: the most transactions a batch may hold.
    pub slots: u32,
    /// The batch circuit's Groth16 verifying key, compressed as arkworks writes it.
    pub verifying_key: Vec<u8>,
}

impl ZkParams {
    /// The digest a prover's key cache is checked against ([`basalt_zk::verifying_key_hash`]).
    pub fn verifying_key_hash(&self) -> Hash {
        basalt_zk::key_bytes_hash(&self.verifying_key)
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
    /// Blocks an output waits, unchallenged, before it settles; also each side's whole clock
    /// along any path of a dispute's claim tree.
    pub challenge_window: u64,
    /// Bond a proposer locks with each output until its claim tree resolves.
    pub proposer_bond: Amount,
    /// Least fee an L2 transfer or withdrawal pays.
    pub min_fee: Amount,
    /// Blocks a side of a dispute is always left to answer a counter (the clock extension);
    /// below the challenge window.
    pub clock_extension: u64,
    /// Bond each counter in a dispute locks until the tree resolves.
    pub dispute_bond: Amount,
    /// Share of a countered claim's bond paid to whoever countered it, in percent; the rest is
    /// burned.
    pub slash_reward_percent: u8,
    /// Blocks a queued deposit or forced transaction may wait: a batch posted later must consume
    /// it, and past it anyone may post the rollup's next batch.
    pub force_inclusion_blocks: u64,
    /// Blocks the rollup may owe something (a queued item, a posted batch) with no batch settled
    /// before it freezes: no more batches or outputs, and every user exits on L1.
    pub escape_blocks: u64,
    /// How the sequencer prices execution and fills blocks, from `min_fee` up.
    pub fee_model: FeeModel,
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
            return bad("challenge window must be 5 to 1,000,000 blocks");
        }
        if self.proposer_bond == 0 {
            return bad("proposer bond must be positive");
        }
        if !(MIN_CLOCK_EXTENSION..=MAX_CLOCK_EXTENSION).contains(&self.clock_extension) {
            return bad("clock extension must be 4 to 1,000,000 blocks");
        }
        if self.clock_extension >= self.challenge_window {
            return bad("clock extension must be below the challenge window");
        }
        if self.dispute_bond == 0 {
            return bad("dispute bond must be positive");
        }
        if self.slash_reward_percent > 100 {
            return bad("slash reward must be 0 to 100 percent");
        }
        if !(MIN_FORCE_INCLUSION_BLOCKS..=MAX_FORCE_INCLUSION_BLOCKS)
            .contains(&self.force_inclusion_blocks)
        {
            return bad("force-inclusion delay must be 1 to 1,000,000 blocks");
        }
        if self.escape_blocks > MAX_ESCAPE_BLOCKS || self.escape_blocks <= self.settle_bound() {
            return bad(
                "escape delay must exceed the force-inclusion delay plus the time to settle \
                 (the dispute bound, or 10 blocks of proving), and be at most 10,000,000 blocks",
            );
        }
        self.fee_model.validate().map_err(RollupError::BadParams)?;
        if let RollupKind::Zk(z) = &self.kind {
            if z.slots == 0 || z.slots > MAX_ZK_SLOTS {
                return bad("a ZK rollup must have 1 to 1,024 slots");
            }
            let verifier = basalt_zk::Verifier::from_bytes(&z.verifying_key)
                .map_err(|_| RollupError::BadParams("the verifying key does not decode"))?;
            if verifier.input_count() != ZK_PUBLIC_INPUTS {
                return bad("the verifying key must take three public inputs");
            }
        }
        Ok(())
    }

    /// Blocks from a proposal until its claim tree has resolved, at the latest, whatever is
    /// played: `2 * challenge_window + depth * clock_extension` for the deepest tree.
    pub fn dispute_horizon(&self) -> u64 {
        crate::dispute::tree::bound(self.challenge_window, self.clock_extension, MAX_TREE_DEPTH)
    }

    /// Blocks an honest sequencer and proposer need, at most, to settle a queued item: the
    /// force-inclusion delay, then the dispute bound (optimistic) or a proving allowance (ZK). The
    /// escape delay must exceed it, so that a live rollup never freezes.
    pub fn settle_bound(&self) -> u64 {
        let settle = match self.kind {
            RollupKind::Optimistic => self.dispute_horizon().saturating_add(1),
            RollupKind::Zk(_) => ZK_PROVING_ALLOWANCE,
        };
        self.force_inclusion_blocks.saturating_add(settle)
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
        match &self.kind {
            RollupKind::Optimistic => out.push(0),
            RollupKind::Zk(z) => {
                out.push(1);
                z.fee_key.encode_to(out);
                put_varint(out, z.slots as u128);
                put_bytes(out, &z.verifying_key);
            }
        }
        self.sequencer.encode_to(out);
        put_varint(out, self.challenge_window as u128);
        put_varint(out, self.proposer_bond);
        put_varint(out, self.min_fee);
        put_varint(out, self.clock_extension as u128);
        put_varint(out, self.dispute_bond);
        out.push(self.slash_reward_percent);
        put_varint(out, self.force_inclusion_blocks as u128);
        put_varint(out, self.escape_blocks as u128);
        out.push(self.fee_model.code());
        match self.fee_model {
            FeeModel::Fixed => {}
            FeeModel::Eip1559 { target_txs } => put_varint(out, target_txs as u128),
            FeeModel::Auction { block_txs } => put_varint(out, block_txs as u128),
        }
    }
}

impl Decode for RollupParams {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let name = String::from_utf8(d.bytes("rollup name", MAX_ROLLUP_NAME)?.to_vec())
            .map_err(|_| DecodeError::Invalid("rollup name (not UTF-8)"))?;
        let kind = match d.u8()? {
            0 => RollupKind::Optimistic,
            1 => RollupKind::Zk(ZkParams {
                fee_key: BabyPublicKey::decode_from(d)?,
                slots: u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)?,
                verifying_key: d.bytes("verifying key", MAX_VERIFYING_KEY_BYTES)?.to_vec(),
            }),
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
            clock_extension: d.varint_u64()?,
            dispute_bond: d.varint()?,
            slash_reward_percent: d.u8()?,
            force_inclusion_blocks: d.varint_u64()?,
            escape_blocks: d.varint_u64()?,
            fee_model: decode_fee_model(d)?,
        })
    }
}

/// Reads a fee model: its code, then its parameter.
fn decode_fee_model(d: &mut Decoder<'_>) -> Result<FeeModel, DecodeError> {
    let count =
        |d: &mut Decoder<'_>| u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint);
    match d.u8()? {
        0 => Ok(FeeModel::Fixed),
        1 => Ok(FeeModel::Eip1559 {
            target_txs: count(d)?,
        }),
        2 => Ok(FeeModel::Auction {
            block_txs: count(d)?,
        }),
        tag => Err(DecodeError::UnknownTag {
            what: "fee model",
            tag: tag as u64,
        }),
    }
}
