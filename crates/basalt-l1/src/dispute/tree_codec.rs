//! The consensus encoding of claim trees. Decoding checks every invariant the game relies on
//! (the root first, each claim after its parent at a node its move can reach, clocks within the
//! side's budget), so a decoded tree never makes the game's arithmetic fail.

use super::tree::{counter_position, Claim, ClaimTree, MAX_TREE_DEPTH};
use basalt_types::codec::put_varint;
use basalt_types::{Decode, DecodeError, Decoder, Encode, Hash, PublicKey};

impl Encode for Claim {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.parent.map_or(0, |p| p as u128 + 1));
        put_varint(out, self.position as u128);
        self.value.encode_to(out);
        self.claimant.encode_to(out);
        put_varint(out, self.bond);
        put_varint(out, self.created as u128);
        put_varint(out, self.clock as u128);
        match &self.stepped_by {
            None => out.push(0),
            Some(k) => {
                out.push(1);
                k.encode_to(out);
            }
        }
    }
}

impl Decode for Claim {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let parent = match d.varint_u64()? {
            0 => None,
            p => Some(u32::try_from(p - 1).map_err(|_| DecodeError::BadVarint)?),
        };
        Ok(Claim {
            parent,
            position: d.varint_u64()?,
            value: Hash::decode_from(d)?,
            claimant: PublicKey::decode_from(d)?,
            bond: d.varint()?,
            created: d.varint_u64()?,
            clock: d.varint_u64()?,
            stepped_by: match d.u8()? {
                0 => None,
                1 => Some(PublicKey::decode_from(d)?),
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "claim status",
                        tag: tag as u64,
                    })
                }
            },
        })
    }
}

impl Encode for ClaimTree {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.depth as u128);
        put_varint(out, self.steps as u128);
        self.prior.encode_to(out);
        put_varint(out, self.max_clock as u128);
        put_varint(out, self.extension as u128);
        put_varint(out, self.claims.len() as u128);
        for c in &self.claims {
            c.encode_to(out);
        }
    }
}

impl Decode for ClaimTree {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let depth = u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)?;
        let steps = d.varint_u64()?;
        let prior = Hash::decode_from(d)?;
        let (max_clock, extension) = (d.varint_u64()?, d.varint_u64()?);
        if depth != ClaimTree::depth_for(steps) || depth > MAX_TREE_DEPTH {
            return Err(DecodeError::Invalid("claim tree depth"));
        }
        if extension >= max_clock {
            return Err(DecodeError::Invalid("claim tree clock extension"));
        }
        // No protocol cap on claims (a cap would let sybils lock the honest party out); the input
        // bounds the count, as every claim takes more than 64 bytes.
        let claims = d.list("claims", d.remaining() / 64)?;
        let tree = ClaimTree {
            depth,
            steps,
            prior,
            max_clock,
            extension,
            claims,
        };
        tree.check().map_err(DecodeError::Invalid)?;
        Ok(tree)
    }
}

impl ClaimTree {
    /// Checks the invariants a tree built by its moves has.
    fn check(&self) -> Result<(), &'static str> {
        let root = self.claims.first().ok_or("claim tree without a root")?;
        if root.parent.is_some() || root.position != 1 || root.clock != 0 {
            return Err("claim tree root");
        }
        for (i, c) in self.claims.iter().enumerate().skip(1) {
            let p = c.parent.ok_or("claim without a parent")? as usize;
            let parent = self.claims.get(p).filter(|_| p < i).ok_or("claim parent")?;
            let reachable = c.position == counter_position(parent.position, true)
                || (c.position == counter_position(parent.position, false)
                    && !(parent.position + 1).is_power_of_two());
            if !reachable || 63 - c.position.leading_zeros() > self.depth {
                return Err("claim position");
            }
            if c.clock > self.max_clock - self.extension || c.created < parent.created {
                return Err("claim clock");
            }
        }
        Ok(())
    }
}
