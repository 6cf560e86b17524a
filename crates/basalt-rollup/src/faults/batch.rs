//! The data a faulty sequencer posts so that its fault has something to misread.

use super::{Fault, P};
use basalt_l2::L2Tx;

/// The batch a faulty sequencer posts instead of `data` so that `fault` has something to misread:
/// a transfer replaced by a forged one (bad signature) or by a replay of the first, or data that
/// does not decode. `None` if the fault needs no such data or the batch has no transfer to work
/// with.
pub fn misleading_batch(fault: Fault, data: &[u8]) -> Option<Vec<u8>> {
    if fault == Fault::Undecodable {
        let mut garbage = vec![0x7f];
        garbage.extend_from_slice(data);
        return Some(garbage);
    }
    let mut txs = basalt_l2::decode_batch::<P>(data).ok()?;
    let transfers: Vec<usize> = txs
        .iter()
        .enumerate()
        .filter(|(_, t)| matches!(t, L2Tx::Transfer { .. }))
        .map(|(i, _)| i)
        .collect();
    let (&first, &last) = (transfers.first()?, transfers.last()?);
    match fault {
        Fault::BadSignature => {
            if let L2Tx::Transfer { amount, .. } = &mut txs[last] {
                *amount += 1; // the signature no longer covers it
            }
        }
        Fault::Replay if first != last => txs[last] = txs[first],
        _ => return None,
    }
    Some(basalt_l2::encode_batch(&txs))
}
