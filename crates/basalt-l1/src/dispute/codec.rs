//! The consensus encoding of a proposal's dispute record.

use super::tree::Rules;
use super::{Dispute, DisputeResult};
use basalt_types::codec::put_varint;
use basalt_types::{Decode, DecodeError, Decoder, Encode, Hash};

impl Encode for Dispute {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.proposal as u128);
        put_varint(out, self.batch as u128);
        self.rules.encode_to(out);
        put_varint(out, self.claims as u128);
        self.claims_digest.encode_to(out);
        put_varint(out, self.resolvable_at as u128);
        match self.result {
            None => out.push(0),
            Some(DisputeResult::Upheld { height }) => {
                out.push(1);
                put_varint(out, height as u128);
            }
            Some(DisputeResult::Removed { height }) => {
                out.push(2);
                put_varint(out, height as u128);
            }
        }
    }
}

impl Decode for Dispute {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Dispute {
            proposal: d.varint_u64()?,
            batch: d.varint_u64()?,
            rules: Rules::decode_from(d)?,
            claims: u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)?,
            claims_digest: Hash::decode_from(d)?,
            resolvable_at: d.varint_u64()?,
            result: match d.u8()? {
                0 => None,
                1 => Some(DisputeResult::Upheld {
                    height: d.varint_u64()?,
                }),
                2 => Some(DisputeResult::Removed {
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
