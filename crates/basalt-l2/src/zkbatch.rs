//! The posted form of a ZK rollup's batch: transactions without signatures or nonces (the validity
//! proof covers both; a nonce is always the sender's next), in columns, compressed into one blob.
//!
//! Payload: the version byte [`ZK_BATCH_VERSION`], a varint count, then one column after another:
//! kinds (one byte each), senders, recipients of transfers, L1 recipients of withdrawals (32 bytes
//! each), amounts, fees (all others varints). Columns put alike values together, which is what the
//! compressor is good at. Blob framing, bounds and codecs are those of [`crate::decode_batch`].

use crate::batch::{compress_with, open_payload, BatchError, Effort};
use crate::profile::Profile;
use crate::types::L2Tx;
use basalt_types::codec::put_varint;
use basalt_types::{Amount, DecodeError, Decoder, PublicKey};

/// Version byte of a ZK batch payload (distinct from the optimistic payload's).
pub const ZK_BATCH_VERSION: u8 = 0x81;

/// A transaction as a ZK batch posts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostedTx {
    /// Applies the next L1 deposit.
    Deposit,
    /// A transfer.
    Transfer {
        /// Sender account.
        from: u32,
        /// Recipient account.
        to: u32,
        /// Value moved.
        amount: Amount,
        /// Fee paid.
        fee: Amount,
    },
    /// A withdrawal to L1.
    Withdraw {
        /// Sender account.
        from: u32,
        /// L1 account paid.
        recipient: PublicKey,
        /// Value withdrawn.
        amount: Amount,
        /// Fee paid.
        fee: Amount,
    },
}

impl<P: Profile> From<&L2Tx<P>> for PostedTx {
    fn from(tx: &L2Tx<P>) -> PostedTx {
        match *tx {
            L2Tx::Deposit { .. } => PostedTx::Deposit,
            L2Tx::Transfer {
                from,
                to,
                amount,
                fee,
                ..
            } => PostedTx::Transfer {
                from,
                to,
                amount,
                fee,
            },
            L2Tx::Withdraw {
                from,
                recipient,
                amount,
                fee,
                ..
            } => PostedTx::Withdraw {
                from,
                recipient,
                amount,
                fee,
            },
        }
    }
}

/// The uncompressed columnar payload of a ZK batch.
pub fn encode_zk_payload(txs: &[PostedTx]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + txs.len() * 12);
    out.push(ZK_BATCH_VERSION);
    put_varint(&mut out, txs.len() as u128);
    for tx in txs {
        out.push(match tx {
            PostedTx::Deposit => 0,
            PostedTx::Transfer { .. } => 1,
            PostedTx::Withdraw { .. } => 2,
        });
    }
    let signed = || {
        txs.iter().filter_map(|tx| match *tx {
            PostedTx::Deposit => None,
            PostedTx::Transfer {
                from, amount, fee, ..
            }
            | PostedTx::Withdraw {
                from, amount, fee, ..
            } => Some((from, amount, fee)),
        })
    };
    for (from, _, _) in signed() {
        put_varint(&mut out, from as u128);
    }
    for tx in txs {
        if let PostedTx::Transfer { to, .. } = tx {
            put_varint(&mut out, *to as u128);
        }
    }
    for tx in txs {
        if let PostedTx::Withdraw { recipient, .. } = tx {
            out.extend_from_slice(&recipient.0);
        }
    }
    for (_, amount, _) in signed() {
        put_varint(&mut out, amount);
    }
    for (_, _, fee) in signed() {
        put_varint(&mut out, fee);
    }
    out
}

/// A ZK batch as a blob, compressed as hard as `effort` says.
pub fn encode_zk_batch(txs: &[PostedTx], effort: Effort) -> Vec<u8> {
    compress_with(&encode_zk_payload(txs), effort)
}

/// Decodes a ZK batch blob from untrusted L1 data: exactly the transactions its header declares.
pub fn decode_zk_batch(blob: &[u8]) -> Result<Vec<PostedTx>, BatchError> {
    let (payload, n, start) = open_payload(blob, ZK_BATCH_VERSION, "ZK batch version")?;
    let mut d = Decoder::new(&payload[start..]);
    let kinds = d.take(n)?;
    if let Some(bad) = kinds.iter().find(|k| **k > 2) {
        return Err(DecodeError::UnknownTag {
            what: "ZK transaction kind",
            tag: *bad as u64,
        }
        .into());
    }
    let account = |d: &mut Decoder<'_>| -> Result<u32, DecodeError> {
        u32::try_from(d.varint()?).map_err(|_| DecodeError::BadVarint)
    };
    let signed = kinds.iter().filter(|k| **k != 0).count();
    let froms = (0..signed)
        .map(|_| account(&mut d))
        .collect::<Result<Vec<_>, _>>()?;
    let transfers = kinds.iter().filter(|k| **k == 1).count();
    let tos = (0..transfers)
        .map(|_| account(&mut d))
        .collect::<Result<Vec<_>, _>>()?;
    let recipients = (0..signed - transfers)
        .map(|_| d.array().map(PublicKey))
        .collect::<Result<Vec<_>, _>>()?;
    let amounts = (0..signed)
        .map(|_| d.varint())
        .collect::<Result<Vec<_>, _>>()?;
    let fees = (0..signed)
        .map(|_| d.varint())
        .collect::<Result<Vec<_>, _>>()?;
    d.finish()?;
    let (mut s, mut t, mut w) = (0, 0, 0);
    let txs = kinds
        .iter()
        .map(|kind| match kind {
            0 => PostedTx::Deposit,
            1 => {
                let tx = PostedTx::Transfer {
                    from: froms[s],
                    to: tos[t],
                    amount: amounts[s],
                    fee: fees[s],
                };
                (s, t) = (s + 1, t + 1);
                tx
            }
            _ => {
                let tx = PostedTx::Withdraw {
                    from: froms[s],
                    recipient: recipients[w],
                    amount: amounts[s],
                    fee: fees[s],
                };
                (s, w) = (s + 1, w + 1);
                tx
            }
        })
        .collect();
    Ok(txs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    fn posted() -> impl Strategy<Value = PostedTx> {
        prop_oneof![
            Just(PostedTx::Deposit),
            (any::<u32>(), any::<u32>(), any::<u128>(), any::<u128>()).prop_map(
                |(from, to, amount, fee)| PostedTx::Transfer {
                    from,
                    to,
                    amount,
                    fee
                }
            ),
            (
                any::<u32>(),
                any::<[u8; 32]>(),
                any::<u128>(),
                any::<u128>()
            )
                .prop_map(|(from, r, amount, fee)| PostedTx::Withdraw {
                    from,
                    recipient: PublicKey(r),
                    amount,
                    fee
                }),
        ]
    }

    proptest! {
        #[test]
        fn a_zk_batch_decodes_to_what_was_encoded(txs in proptest::collection::vec(posted(), 0..40)) {
            for effort in [Effort::Best, Effort::Fast] {
                prop_assert_eq!(decode_zk_batch(&encode_zk_batch(&txs, effort)).unwrap(), txs.clone());
            }
        }

        #[test]
        fn a_truncated_or_extended_zk_payload_is_rejected(txs in proptest::collection::vec(posted(), 1..20), cut in any::<usize>()) {
            let payload = encode_zk_payload(&txs);
            let cut = 2 + cut % (payload.len() - 2);
            let blob = crate::compress(&payload[..cut], crate::Codec::None);
            prop_assert!(decode_zk_batch(&blob).is_err());
            let mut longer = payload.clone();
            longer.push(0);
            prop_assert!(decode_zk_batch(&crate::compress(&longer, crate::Codec::None)).is_err());
        }
    }

    #[test]
    fn an_optimistic_payload_is_not_a_zk_batch() {
        let blob = crate::encode_batch::<crate::Optimistic>(&[L2Tx::Deposit { index: 0 }]);
        assert!(decode_zk_batch(&blob).is_err());
    }

    /// The target: at most 10 L1 bytes per transfer after compression, for 4,096 transfers
    /// among 1,000 accounts with amounts spread over six decimal orders and the minimum fee.
    #[test]
    fn a_zk_transfer_costs_at_most_ten_bytes_on_l1() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
        let txs: Vec<PostedTx> = (0..4096)
            .map(|_| PostedTx::Transfer {
                from: rng.gen_range(1..1_000),
                to: rng.gen_range(1..1_000),
                amount: rng.gen_range(1..1_000_000),
                fee: 10,
            })
            .collect();
        let blob = encode_zk_batch(&txs, Effort::Best);
        let per = blob.len() as f64 / txs.len() as f64;
        println!("{per:.2} bytes per transfer");
        assert!(per <= 10.0, "{per:.2} bytes per transfer");
    }
}
