//! A rollup's registration parameters and the floors and ceilings they must respect.

use super::RollupError;
use basalt_l2::Config;
use basalt_types::codec::{put_bytes, put_varint};
use basalt_types::{Amount, Decode, DecodeError, Decoder, Encode, PublicKey};

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
