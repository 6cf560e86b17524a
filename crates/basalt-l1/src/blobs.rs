//! Where a state keeps the blobs it retains: in memory (tests, in-process labs), or in a node's
//! store, read on demand, so that a node's memory does not grow with the retention window.

use crate::state::StoredBlob;
use basalt_types::Hash;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A durable holder of retained blobs, written and pruned with each finalized block by its owner.
pub trait BlobSource: Send + Sync {
    /// The retained blob with this digest, if the source holds it.
    fn blob(&self, hash: &Hash) -> Option<StoredBlob>;
}

/// The retained blobs of a finalized state.
#[derive(Clone)]
pub enum Blobs {
    /// Held in memory, indexed by height for pruning.
    Memory {
        /// Each blob by digest.
        by_hash: HashMap<Hash, StoredBlob>,
        /// Digests by posting height.
        by_height: BTreeMap<u64, Vec<Hash>>,
    },
    /// Read from a source that already holds every finalized block's blobs, pruned.
    Source(Arc<dyn BlobSource>),
}

impl Default for Blobs {
    fn default() -> Self {
        Blobs::Memory {
            by_hash: HashMap::new(),
            by_height: BTreeMap::new(),
        }
    }
}

impl Blobs {
    /// Blobs held in memory, from a list.
    pub fn memory(blobs: Vec<StoredBlob>) -> Blobs {
        let mut held = Blobs::default();
        held.insert(&blobs);
        held
    }

    /// The blob with this digest, if retained.
    pub fn get(&self, hash: &Hash) -> Option<Cow<'_, StoredBlob>> {
        match self {
            Blobs::Memory { by_hash, .. } => by_hash.get(hash).map(Cow::Borrowed),
            Blobs::Source(source) => source.blob(hash).map(Cow::Owned),
        }
    }

    /// Blobs held in memory (none when read from a source).
    pub fn in_memory(&self) -> usize {
        match self {
            Blobs::Memory { by_hash, .. } => by_hash.len(),
            Blobs::Source(_) => 0,
        }
    }

    /// Keeps a finalized block's blobs (a source already holds them).
    pub(crate) fn insert(&mut self, blobs: &[StoredBlob]) {
        if let Blobs::Memory { by_hash, by_height } = self {
            for b in blobs {
                by_height.entry(b.height).or_default().push(b.hash);
                by_hash.insert(b.hash, b.clone());
            }
        }
    }

    /// Drops the blobs posted at `through` and below (a source prunes itself).
    pub(crate) fn prune(&mut self, through: u64) {
        if let Blobs::Memory { by_hash, by_height } = self {
            let keep = by_height.split_off(&(through + 1));
            for hashes in std::mem::replace(by_height, keep).into_values() {
                for h in hashes {
                    // The same data posted again later is kept until its own window passes.
                    if by_hash.get(&h).is_some_and(|b| b.height <= through) {
                        by_hash.remove(&h);
                    }
                }
            }
        }
    }
}
