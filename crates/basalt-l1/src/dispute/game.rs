//! One game of a dispute: one challenger against one defender, bisecting the batch's trace under
//! chess clocks, and the moves, choices and outcomes it records.

use super::DisputeError;
use basalt_types::{DecodeError, Hash};

/// A side of a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Says the output is wrong.
    Challenger = 0,
    /// Says the output is right.
    Defender = 1,
}

impl Side {
    /// The opponent.
    pub fn other(self) -> Side {
        match self {
            Side::Challenger => Side::Defender,
            Side::Defender => Side::Challenger,
        }
    }

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Side::Challenger => "challenger",
            Side::Defender => "defender",
        }
    }

    pub(super) fn from_u8(tag: u8) -> Result<Side, DecodeError> {
        match tag {
            0 => Ok(Side::Challenger),
            1 => Ok(Side::Defender),
            tag => Err(DecodeError::UnknownTag {
                what: "side",
                tag: tag as u64,
            }),
        }
    }
}

/// Which segment of the opponent's last claims a move disputes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Choice {
    /// The whole segment: the opponent claimed only its end (the opening move of a game).
    Whole = 0,
    /// From the segment start to the opponent's midpoint claim, which the mover disputes.
    Left = 1,
    /// From the opponent's midpoint claim, which the mover agrees with, to the end it disputes.
    Right = 2,
}

impl Choice {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Choice::Whole => "whole",
            Choice::Left => "left",
            Choice::Right => "right",
        }
    }

    /// Parses a lowercase name.
    pub fn parse(s: &str) -> Option<Choice> {
        match s {
            "whole" => Some(Choice::Whole),
            "left" => Some(Choice::Left),
            "right" => Some(Choice::Right),
            _ => None,
        }
    }

    /// Decodes the one-byte tag.
    pub fn from_u8(tag: u8) -> Result<Choice, DecodeError> {
        match tag {
            0 => Ok(Choice::Whole),
            1 => Ok(Choice::Left),
            2 => Ok(Choice::Right),
            tag => Err(DecodeError::UnknownTag {
                what: "segment choice",
                tag: tag as u64,
            }),
        }
    }
}

/// One move of a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    /// Who moved.
    pub side: Side,
    /// L1 block that included it.
    pub height: u64,
    /// The segment of the opponent's claims it disputed.
    pub choice: Choice,
    /// What it posted.
    pub kind: MoveKind,
}

/// What a move posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveKind {
    /// Claims at the midpoint and end of the segment `a..b` it disputed.
    Bisect {
        /// Segment start (agreed).
        a: u64,
        /// Segment end (disputed).
        b: u64,
        /// The mover's claim at `a + (b - a) / 2`.
        mid: Hash,
        /// The mover's claim at `b`.
        end: Hash,
    },
    /// A one-step proof of step `step`: the L1 re-executed it and got `result`.
    OneStep {
        /// The trace position re-executed from (the transaction index in the batch).
        step: u64,
        /// The output after it, as the L1 computed it.
        result: Hash,
    },
}

/// How a game ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GameEnd {
    /// One side won.
    Won {
        /// The winner.
        winner: Side,
        /// Why.
        reason: WinReason,
        /// L1 block of the decision.
        height: u64,
    },
    /// A party of it lost another game (or the dispute was dropped) first.
    Cancelled {
        /// L1 block of the cancellation.
        height: u64,
    },
}

/// Why a game was won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WinReason {
    /// The loser's clock ran out.
    Timeout,
    /// The one-step proof showed the loser's claim wrong (or the loser's own proof confirmed the
    /// winner's claim).
    OneStep,
    /// The batch has no transactions: its output must equal the prior output, and the L1 checked.
    NoSteps,
}

impl WinReason {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            WinReason::Timeout => "timeout",
            WinReason::OneStep => "one-step",
            WinReason::NoSteps => "no-steps",
        }
    }
}

/// One challenger against one defender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Game {
    /// Index of the challenger in [`Dispute::challengers`].
    pub challenger: u32,
    /// Index of the defender in [`Dispute::defenders`].
    pub defender: u32,
    /// Start of the last mover's segment (both agree on the trace up to here).
    pub a: u64,
    /// End of the last mover's segment.
    pub b: u64,
    /// The agreed claim at `a`.
    pub start: Hash,
    /// The last mover's claim at `a + (b - a) / 2`, if it posted one.
    pub mid: Option<Hash>,
    /// The last mover's claim at `b`.
    pub end: Hash,
    /// Who moves next.
    pub turn: Side,
    /// Blocks left on each side's clock, by [`Side`].
    pub clocks: [u64; 2],
    /// L1 block at which the current turn began.
    pub since: u64,
    /// Every move so far.
    pub moves: Vec<Move>,
    /// How it ended, once it has.
    pub end_state: Option<GameEnd>,
}

/// The segment a move disputes: `a..b`, the agreed claim at `a`, and the opponent's claim at `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Start position.
    pub a: u64,
    /// End position.
    pub b: u64,
    /// Agreed claim at `a`.
    pub start: Hash,
    /// The opponent's claim at `b`, which the mover disputes.
    pub opponent: Hash,
}

/// The midpoint of a segment of at least two steps.
pub fn midpoint(a: u64, b: u64) -> u64 {
    a + (b - a) / 2
}

impl Game {
    /// The party index of `side` in this game.
    pub fn player(&self, side: Side) -> u32 {
        match side {
            Side::Challenger => self.challenger,
            Side::Defender => self.defender,
        }
    }

    /// Charges the mover's clock and records its move; returns the mover's side.
    pub(super) fn record(&mut self, choice: Choice, kind: MoveKind, height: u64) -> Side {
        let side = self.turn;
        // A move after the clock ran out cannot happen: timeouts end the game first.
        let clock = &mut self.clocks[side as usize];
        *clock = clock.saturating_sub(height - self.since);
        self.moves.push(Move {
            side,
            height,
            choice,
            kind,
        });
        side
    }

    /// The height at which the mover's clock runs out.
    pub fn times_out_at(&self) -> u64 {
        self.since.saturating_add(self.clocks[self.turn as usize])
    }

    /// Whether it is still being played.
    pub fn ongoing(&self) -> bool {
        self.end_state.is_none()
    }

    /// The segment `choice` selects from the last mover's claims.
    pub fn segment(&self, choice: Choice) -> Result<Segment, DisputeError> {
        match (choice, self.mid) {
            (Choice::Whole, None) => Ok(Segment {
                a: self.a,
                b: self.b,
                start: self.start,
                opponent: self.end,
            }),
            (Choice::Left, Some(mid)) => Ok(Segment {
                a: self.a,
                b: midpoint(self.a, self.b),
                start: self.start,
                opponent: mid,
            }),
            (Choice::Right, Some(mid)) => Ok(Segment {
                a: midpoint(self.a, self.b),
                b: self.b,
                start: mid,
                opponent: self.end,
            }),
            (Choice::Whole, Some(_)) => Err(DisputeError::BadChoice(
                "the opponent posted a midpoint: choose left or right",
            )),
            (_, None) => Err(DisputeError::BadChoice(
                "the opponent posted no midpoint: the only choice is whole",
            )),
        }
    }
}
