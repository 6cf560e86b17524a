use std::collections::BTreeMap;

/// Depth of state trees: every `u32` is a leaf index.
pub const DEFAULT_DEPTH: u8 = 32;

/// The hash function of a tree.
pub trait TreeHasher {
    /// A node digest.
    type Digest: Copy + Eq + std::fmt::Debug;
    /// Children of an inner node: 2 or 4.
    const ARITY: u64 = 2;
    /// The digest of an empty leaf.
    fn empty_leaf() -> Self::Digest;
    /// The digest of an inner node from its [`TreeHasher::ARITY`] children, in order.
    fn node(children: &[Self::Digest]) -> Self::Digest;
}

/// Most children of a node.
const MAX_ARITY: usize = 4;

/// Index bits one level of an `H` tree consumes.
fn level_bits<H: TreeHasher>() -> u32 {
    assert!(
        H::ARITY == 2 || H::ARITY == 4,
        "tree arity must be 2 or 4, not {}",
        H::ARITY
    );
    H::ARITY.trailing_zeros()
}

/// Whether `index` fits a tree of `depth` levels of arity `H::ARITY`.
fn fits<H: TreeHasher>(depth: usize, index: u32) -> bool {
    let bits = depth as u64 * level_bits::<H>() as u64;
    bits <= 32 && (bits == 32 || (index as u64) < (1u64 << bits))
}

/// The digest of the node whose children are `child(0..ARITY)`.
fn hash_children<H: TreeHasher>(mut child: impl FnMut(u64) -> H::Digest) -> H::Digest {
    let mut buf = [H::empty_leaf(); MAX_ARITY];
    for (k, slot) in buf.iter_mut().take(H::ARITY as usize).enumerate() {
        *slot = child(k as u64);
    }
    H::node(&buf[..H::ARITY as usize])
}

/// blake3 with distinct prefixes for leaves and nodes, so a leaf can never pose as a node.
#[derive(Debug, Clone, Copy, Default)]
pub struct Blake3Hasher;

impl Blake3Hasher {
    /// The leaf digest of a leaf's canonical bytes.
    pub fn leaf(data: &[u8]) -> basalt_types::Hash {
        let mut h = blake3::Hasher::new();
        h.update(&[0u8]);
        h.update(data);
        basalt_types::Hash(*h.finalize().as_bytes())
    }
}

impl TreeHasher for Blake3Hasher {
    type Digest = basalt_types::Hash;

    fn empty_leaf() -> Self::Digest {
        basalt_types::Hash::ZERO
    }

    fn node(children: &[Self::Digest]) -> Self::Digest {
        let mut buf = [0u8; 65];
        buf[0] = 1;
        buf[1..33].copy_from_slice(&children[0].0);
        buf[33..].copy_from_slice(&children[1].0);
        basalt_types::Hash(*blake3::hash(&buf).as_bytes())
    }
}

/// A fixed-depth Merkle tree over `u32` leaf indices, of the hasher's arity.
#[derive(Clone)]
pub struct MerkleTree<H: TreeHasher> {
    depth: u8,
    /// `levels[0]` are leaves; `levels[l][i]` is the node at height `l`, position `i`.
    levels: Vec<Vec<H::Digest>>,
    /// Digest of an empty subtree of each height.
    empty: Vec<H::Digest>,
    /// Leaves written since the last commit.
    dirty: Vec<u32>,
}

impl<H: TreeHasher> MerkleTree<H> {
    /// An empty tree of `depth` levels (at least 1; at most 32 index bits).
    pub fn new(depth: u8) -> Self {
        let bits = depth as u32 * level_bits::<H>();
        assert!(
            depth >= 1 && bits <= 32,
            "a tree of depth {depth} and arity {} does not fit u32 indices",
            H::ARITY
        );
        let mut empty = vec![H::empty_leaf()];
        for l in 0..depth as usize {
            let below = empty[l];
            empty.push(hash_children::<H>(|_| below));
        }
        MerkleTree {
            depth,
            levels: vec![Vec::new(); depth as usize + 1],
            empty,
            dirty: Vec::new(),
        }
    }

    /// The tree depth.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// One past the highest leaf index stored.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Whether no leaf was ever written.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// Leaves the tree can hold.
    pub fn capacity(&self) -> u64 {
        1u64 << (self.depth as u32 * level_bits::<H>())
    }

    /// The leaf at `index` (empty if never written).
    pub fn leaf(&self, index: u32) -> H::Digest {
        self.node(0, index as u64)
    }

    fn node(&self, level: usize, pos: u64) -> H::Digest {
        self.levels[level]
            .get(pos as usize)
            .copied()
            .unwrap_or(self.empty[level])
    }

    fn check_index(&self, index: u32) {
        assert!(
            fits::<H>(self.depth as usize, index),
            "leaf index {index} outside a depth-{} tree of arity {}",
            self.depth,
            H::ARITY
        );
    }

    /// Writes a leaf; the root reflects it after [`MerkleTree::commit`].
    pub fn set(&mut self, index: u32, leaf: H::Digest) {
        self.check_index(index);
        let i = index as usize;
        let leaves = &mut self.levels[0];
        if i >= leaves.len() {
            leaves.resize(i + 1, self.empty[0]);
        }
        leaves[i] = leaf;
        self.dirty.push(index);
    }

    /// Rehashes every path touched since the last commit, each shared node once.
    pub fn commit(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let a = H::ARITY;
        let mut positions: Vec<u64> = self.dirty.drain(..).map(u64::from).collect();
        positions.sort_unstable();
        positions.dedup();
        for level in 0..self.depth as usize {
            let mut parents: Vec<u64> = positions.iter().map(|p| p / a).collect();
            parents.dedup();
            let needed = parents.last().map_or(0, |p| *p as usize + 1);
            if self.levels[level + 1].len() < needed {
                let fill = self.empty[level + 1];
                self.levels[level + 1].resize(needed, fill);
            }
            for &p in &parents {
                let digest = hash_children::<H>(|k| self.node(level, a * p + k));
                self.levels[level + 1][p as usize] = digest;
            }
            positions = parents;
        }
    }

    /// The root. Panics if there are uncommitted writes (a programming error, not an input error).
    pub fn root(&self) -> H::Digest {
        assert!(self.dirty.is_empty(), "root() with uncommitted writes");
        self.node(self.depth as usize, 0)
    }

    /// The root the tree would have with `updates` applied on top, without changing the tree.
    pub fn root_with(&self, updates: &BTreeMap<u32, H::Digest>) -> H::Digest {
        assert!(self.dirty.is_empty(), "root_with() with uncommitted writes");
        if updates.is_empty() {
            return self.root();
        }
        let a = H::ARITY;
        // Sorted (position, digest) pairs, one level at a time: siblings are adjacent.
        let mut current: Vec<(u64, H::Digest)> = updates
            .iter()
            .map(|(i, d)| {
                self.check_index(*i);
                (*i as u64, *d)
            })
            .collect();
        for level in 0..self.depth as usize {
            let mut next = Vec::with_capacity(current.len() / 2 + 1);
            let mut i = 0;
            while i < current.len() {
                let parent = current[i].0 / a;
                let first = i;
                while i < current.len() && current[i].0 / a == parent {
                    i += 1;
                }
                let written = &current[first..i];
                let digest = hash_children::<H>(|k| {
                    let pos = a * parent + k;
                    written
                        .iter()
                        .find(|(p, _)| *p == pos)
                        .map_or_else(|| self.node(level, pos), |(_, d)| *d)
                });
                next.push((parent, digest));
            }
            current = next;
        }
        current[0].1
    }

    /// A membership proof for the leaf at `index` against the committed root.
    pub fn proof(&self, index: u32) -> MerkleProof<H::Digest> {
        assert!(self.dirty.is_empty(), "proof() with uncommitted writes");
        self.check_index(index);
        let siblings = siblings_of::<H>(self.depth, index, |level, pos| self.node(level, pos));
        MerkleProof { index, siblings }
    }

    /// The proof of leaf `index` and the root of the tree as it was when it held only its first
    /// `count` leaves (every later leaf empty), from the committed tree: O(depth²) hashes, however
    /// many leaves there are. For append-only trees, such as a rollup's withdrawals.
    pub fn prefix_proof(&self, index: u32, count: u64) -> (MerkleProof<H::Digest>, H::Digest) {
        assert!(
            self.dirty.is_empty(),
            "prefix_proof() with uncommitted writes"
        );
        self.check_index(index);
        let siblings = siblings_of::<H>(self.depth, index, |level, pos| {
            self.prefix_node(level, pos, count)
        });
        let root = self.prefix_node(self.depth as usize, 0, count);
        (MerkleProof { index, siblings }, root)
    }

    /// The node at `level`, `pos` of the tree restricted to its first `count` leaves. Only the one
    /// node per level that straddles `count` needs its children.
    fn prefix_node(&self, level: usize, pos: u64, count: u64) -> H::Digest {
        let shift = level as u32 * level_bits::<H>();
        let (lo, hi) = (pos << shift, (pos + 1) << shift);
        if hi <= count {
            self.node(level, pos)
        } else if lo >= count {
            self.empty[level]
        } else {
            hash_children::<H>(|k| self.prefix_node(level - 1, H::ARITY * pos + k, count))
        }
    }
}

/// The siblings of leaf `index`'s path, leaf level first, `ARITY - 1` per level in child order.
fn siblings_of<H: TreeHasher>(
    depth: u8,
    index: u32,
    mut node: impl FnMut(usize, u64) -> H::Digest,
) -> Vec<H::Digest> {
    let a = H::ARITY;
    let mut pos = index as u64;
    let mut out = Vec::with_capacity(depth as usize * (a as usize - 1));
    for level in 0..depth as usize {
        let base = pos - pos % a;
        for k in 0..a {
            if base + k != pos {
                out.push(node(level, base + k));
            }
        }
        pos /= a;
    }
    out
}

/// The path from a leaf to the root: `ARITY - 1` sibling digests per level, leaf level first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleProof<D> {
    /// The leaf index, whose digits (base `ARITY`) say the position at each level.
    pub index: u32,
    /// Sibling digests from the leaf level up, in child order within a level.
    pub siblings: Vec<D>,
}

impl<D: Copy + Eq> MerkleProof<D> {
    /// Levels of the path, if the sibling count is a whole number of levels of `H`.
    pub fn depth<H: TreeHasher<Digest = D>>(&self) -> Option<usize> {
        let per = H::ARITY as usize - 1;
        self.siblings
            .len()
            .is_multiple_of(per)
            .then_some(self.siblings.len() / per)
    }

    /// The root implied by `leaf` at this position (the siblings must be whole levels).
    pub fn root<H: TreeHasher<Digest = D>>(&self, leaf: D) -> D {
        let a = H::ARITY;
        let per = a as usize - 1;
        let mut acc = leaf;
        let mut pos = self.index as u64;
        for level in self.siblings.chunks(per) {
            let own = pos % a;
            let mut rest = level.iter();
            acc = hash_children::<H>(|k| {
                if k == own {
                    acc
                } else {
                    *rest.next().expect("a whole level of siblings")
                }
            });
            pos /= a;
        }
        acc
    }

    /// Whether `leaf` sits at this position under `root`.
    pub fn verify<H: TreeHasher<Digest = D>>(&self, root: &D, leaf: D) -> bool {
        self.depth::<H>()
            .is_some_and(|depth| fits::<H>(depth, self.index))
            && self.root::<H>(leaf) == *root
    }
}

/// The root of an ordered list of digests, in a tree just deep enough for the list (empty list: zero).
pub fn list_root(items: &[basalt_types::Hash]) -> basalt_types::Hash {
    if items.is_empty() {
        return basalt_types::Hash::ZERO;
    }
    let depth = (usize::BITS - (items.len() - 1).leading_zeros()).max(1) as u8;
    let mut tree = MerkleTree::<Blake3Hasher>::new(depth);
    for (i, item) in items.iter().enumerate() {
        tree.set(i as u32, *item);
    }
    tree.commit();
    tree.root()
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_types::{hash, Hash};
    use proptest::prelude::*;

    type Tree = MerkleTree<Blake3Hasher>;

    fn naive_root(depth: u8, leaves: &BTreeMap<u32, Hash>) -> Hash {
        let width = 1usize << depth;
        let mut level: Vec<Hash> = (0..width as u32)
            .map(|i| leaves.get(&i).copied().unwrap_or(Hash::ZERO))
            .collect();
        while level.len() > 1 {
            level = level.chunks(2).map(Blake3Hasher::node).collect();
        }
        level[0]
    }

    proptest! {
        #[test]
        fn a_prefix_proof_is_the_proof_in_the_tree_of_that_prefix(n in 1u32..80, cut in 0u32..80, at in 0u32..80) {
            let count = 1 + cut % n;
            let index = at % count;
            let mut full = Tree::new(DEFAULT_DEPTH);
            let mut prefix = Tree::new(DEFAULT_DEPTH);
            for i in 0..n {
                full.set(i, hash(&i.to_le_bytes()));
                if i < count {
                    prefix.set(i, hash(&i.to_le_bytes()));
                }
            }
            full.commit();
            prefix.commit();
            let (proof, root) = full.prefix_proof(index, count as u64);
            prop_assert_eq!(root, prefix.root());
            prop_assert_eq!(proof, prefix.proof(index));
        }

        #[test]
        fn batched_root_matches_naive_root(writes in proptest::collection::vec((0u32..64, any::<u8>()), 0..40)) {
            let mut tree = Tree::new(6);
            let mut model = BTreeMap::new();
            for (i, v) in &writes {
                tree.set(*i, hash(&[*v]));
                model.insert(*i, hash(&[*v]));
            }
            tree.commit();
            prop_assert_eq!(tree.root(), naive_root(6, &model));
        }

        #[test]
        fn root_with_equals_root_after_commit(base in proptest::collection::vec((0u32..200, any::<u8>()), 0..30),
                                             extra in proptest::collection::vec((0u32..300, any::<u8>()), 0..30)) {
            let mut tree = Tree::new(DEFAULT_DEPTH);
            for (i, v) in &base { tree.set(*i, hash(&[*v])); }
            tree.commit();
            let updates: BTreeMap<u32, Hash> = extra.iter().map(|(i, v)| (*i, hash(&[*v, 1]))).collect();
            let speculative = tree.root_with(&updates);
            let before = tree.root();
            for (i, d) in &updates { tree.set(*i, *d); }
            tree.commit();
            prop_assert_eq!(speculative, tree.root());
            prop_assert!(updates.is_empty() || before != tree.root() || extra.is_empty());
        }

        #[test]
        fn every_proof_verifies_and_a_wrong_leaf_does_not(n in 1u32..100, pick in any::<u32>()) {
            let mut tree = Tree::new(DEFAULT_DEPTH);
            for i in 0..n { tree.set(i, hash(&i.to_le_bytes())); }
            tree.commit();
            let i = pick % n;
            let proof = tree.proof(i);
            prop_assert!(proof.verify::<Blake3Hasher>(&tree.root(), hash(&i.to_le_bytes())));
            prop_assert!(!proof.verify::<Blake3Hasher>(&tree.root(), hash(b"forged")));
        }
    }

    #[test]
    fn empty_tree_root_is_the_empty_subtree_digest() {
        let a = Tree::new(DEFAULT_DEPTH);
        let mut b = Tree::new(DEFAULT_DEPTH);
        b.set(5, Hash::ZERO);
        b.commit();
        assert_eq!(a.root(), b.root());
        assert_ne!(a.root(), Hash::ZERO);
    }

    #[test]
    fn list_root_commits_to_order() {
        let (x, y) = (hash(b"x"), hash(b"y"));
        assert_ne!(list_root(&[x, y]), list_root(&[y, x]));
        assert_eq!(list_root(&[]), Hash::ZERO);
        assert_ne!(list_root(&[x]), Hash::ZERO);
    }
}
