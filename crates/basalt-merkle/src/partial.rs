//! A tree known only along a few proven paths: enough to update those leaves and get the new root.

use crate::tree::{MerkleProof, TreeHasher};
use std::collections::HashMap;

/// Why a [`PartialTree`] refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartialError {
    /// A proof has the wrong length or does not lead to the root.
    #[error("proof for leaf {0} does not match the root")]
    BadProof(u32),
    /// Two proofs for the same leaf claim different values.
    #[error("conflicting proofs for leaf {0}")]
    Conflict(u32),
    /// The leaf was never proven, so it cannot be read or written.
    #[error("leaf {0} is not covered by the witness")]
    Unknown(u32),
    /// A proof was added after a write (it would describe the old tree).
    #[error("proofs must all be added before the first write")]
    ProofAfterWrite,
}

/// The nodes of a fixed-depth tree along proven paths. Every proof is checked against the root it
/// starts from; writes to proven leaves then rehash their paths, so [`PartialTree::root`] is the
/// root the full tree would have after the same writes.
#[derive(Debug, Clone)]
pub struct PartialTree<H: TreeHasher> {
    depth: u8,
    root: H::Digest,
    /// `(level, position) -> digest`; level 0 holds leaves.
    nodes: HashMap<(u8, u64), H::Digest>,
    written: bool,
}

impl<H: TreeHasher> PartialTree<H> {
    /// A tree of `depth` known only by its root.
    pub fn new(depth: u8, root: H::Digest) -> Self {
        PartialTree {
            depth,
            root,
            nodes: HashMap::new(),
            written: false,
        }
    }

    /// Adds the path of `leaf` at `proof.index`, checking it against the root.
    pub fn add_proof(
        &mut self,
        leaf: H::Digest,
        proof: &MerkleProof<H::Digest>,
    ) -> Result<(), PartialError> {
        if self.written {
            return Err(PartialError::ProofAfterWrite);
        }
        let index = proof.index;
        if proof.depth::<H>() != Some(self.depth as usize) || !proof.verify::<H>(&self.root, leaf) {
            return Err(PartialError::BadProof(index));
        }
        if let Some(known) = self.nodes.get(&(0, index as u64)) {
            if *known != leaf {
                return Err(PartialError::Conflict(index));
            }
        }
        let a = H::ARITY;
        let per = a as usize - 1;
        let (mut acc, mut pos) = (leaf, index as u64);
        for (level, siblings) in proof.siblings.chunks(per).enumerate() {
            let level = level as u8;
            self.nodes.insert((level, pos), acc);
            let base = pos - pos % a;
            let mut rest = siblings.iter();
            for k in 0..a {
                if base + k != pos {
                    let s = *rest.next().expect("a whole level of siblings");
                    self.nodes.insert((level, base + k), s);
                }
            }
            acc = self.parent(level, pos);
            pos /= a;
        }
        Ok(())
    }

    /// The digest of the parent of `(level, pos)` from the stored children.
    fn parent(&self, level: u8, pos: u64) -> H::Digest {
        let base = pos - pos % H::ARITY;
        let mut buf = Vec::with_capacity(H::ARITY as usize);
        for k in 0..H::ARITY {
            buf.push(
                *self
                    .nodes
                    .get(&(level, base + k))
                    .expect("a proven path stores every sibling"),
            );
        }
        H::node(&buf)
    }

    /// The current digest of a proven leaf.
    pub fn leaf(&self, index: u32) -> Result<H::Digest, PartialError> {
        self.nodes
            .get(&(0, index as u64))
            .copied()
            .ok_or(PartialError::Unknown(index))
    }

    /// Writes a proven leaf and rehashes its path.
    pub fn set(&mut self, index: u32, leaf: H::Digest) -> Result<(), PartialError> {
        self.leaf(index)?;
        self.written = true;
        let (mut acc, mut pos) = (leaf, index as u64);
        for level in 0..self.depth {
            self.nodes.insert((level, pos), acc);
            acc = self.parent(level, pos);
            pos /= H::ARITY;
        }
        self.root = acc;
        Ok(())
    }

    /// The root after every write so far.
    pub fn root(&self) -> H::Digest {
        self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Blake3Hasher, MerkleTree};
    use basalt_types::{hash, Hash};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn writes_through_proven_paths_match_the_full_tree(
            initial in proptest::collection::btree_map(0u32..64, any::<u8>(), 0..20),
            writes in proptest::collection::vec((0u32..64, any::<u8>()), 1..8),
        ) {
            let mut full = MerkleTree::<Blake3Hasher>::new(6);
            for (i, v) in &initial {
                full.set(*i, hash(&[*v]));
            }
            full.commit();
            let mut partial = PartialTree::<Blake3Hasher>::new(6, full.root());
            for (i, _) in &writes {
                partial.add_proof(full.leaf(*i), &full.proof(*i)).unwrap();
            }
            for (i, v) in &writes {
                partial.set(*i, hash(&[*v, 1])).unwrap();
                full.set(*i, hash(&[*v, 1]));
            }
            full.commit();
            prop_assert_eq!(partial.root(), full.root());
        }
    }

    #[test]
    fn bad_proofs_unknown_leaves_and_late_proofs_are_refused() {
        let mut full = MerkleTree::<Blake3Hasher>::new(4);
        full.set(3, hash(b"a"));
        full.commit();
        let mut p = PartialTree::<Blake3Hasher>::new(4, full.root());
        assert_eq!(
            p.add_proof(hash(b"forged"), &full.proof(3)),
            Err(PartialError::BadProof(3))
        );
        let mut short = full.proof(3);
        short.siblings.pop();
        assert_eq!(
            p.add_proof(full.leaf(3), &short),
            Err(PartialError::BadProof(3))
        );
        p.add_proof(full.leaf(3), &full.proof(3)).unwrap();
        assert_eq!(p.set(4, Hash::ZERO), Err(PartialError::Unknown(4)));
        p.set(3, hash(b"b")).unwrap();
        assert_eq!(
            p.add_proof(full.leaf(5), &full.proof(5)),
            Err(PartialError::ProofAfterWrite)
        );
    }
}
