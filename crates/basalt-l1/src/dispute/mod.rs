//! The dispute game over one proposed output: pairwise bisection games with chess clocks.
//!
//! Anyone bonded may challenge an unsettled output, and anyone bonded may defend it (its proposer
//! always does). Every challenger plays its own game against every defender, so no party can lose
//! a game on another's behalf. A game bisects the trace of the disputed batch: position `i` of the
//! trace is the output after the batch's first `i` transactions, position 0 is the agreed prior
//! output and the last position is the disputed output.
//!
//! A move picks a segment of the opponent's last claims whose start the mover agrees with and whose
//! end it disputes, then either posts its own claims for the midpoint and end of that segment
//! (a bisection, when the segment spans two or more steps) or, once it spans one step, a one-step
//! proof that the L1 checks by re-executing that transaction. So each move halves the disputed
//! segment, and a game over `n` steps ends after at most `ceil(log2 n) + 1` moves. A party that
//! lets its chess clock run out loses.
//!
//! A party that loses a game is out: its bond is slashed (part to the winner, the rest burned) and
//! its other games are cancelled. Once joining has closed and every game has ended, the output is
//! removed if a challenger is still in, and upheld otherwise. An honest party, online and bonded,
//! never loses a game, so it wins the dispute whatever the number of dishonest parties on either
//! side. This module is the pure game; [`crate::BlockBuilder`] moves bonds and runs one-step proofs.

use basalt_types::{hash_parts, Amount, DecodeError, Encode, Hash, PublicKey};

mod codec;
mod exec;
mod game;
#[cfg(test)]
mod tests;
pub mod tree;
mod tree_codec;

pub use game::{midpoint, Choice, Game, GameEnd, Move, MoveKind, Segment, Side, WinReason};

/// Most parties per side of one dispute (each posts a bond).
pub const MAX_PARTIES: usize = 1024;
/// Most moves one game can take: one per halving of at most 2^16 steps, then the one-step proof.
pub const MAX_GAME_MOVES: usize = 18;
/// Largest encoded one-step witness a transaction may carry.
pub const MAX_WITNESS_BYTES: usize = 16 * 1024;

/// A bonded participant of a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Party {
    /// Its account.
    pub key: PublicKey,
    /// The bond it locked.
    pub bond: Amount,
    /// The game it lost, if it lost one (its bond was then slashed).
    pub lost: Option<u32>,
}

impl Party {
    /// Still in the dispute.
    pub fn active(&self) -> bool {
        self.lost.is_none()
    }
}

/// How a dispute ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeResult {
    /// A challenger won against every defender: the output and every output built on it are gone.
    Removed {
        /// L1 block of the decision.
        height: u64,
    },
    /// Every challenger lost: the output stands and settles when its window has passed.
    Upheld {
        /// L1 block of the decision.
        height: u64,
    },
    /// An earlier output was removed, taking this one with it; every bond still in was returned.
    Dropped {
        /// L1 block of the decision.
        height: u64,
    },
}

impl DisputeResult {
    /// Lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            DisputeResult::Removed { .. } => "removed",
            DisputeResult::Upheld { .. } => "upheld",
            DisputeResult::Dropped { .. } => "dropped",
        }
    }
}

/// Every game over one proposed output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    /// Its id within the rollup (dispute ids count from 0).
    pub id: u64,
    /// The disputed proposal (its index among all proposals of the rollup).
    pub proposal: u64,
    /// The batch that output follows.
    pub batch: u64,
    /// The output it builds on: trace position 0, agreed by everyone.
    pub prior: Hash,
    /// The disputed output.
    pub output: Hash,
    /// Transactions in the batch: the last trace position.
    pub steps: u64,
    /// L1 block of the first challenge.
    pub opened: u64,
    /// Challengers may join before this block (the output's challenge window).
    pub challenge_until: u64,
    /// Defenders may join before this block (one clock after the window).
    pub defend_until: u64,
    /// Each side's clock in every game, in blocks.
    pub clock: u64,
    /// Challengers, in joining order.
    pub challengers: Vec<Party>,
    /// Defenders, in joining order; the proposer is first.
    pub defenders: Vec<Party>,
    /// Every game, in creation order.
    pub games: Vec<Game>,
    /// How it ended, once it has.
    pub result: Option<DisputeResult>,
}

/// A slashed bond: what the executor moves when a party loses a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slash {
    /// The loser's account.
    pub loser: PublicKey,
    /// The loser's bond.
    pub bond: Amount,
    /// The winner's account, which receives its share.
    pub winner: PublicKey,
}

/// Why a dispute action was refused. The transaction still pays its fee; nothing else changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisputeError {
    /// No dispute has this id.
    #[error("no dispute {0}")]
    UnknownDispute(u64),
    /// The dispute has ended.
    #[error("dispute {0} has ended")]
    Ended(u64),
    /// No game has this index.
    #[error("dispute has no game {0}")]
    UnknownGame(u32),
    /// The game has ended.
    #[error("game {0} has ended")]
    GameEnded(u32),
    /// The sender is not the party whose turn it is.
    #[error("it is the {turn}'s turn ({key}), not the sender's")]
    NotYourTurn {
        /// Whose turn.
        turn: &'static str,
        /// Its account.
        key: PublicKey,
    },
    /// The choice does not fit the opponent's last claims.
    #[error("{0}")]
    BadChoice(&'static str),
    /// A bisection needs a segment of at least two steps.
    #[error("segment {a}..{b} is one step: send a one-step proof")]
    NeedsOneStep {
        /// Start.
        a: u64,
        /// End.
        b: u64,
    },
    /// A one-step proof needs a segment of exactly one step.
    #[error("segment {a}..{b} spans several steps: bisect it")]
    NeedsBisect {
        /// Start.
        a: u64,
        /// End.
        b: u64,
    },
    /// The mover's end claim equals the claim it says it disputes.
    #[error("the end claim equals the opponent's claim it disputes")]
    NoDisagreement,
    /// The sender is already a party to this dispute.
    #[error("{0} is already a party to this dispute")]
    AlreadyParty(PublicKey),
    /// A side is full.
    #[error("the {0} side of this dispute is full")]
    SideFull(&'static str),
}

impl Dispute {
    /// A dispute opened against `proposal` with its proposer as the first defender.
    pub fn open(
        id: u64,
        proposal: u64,
        record: &crate::OutputRecord,
        steps: u64,
        height: u64,
        challenge_window: u64,
        clock: u64,
    ) -> Dispute {
        let challenge_until = record.settles_at(challenge_window);
        Dispute {
            id,
            proposal,
            batch: record.batch,
            prior: record.prior,
            output: record.output,
            steps,
            opened: height,
            challenge_until,
            defend_until: challenge_until.saturating_add(clock),
            clock,
            challengers: Vec::new(),
            defenders: vec![Party {
                key: record.proposer,
                bond: record.bond,
                lost: None,
            }],
            games: Vec::new(),
            result: None,
        }
    }

    /// Whether `key` is a party on either side.
    pub fn is_party(&self, key: &PublicKey) -> bool {
        self.challengers
            .iter()
            .chain(&self.defenders)
            .any(|p| p.key == *key)
    }

    /// The party of `side` at `index`.
    pub fn party(&self, side: Side, index: u32) -> &Party {
        match side {
            Side::Challenger => &self.challengers[index as usize],
            Side::Defender => &self.defenders[index as usize],
        }
    }

    fn party_mut(&mut self, side: Side, index: u32) -> &mut Party {
        match side {
            Side::Challenger => &mut self.challengers[index as usize],
            Side::Defender => &mut self.defenders[index as usize],
        }
    }

    /// Whether any game is still being played.
    pub fn ongoing(&self) -> bool {
        self.games.iter().any(Game::ongoing)
    }

    /// Adds a bonded party on `side` and starts its game against every active opponent. Returns
    /// the bonds slashed at once (a batch without transactions is decided as each game starts).
    pub fn join(
        &mut self,
        side: Side,
        key: PublicKey,
        bond: Amount,
        height: u64,
    ) -> Result<Vec<Slash>, DisputeError> {
        if self.is_party(&key) {
            return Err(DisputeError::AlreadyParty(key));
        }
        let list = match side {
            Side::Challenger => &mut self.challengers,
            Side::Defender => &mut self.defenders,
        };
        if list.len() >= MAX_PARTIES {
            return Err(DisputeError::SideFull(side.name()));
        }
        list.push(Party {
            key,
            bond,
            lost: None,
        });
        let me = (list.len() - 1) as u32;
        let opponents: Vec<u32> = match side {
            Side::Challenger => &self.defenders,
            Side::Defender => &self.challengers,
        }
        .iter()
        .enumerate()
        .filter(|(_, p)| p.active())
        .map(|(i, _)| i as u32)
        .collect();
        let mut slashes = Vec::new();
        for opponent in opponents {
            // A game may end a party at once; it then starts no further games.
            if !self.party(side, me).active() {
                break;
            }
            let (challenger, defender) = match side {
                Side::Challenger => (me, opponent),
                Side::Defender => (opponent, me),
            };
            slashes.extend(self.start_game(challenger, defender, height));
        }
        Ok(slashes)
    }

    fn start_game(&mut self, challenger: u32, defender: u32, height: u64) -> Option<Slash> {
        self.games.push(Game {
            challenger,
            defender,
            a: 0,
            b: self.steps,
            start: self.prior,
            mid: None,
            end: self.output,
            turn: Side::Challenger,
            clocks: [self.clock; 2],
            since: height,
            moves: Vec::new(),
            end_state: None,
        });
        if self.steps > 0 {
            return None;
        }
        // No transactions: the trace is the prior output alone.
        let winner = if self.output == self.prior {
            Side::Defender
        } else {
            Side::Challenger
        };
        let index = (self.games.len() - 1) as u32;
        Some(self.end_game(index, winner, WinReason::NoSteps, height))
    }

    /// Checks that `sender` may move in game `index` now; returns the game.
    pub fn mover(&self, index: u32, sender: &PublicKey) -> Result<&Game, DisputeError> {
        if self.result.is_some() {
            return Err(DisputeError::Ended(self.id));
        }
        let g = self
            .games
            .get(index as usize)
            .ok_or(DisputeError::UnknownGame(index))?;
        if !g.ongoing() {
            return Err(DisputeError::GameEnded(index));
        }
        let key = self.party(g.turn, g.player(g.turn)).key;
        if key != *sender {
            return Err(DisputeError::NotYourTurn {
                turn: g.turn.name(),
                key,
            });
        }
        Ok(g)
    }

    /// A bisection move in game `index` by the party whose turn it is (checked by [`Dispute::mover`]).
    pub fn bisect(
        &mut self,
        index: u32,
        choice: Choice,
        mid: Hash,
        end: Hash,
        height: u64,
    ) -> Result<(), DisputeError> {
        let g = &self.games[index as usize];
        let seg = g.segment(choice)?;
        if seg.b - seg.a < 2 {
            return Err(DisputeError::NeedsOneStep { a: seg.a, b: seg.b });
        }
        if end == seg.opponent {
            return Err(DisputeError::NoDisagreement);
        }
        let kind = MoveKind::Bisect {
            a: seg.a,
            b: seg.b,
            mid,
            end,
        };
        let side = self.games[index as usize].record(choice, kind, height);
        let g = &mut self.games[index as usize];
        g.a = seg.a;
        g.b = seg.b;
        g.start = seg.start;
        g.mid = Some(mid);
        g.end = end;
        g.turn = side.other();
        g.since = height;
        Ok(())
    }

    /// The segment a one-step proof in game `index` with `choice` must re-execute.
    pub fn one_step_segment(&self, index: u32, choice: Choice) -> Result<Segment, DisputeError> {
        let seg = self.games[index as usize].segment(choice)?;
        if seg.b - seg.a != 1 {
            return Err(DisputeError::NeedsBisect { a: seg.a, b: seg.b });
        }
        Ok(seg)
    }

    /// Records a one-step proof whose re-execution gave `result`, and ends the game: the mover wins
    /// if `result` differs from the opponent's claim, and loses otherwise.
    pub fn one_step(
        &mut self,
        index: u32,
        choice: Choice,
        result: Hash,
        height: u64,
    ) -> Result<Slash, DisputeError> {
        let seg = self.one_step_segment(index, choice)?;
        let kind = MoveKind::OneStep {
            step: seg.a,
            result,
        };
        let side = self.games[index as usize].record(choice, kind, height);
        let winner = if result != seg.opponent {
            side
        } else {
            side.other()
        };
        Ok(self.end_game(index, winner, WinReason::OneStep, height))
    }

    /// Ends game `index` with `winner`: the loser is out, its bond slashed, its other games cancelled.
    fn end_game(&mut self, index: u32, winner: Side, reason: WinReason, height: u64) -> Slash {
        let g = &mut self.games[index as usize];
        g.end_state = Some(GameEnd::Won {
            winner,
            reason,
            height,
        });
        let (loser_side, loser) = (winner.other(), g.player(winner.other()));
        let winner_index = g.player(winner);
        let winner_key = self.party(winner, winner_index).key;
        let party = self.party_mut(loser_side, loser);
        party.lost = Some(index);
        let slash = Slash {
            loser: party.key,
            bond: party.bond,
            winner: winner_key,
        };
        for other in self.games.iter_mut().filter(|o| o.ongoing()) {
            let plays = match loser_side {
                Side::Challenger => other.challenger == loser,
                Side::Defender => other.defender == loser,
            };
            if plays {
                other.end_state = Some(GameEnd::Cancelled { height });
            }
        }
        slash
    }

    /// The first height at which a block has something to do here: the earliest clock to run out
    /// while games are played, else the end of joining, when the dispute is decided. `None` once
    /// it has ended. Until then, nothing but a transaction changes it.
    pub fn next_due(&self) -> Option<u64> {
        if self.result.is_some() {
            return None;
        }
        let ongoing = self.games.iter().filter(|g| g.ongoing());
        Some(
            ongoing
                .map(Game::times_out_at)
                .min()
                .unwrap_or(self.defend_until),
        )
    }

    /// Whether a block at `height` has anything to do here: a clock to run out or a decision.
    pub fn due(&self, height: u64) -> bool {
        self.next_due().is_some_and(|at| at <= height)
    }

    /// Ends every game whose mover's clock has run out by `height`; returns the slashes.
    pub fn timeouts(&mut self, height: u64) -> Vec<Slash> {
        let mut slashes = Vec::new();
        for index in 0..self.games.len() as u32 {
            let g = &self.games[index as usize];
            // A game cancelled by an earlier timeout in this loop is skipped here.
            if g.ongoing() && height >= g.times_out_at() {
                let winner = g.turn.other();
                slashes.push(self.end_game(index, winner, WinReason::Timeout, height));
            }
        }
        slashes
    }

    /// The result the dispute reaches at `height`, if joining has closed and every game has ended.
    pub fn decide(&self, height: u64) -> Option<DisputeResult> {
        if self.result.is_some() || height < self.defend_until || self.ongoing() {
            return None;
        }
        if self.challengers.iter().any(Party::active) {
            Some(DisputeResult::Removed { height })
        } else {
            Some(DisputeResult::Upheld { height })
        }
    }

    /// Cancels every ongoing game; used when the dispute is dropped.
    pub fn cancel_games(&mut self, height: u64) {
        for g in self.games.iter_mut().filter(|g| g.ongoing()) {
            g.end_state = Some(GameEnd::Cancelled { height });
        }
    }

    /// Its digest, as the rollup's dispute tree commits to it.
    pub fn hash(&self) -> Hash {
        Dispute::hash_encoded(&self.to_bytes())
    }

    /// The digest of a dispute from its encoding, as [`Dispute::hash`] gives it.
    pub fn hash_encoded(bytes: &[u8]) -> Hash {
        hash_parts("basalt/l1/dispute", &[bytes])
    }
}
