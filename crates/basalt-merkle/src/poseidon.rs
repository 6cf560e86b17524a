//! The tree hasher of ZK rollups: 4-ary Poseidon over BN254 (circomlib's `Poseidon(4)`), so a path
//! costs the circuit one 4-input hash per two index bits instead of two 2-input hashes.

use crate::tree::TreeHasher;
use basalt_types::zk::{poseidon, Felt};

/// 4-ary Poseidon: a node is Poseidon(c0, c1, c2, c3); an empty leaf is zero.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoseidonHasher;

impl TreeHasher for PoseidonHasher {
    type Digest = Felt;
    const ARITY: u64 = 4;

    fn empty_leaf() -> Felt {
        Felt::ZERO
    }

    fn node(children: &[Felt]) -> Felt {
        poseidon(children)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MerkleTree, PartialTree};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn naive_root(depth: u8, leaves: &BTreeMap<u32, Felt>) -> Felt {
        let mut level: Vec<Felt> = (0..4u32.pow(depth as u32))
            .map(|i| leaves.get(&i).copied().unwrap_or(Felt::ZERO))
            .collect();
        while level.len() > 1 {
            level = level.chunks(4).map(PoseidonHasher::node).collect();
        }
        level[0]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn a_four_ary_tree_commits_proves_and_updates_like_the_naive_one(
            writes in proptest::collection::btree_map(0u32..64, any::<u64>(), 0..12),
            extra in proptest::collection::btree_map(0u32..64, any::<u64>(), 1..4),
            pick in any::<u32>(),
        ) {
            let leaves: BTreeMap<u32, Felt> =
                writes.iter().map(|(i, v)| (*i, Felt::from_u128(*v as u128 + 1))).collect();
            let mut tree = MerkleTree::<PoseidonHasher>::new(3);
            for (i, v) in &leaves {
                tree.set(*i, *v);
            }
            tree.commit();
            prop_assert_eq!(tree.root(), naive_root(3, &leaves));
            let i = pick % 64;
            let proof = tree.proof(i);
            prop_assert_eq!(proof.siblings.len(), 9);
            prop_assert!(proof.verify::<PoseidonHasher>(&tree.root(), tree.leaf(i)));
            prop_assert!(!proof.verify::<PoseidonHasher>(&tree.root(), Felt::from_u128(u128::MAX)));

            let updates: BTreeMap<u32, Felt> =
                extra.iter().map(|(i, v)| (*i, Felt::from_u128(*v as u128 + 7))).collect();
            let mut partial = PartialTree::<PoseidonHasher>::new(3, tree.root());
            for i in updates.keys() {
                partial.add_proof(tree.leaf(*i), &tree.proof(*i)).unwrap();
            }
            let speculative = tree.root_with(&updates);
            for (i, v) in &updates {
                partial.set(*i, *v).unwrap();
                tree.set(*i, *v);
            }
            tree.commit();
            prop_assert_eq!(speculative, tree.root());
            prop_assert_eq!(partial.root(), tree.root());
            let mut all = leaves.clone();
            all.extend(updates);
            prop_assert_eq!(tree.root(), naive_root(3, &all));
        }

        #[test]
        fn a_four_ary_prefix_proof_is_the_proof_in_the_prefix_tree(n in 1u32..40, cut in 0u32..40, at in 0u32..40) {
            let count = 1 + cut % n;
            let index = at % count;
            let mut full = MerkleTree::<PoseidonHasher>::new(3);
            let mut prefix = MerkleTree::<PoseidonHasher>::new(3);
            for i in 0..n {
                full.set(i, Felt::from_u128(i as u128 + 1));
                if i < count {
                    prefix.set(i, Felt::from_u128(i as u128 + 1));
                }
            }
            full.commit();
            prefix.commit();
            let (proof, root) = full.prefix_proof(index, count as u64);
            prop_assert_eq!(root, prefix.root());
            prop_assert_eq!(proof, prefix.proof(index));
        }
    }

    #[test]
    fn a_proof_of_the_wrong_shape_or_index_does_not_verify() {
        let mut tree = MerkleTree::<PoseidonHasher>::new(2);
        tree.set(5, Felt::from_u128(9));
        tree.commit();
        assert_eq!(tree.capacity(), 16);
        let mut proof = tree.proof(5);
        assert!(proof.verify::<PoseidonHasher>(&tree.root(), Felt::from_u128(9)));
        proof.siblings.pop();
        assert!(!proof.verify::<PoseidonHasher>(&tree.root(), Felt::from_u128(9)));
        let mut outside = tree.proof(5);
        outside.index = 21; // the same digits at each level, but past the tree's 16 leaves
        assert!(!outside.verify::<PoseidonHasher>(&tree.root(), Felt::from_u128(9)));
    }
}
