//! Transaction gossip: transactions admitted from RPC are relayed to every validator, so whichever
//! validator leads the next view can include them.
//!
//! A gossip message is a bounded batch ([`MAX_BATCH_TXS`] transactions, each at most
//! `basalt_l1::MAX_TX_BYTES`). A peer that sends an undecodable batch or a transaction with a bad
//! signature is blocked (the network disconnects it); transactions that are merely stale or underpriced
//! are dropped, since honest peers can race with inclusion.

use crate::chain::Chain;
use crate::mempool::AdmissionError;
use basalt_l1::{verify_all, SignedTransaction};
use basalt_types::codec::{put_bytes, put_varint};
use basalt_types::{DecodeError, Decoder};
use commonware_cryptography::ed25519::PublicKey;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::Clock;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::warn;

/// Most transactions in one gossip message.
pub const MAX_BATCH_TXS: usize = 4_096;
/// Most bytes of transactions in one gossip message.
pub const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// How often queued transactions are sent.
pub const GOSSIP_INTERVAL: Duration = Duration::from_millis(20);

/// Encodes a batch of encoded transactions.
pub fn encode_batch(txs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(txs.iter().map(|t| t.len() + 3).sum::<usize>() + 3);
    put_varint(&mut out, txs.len() as u128);
    for t in txs {
        put_bytes(&mut out, t);
    }
    out
}

/// Decodes a batch from untrusted bytes.
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<&[u8]>, DecodeError> {
    if bytes.len() > MAX_BATCH_BYTES + 4 * MAX_BATCH_TXS {
        return Err(DecodeError::TooLong {
            what: "gossip batch",
            len: bytes.len() as u64,
            max: MAX_BATCH_BYTES as u64,
        });
    }
    let mut d = Decoder::new(bytes);
    let n = d.len("gossip batch", MAX_BATCH_TXS)?;
    let mut txs = Vec::with_capacity(n.min(d.remaining()));
    for _ in 0..n {
        txs.push(d.bytes("transaction", basalt_l1::MAX_TX_BYTES)?);
    }
    d.finish()?;
    Ok(txs)
}

/// Sends queued local transactions to all peers, forever.
pub async fn run_sender(
    clock: impl Clock,
    chain: Arc<Mutex<Chain>>,
    mut sender: impl Sender<PublicKey = PublicKey>,
) {
    loop {
        clock.sleep(GOSSIP_INTERVAL).await;
        let mut queued = crate::chain::lock(&chain).take_outbox();
        while !queued.is_empty() {
            let mut size = 0;
            let take = queued
                .iter()
                .take(MAX_BATCH_TXS)
                .take_while(|t| {
                    size += t.len();
                    size <= MAX_BATCH_BYTES
                })
                .count()
                .max(1);
            let rest = queued.split_off(take);
            sender.send(Recipients::All, encode_batch(&queued), false);
            queued = rest;
        }
    }
}

/// Admits transactions gossiped by peers, blocking peers that send garbage.
pub async fn run_receiver(
    chain: Arc<Mutex<Chain>>,
    mut receiver: impl Receiver<PublicKey = PublicKey>,
    mut blocker: impl Blocker<PublicKey = PublicKey>,
) {
    while let Ok((peer, msg)) = receiver.recv().await {
        let txs = match decode_batch(msg.as_ref()) {
            Ok(t) => t,
            Err(e) => {
                warn!(%peer, error = %e, "blocking peer: malformed transaction gossip");
                blocker.block(peer);
                continue;
            }
        };
        // Decode and batch-verify outside the chain lock; any garbage convicts the peer.
        let decoded: Result<Vec<SignedTransaction>, _> = txs
            .iter()
            .map(|t| SignedTransaction::decode_untrusted(t))
            .collect();
        let verified = match decoded
            .map_err(|e| e.to_string())
            .and_then(|d| verify_all(d).map_err(|(i, e)| format!("transaction {i}: {e}")))
        {
            Ok(v) => v,
            Err(e) => {
                warn!(%peer, error = %e, "blocking peer: invalid gossiped transaction");
                blocker.block(peer);
                continue;
            }
        };
        let mut chain = crate::chain::lock(&chain);
        for tx in verified {
            if let Err(AdmissionError::Invalid(basalt_l1::TxError::WrongChainId { .. })) =
                chain.admit(tx)
            {
                warn!(%peer, "blocking peer: gossiped a transaction for another chain");
                blocker.block(peer.clone());
                break;
            }
            // Other refusals (stale nonce, underpriced, duplicate) are honest races.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_roundtrip_and_bounds_hold() {
        let txs = vec![vec![1u8; 10], vec![2u8; 300]];
        let enc = encode_batch(&txs);
        let back = decode_batch(&enc).unwrap();
        assert_eq!(back, vec![&txs[0][..], &txs[1][..]]);
        assert!(decode_batch(&enc[..enc.len() - 1]).is_err());
        let mut too_many = Vec::new();
        put_varint(&mut too_many, (MAX_BATCH_TXS + 1) as u128);
        assert!(matches!(
            decode_batch(&too_many),
            Err(DecodeError::TooLong { .. })
        ));
    }
}
