//! Shared snapshots of large reads: the encodings of recently paged disputes.

use basalt_l1::Dispute;
use basalt_types::{Encode, Hash};
use std::sync::{Arc, Mutex};

/// Most dispute encodings kept for paging, and most bytes they may hold together.
pub(super) const ENCODED_DISPUTES: usize = 4;
const ENCODED_DISPUTE_BYTES: usize = 64 * 1024 * 1024;

/// The encodings of recently paged disputes, each with the snapshot it encodes: a client reading a
/// dispute page by page costs one encoding, not one per page. An entry is the same dispute only
/// while state holds the same shared copy, so a dispute changed by a block is encoded afresh.
#[derive(Default)]
pub(super) struct EncodedDisputes {
    entries: std::collections::VecDeque<(Arc<Dispute>, Encoded)>,
}

/// A dispute's encoding and its digest.
type Encoded = (Arc<Vec<u8>>, Hash);

impl EncodedDisputes {
    /// The encoding of `d`, made outside the cache's lock when it is not cached.
    pub(super) fn of(cache: &Mutex<EncodedDisputes>, d: &Arc<Dispute>) -> Encoded {
        let lock = || cache.lock().unwrap_or_else(|p| p.into_inner());
        let cached = lock()
            .entries
            .iter()
            .find(|(e, _)| Arc::ptr_eq(e, d))
            .map(|(_, bytes)| bytes.clone());
        cached.unwrap_or_else(|| {
            let bytes = Arc::new(d.to_bytes());
            let encoded = (bytes.clone(), Dispute::hash_encoded(&bytes));
            lock().insert(d, &encoded);
            encoded
        })
    }

    fn insert(&mut self, d: &Arc<Dispute>, encoded: &Encoded) {
        if encoded.0.len() <= ENCODED_DISPUTE_BYTES {
            self.entries.push_front((d.clone(), encoded.clone()));
            let mut total = 0;
            let keep = self
                .entries
                .iter()
                .take(ENCODED_DISPUTES)
                .take_while(|(_, (b, _))| {
                    total += b.len();
                    total <= ENCODED_DISPUTE_BYTES
                })
                .count();
            self.entries.truncate(keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispute(id: u64) -> Arc<Dispute> {
        let record = basalt_l1::OutputRecord {
            batch: 0,
            prior: Hash([1; 32]),
            output: Hash([2; 32]),
            proposer: basalt_types::dev_keypair("rpc", 0).public(),
            bond: 1,
            height: 1,
        };
        Arc::new(Dispute::open(id, 0, &record, 10, 2, 4, 4))
    }

    #[test]
    fn paging_a_dispute_encodes_each_snapshot_once_and_keeps_few() {
        let cache = Mutex::new(EncodedDisputes::default());
        let d = dispute(0);
        let (first, hash) = EncodedDisputes::of(&cache, &d);
        assert_eq!(*first, d.to_bytes());
        assert_eq!(hash, d.hash());
        let again = EncodedDisputes::of(&cache, &d).0;
        assert!(Arc::ptr_eq(&first, &again), "cached");
        // An equal dispute in another snapshot (a block rewrote it) is encoded afresh.
        let rewritten = Arc::new(Dispute::clone(&d));
        let fresh = EncodedDisputes::of(&cache, &rewritten).0;
        assert!(!Arc::ptr_eq(&first, &fresh));
        for id in 1..10 {
            EncodedDisputes::of(&cache, &dispute(id));
        }
        assert_eq!(cache.lock().unwrap().entries.len(), ENCODED_DISPUTES);
    }
}
