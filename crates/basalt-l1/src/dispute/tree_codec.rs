//! The consensus encoding of claims, rules and claim trees. Decoding a tree checks every
//! invariant the game relies on ([`ClaimTree::from_claims`]), so a decoded tree never makes the
//! game's arithmetic fail.

use super::tree::{Claim, ClaimTree, Rules};
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
        })
    }
}

impl Encode for Rules {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.depth as u128);
        put_varint(out, self.steps as u128);
        self.prior.encode_to(out);
        put_varint(out, self.max_clock as u128);
        put_varint(out, self.extension as u128);
    }
}

impl Decode for Rules {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Rules {
            depth: u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)?,
            steps: d.varint_u64()?,
            prior: Hash::decode_from(d)?,
            max_clock: d.varint_u64()?,
            extension: d.varint_u64()?,
        })
    }
}

impl Encode for ClaimTree {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.rules.encode_to(out);
        put_varint(out, self.claims().len() as u128);
        for c in self.claims() {
            c.encode_to(out);
        }
    }
}

impl Decode for ClaimTree {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let rules = Rules::decode_from(d)?;
        // No protocol cap on claims (a cap would let sybils lock the honest party out); the input
        // bounds the count, as every claim takes more than 64 bytes.
        let claims = d.list("claims", d.remaining() / 64)?;
        ClaimTree::from_claims(rules, claims).map_err(DecodeError::Invalid)
    }
}
