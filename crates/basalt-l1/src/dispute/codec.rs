//! The consensus encoding of disputes, games, moves and parties.

use super::*;
use basalt_types::codec::{put_list, put_varint};
use basalt_types::{Decode, Decoder};

impl Encode for Party {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.key.encode_to(out);
        put_varint(out, self.bond);
        match self.lost {
            None => out.push(0),
            Some(g) => {
                out.push(1);
                put_varint(out, g as u128);
            }
        }
    }
}

impl Decode for Party {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Party {
            key: PublicKey::decode_from(d)?,
            bond: d.varint()?,
            lost: match d.u8()? {
                0 => None,
                1 => Some(varint_u32(d)?),
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "party status",
                        tag: tag as u64,
                    })
                }
            },
        })
    }
}

fn varint_u32(d: &mut Decoder<'_>) -> Result<u32, DecodeError> {
    u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)
}

impl Encode for Move {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.side as u8);
        put_varint(out, self.height as u128);
        out.push(self.choice as u8);
        match self.kind {
            MoveKind::Bisect { a, b, mid, end } => {
                out.push(0);
                put_varint(out, a as u128);
                put_varint(out, b as u128);
                mid.encode_to(out);
                end.encode_to(out);
            }
            MoveKind::OneStep { step, result } => {
                out.push(1);
                put_varint(out, step as u128);
                result.encode_to(out);
            }
        }
    }
}

impl Decode for Move {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let side = Side::from_u8(d.u8()?)?;
        let height = d.varint_u64()?;
        let choice = Choice::from_u8(d.u8()?)?;
        let kind = match d.u8()? {
            0 => MoveKind::Bisect {
                a: d.varint_u64()?,
                b: d.varint_u64()?,
                mid: Hash::decode_from(d)?,
                end: Hash::decode_from(d)?,
            },
            1 => MoveKind::OneStep {
                step: d.varint_u64()?,
                result: Hash::decode_from(d)?,
            },
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "move",
                    tag: tag as u64,
                })
            }
        };
        Ok(Move {
            side,
            height,
            choice,
            kind,
        })
    }
}

impl Encode for Game {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.challenger as u128);
        put_varint(out, self.defender as u128);
        put_varint(out, self.a as u128);
        put_varint(out, self.b as u128);
        self.start.encode_to(out);
        match self.mid {
            None => out.push(0),
            Some(m) => {
                out.push(1);
                m.encode_to(out);
            }
        }
        self.end.encode_to(out);
        out.push(self.turn as u8);
        put_varint(out, self.clocks[0] as u128);
        put_varint(out, self.clocks[1] as u128);
        put_varint(out, self.since as u128);
        put_list(out, &self.moves);
        match self.end_state {
            None => out.push(0),
            Some(GameEnd::Won {
                winner,
                reason,
                height,
            }) => {
                out.push(1);
                out.push(winner as u8);
                out.push(reason as u8);
                put_varint(out, height as u128);
            }
            Some(GameEnd::Cancelled { height }) => {
                out.push(2);
                put_varint(out, height as u128);
            }
        }
    }
}

impl Decode for Game {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Game {
            challenger: varint_u32(d)?,
            defender: varint_u32(d)?,
            a: d.varint_u64()?,
            b: d.varint_u64()?,
            start: Hash::decode_from(d)?,
            mid: match d.u8()? {
                0 => None,
                1 => Some(Hash::decode_from(d)?),
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "game midpoint",
                        tag: tag as u64,
                    })
                }
            },
            end: Hash::decode_from(d)?,
            turn: Side::from_u8(d.u8()?)?,
            clocks: [d.varint_u64()?, d.varint_u64()?],
            since: d.varint_u64()?,
            moves: d.list("game moves", MAX_GAME_MOVES)?,
            end_state: match d.u8()? {
                0 => None,
                1 => Some(GameEnd::Won {
                    winner: Side::from_u8(d.u8()?)?,
                    reason: match d.u8()? {
                        0 => WinReason::Timeout,
                        1 => WinReason::OneStep,
                        2 => WinReason::NoSteps,
                        tag => {
                            return Err(DecodeError::UnknownTag {
                                what: "win reason",
                                tag: tag as u64,
                            })
                        }
                    },
                    height: d.varint_u64()?,
                }),
                2 => Some(GameEnd::Cancelled {
                    height: d.varint_u64()?,
                }),
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "game end",
                        tag: tag as u64,
                    })
                }
            },
        })
    }
}

impl Encode for Dispute {
    fn encode_to(&self, out: &mut Vec<u8>) {
        for v in [
            self.id,
            self.proposal,
            self.batch,
            self.steps,
            self.opened,
            self.challenge_until,
            self.defend_until,
            self.clock,
        ] {
            put_varint(out, v as u128);
        }
        self.prior.encode_to(out);
        self.output.encode_to(out);
        put_list(out, &self.challengers);
        put_list(out, &self.defenders);
        put_list(out, &self.games);
        match self.result {
            None => out.push(0),
            Some(DisputeResult::Removed { height }) => {
                out.push(1);
                put_varint(out, height as u128);
            }
            Some(DisputeResult::Upheld { height }) => {
                out.push(2);
                put_varint(out, height as u128);
            }
            Some(DisputeResult::Dropped { height }) => {
                out.push(3);
                put_varint(out, height as u128);
            }
        }
    }
}

impl Decode for Dispute {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut v = [0u64; 8];
        for x in &mut v {
            *x = d.varint_u64()?;
        }
        let [id, proposal, batch, steps, opened, challenge_until, defend_until, clock] = v;
        Ok(Dispute {
            id,
            proposal,
            batch,
            steps,
            opened,
            challenge_until,
            defend_until,
            clock,
            prior: Hash::decode_from(d)?,
            output: Hash::decode_from(d)?,
            challengers: d.list("challengers", MAX_PARTIES)?,
            defenders: d.list("defenders", MAX_PARTIES)?,
            games: d.list("games", MAX_PARTIES * MAX_PARTIES)?,
            result: match d.u8()? {
                0 => None,
                1 => Some(DisputeResult::Removed {
                    height: d.varint_u64()?,
                }),
                2 => Some(DisputeResult::Upheld {
                    height: d.varint_u64()?,
                }),
                3 => Some(DisputeResult::Dropped {
                    height: d.varint_u64()?,
                }),
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "dispute result",
                        tag: tag as u64,
                    })
                }
            },
        })
    }
}
