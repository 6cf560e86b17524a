//! Paths of the 4-ary Poseidon trees (`basalt_merkle::PoseidonHasher`) as constraints: the root a
//! leaf implies, and an update that checks the old leaf under the old root and gives the new root
//! from the same siblings. A level costs one Poseidon(4) and three constraints of placement.

use super::{poseidon_var, Bit, FrVar};
use ark_relations::gr1cs::SynthesisError;
use basalt_types::zk::Felt;

/// One level of a path: the position's two bits (little-endian) and the three siblings in the
/// circuit's order ([`circuit_siblings`]): the one sharing the path's pair, then the other pair.
#[derive(Clone, Debug)]
pub struct PathLevel {
    /// Position bits: position = bits[0] + 2·bits[1].
    pub bits: [Bit; 2],
    /// The pair sibling, then the other pair in order.
    pub siblings: [FrVar; 3],
}

/// A native proof level's siblings (child order without the path's own child) in the circuit's
/// order: the child beside the path's in its pair (children 0-1 or 2-3), then the other pair.
pub fn circuit_siblings(position: u32, siblings: &[Felt]) -> [Felt; 3] {
    if position < 2 {
        [siblings[0], siblings[1], siblings[2]]
    } else {
        [siblings[2], siblings[0], siblings[1]]
    }
}

/// The node above `cur` at this level: order the pair by the low bit, then the two pairs by the
/// high bit (three constraints, then the hash).
fn parent(level: &PathLevel, cur: &FrVar) -> Result<FrVar, SynthesisError> {
    let [b0, b1] = &level.bits;
    let [pair, other0, other1] = &level.siblings;
    let t = FrVar::from(b0.clone()) * (pair - cur);
    let (u0, u1) = (cur + &t, pair - &t);
    let high = FrVar::from(b1.clone());
    let t0 = &high * (other0 - &u0);
    let t1 = &high * (other1 - &u1);
    poseidon_var(&[&u0 + &t0, &u1 + &t1, other0 - &t0, other1 - &t1])
}

/// The root implied by `leaf` along `path` (leaf level first).
pub fn root_from_path(leaf: &FrVar, path: &[PathLevel]) -> Result<FrVar, SynthesisError> {
    let mut cur = leaf.clone();
    for level in path {
        cur = parent(level, &cur)?;
    }
    Ok(cur)
}

/// The old and new roots of one leaf's update along `path`: the caller enforces the old root.
pub fn update_roots(
    old_leaf: &FrVar,
    new_leaf: &FrVar,
    path: &[PathLevel],
) -> Result<(FrVar, FrVar), SynthesisError> {
    let (mut old, mut new) = (old_leaf.clone(), new_leaf.clone());
    for level in path {
        old = parent(level, &old)?;
        new = parent(level, &new)?;
    }
    Ok((old, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_r1cs_std::{alloc::AllocVar, boolean::Boolean, eq::EqGadget, GR1CSVar};
    use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef};
    use basalt_merkle::{MerkleProof, MerkleTree, PoseidonHasher};
    use basalt_types::zk::{Felt, Fr};
    use proptest::prelude::*;

    const DEPTH: u8 = 4;

    fn witness_path(cs: &ConstraintSystemRef<Fr>, proof: &MerkleProof<Felt>) -> Vec<PathLevel> {
        let w = |f: Felt| FrVar::new_witness(cs.clone(), || Ok(f.0)).unwrap();
        proof
            .siblings
            .chunks(3)
            .enumerate()
            .map(|(level, s)| {
                let digit = (proof.index >> (2 * level)) & 3;
                let bit =
                    |b: u32| Boolean::new_witness(cs.clone(), || Ok(digit >> b & 1 == 1)).unwrap();
                let s = circuit_siblings(digit, s);
                PathLevel {
                    bits: [bit(0), bit(1)],
                    siblings: [w(s[0]), w(s[1]), w(s[2])],
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn a_path_update_in_the_circuit_gives_the_native_roots(
            leaves in proptest::collection::btree_map(0u32..256, 1u64.., 0..10),
            index in 0u32..256,
            value in any::<u64>(),
        ) {
            let mut tree = MerkleTree::<PoseidonHasher>::new(DEPTH);
            for (i, v) in &leaves {
                tree.set(*i, Felt::from_u128(*v as u128));
            }
            tree.commit();
            let (old_root, old_leaf) = (tree.root(), tree.leaf(index));
            let proof = tree.proof(index);
            let new_leaf = Felt::from_u128(value as u128);
            tree.set(index, new_leaf);
            tree.commit();

            let cs = ConstraintSystem::<Fr>::new_ref();
            let path = witness_path(&cs, &proof);
            let old = FrVar::new_witness(cs.clone(), || Ok(old_leaf.0)).unwrap();
            let new = FrVar::new_witness(cs.clone(), || Ok(new_leaf.0)).unwrap();
            let (o, n) = update_roots(&old, &new, &path).unwrap();
            prop_assert_eq!(Felt(o.value().unwrap()), old_root);
            prop_assert_eq!(Felt(n.value().unwrap()), tree.root());
            prop_assert_eq!(Felt(root_from_path(&new, &path).unwrap().value().unwrap()), tree.root());
            o.enforce_equal(&FrVar::new_input(cs.clone(), || Ok(old_root.0)).unwrap()).unwrap();
            prop_assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn a_forged_leaf_or_position_does_not_reach_the_root() {
        let mut tree = MerkleTree::<PoseidonHasher>::new(DEPTH);
        for i in 0..40u32 {
            tree.set(i, Felt::from_u128(i as u128 + 1));
        }
        tree.commit();
        let proof = tree.proof(9);
        for (leaf, index) in [(Felt::from_u128(99), 9), (Felt::from_u128(10), 10)] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let mut moved = proof.clone();
            moved.index = index;
            let path = witness_path(&cs, &moved);
            let leaf = FrVar::new_witness(cs.clone(), || Ok(leaf.0)).unwrap();
            let root = root_from_path(&leaf, &path).unwrap();
            root.enforce_equal(&FrVar::new_input(cs.clone(), || Ok(tree.root().0)).unwrap())
                .unwrap();
            assert!(!cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn a_level_of_an_update_costs_two_hashes_and_six_placements() {
        let mut tree = MerkleTree::<PoseidonHasher>::new(DEPTH);
        tree.commit();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let path = witness_path(&cs, &tree.proof(5));
        let leaf = FrVar::new_witness(cs.clone(), || Ok(Fr::from(1u8))).unwrap();
        let before = cs.num_constraints();
        let _roots = update_roots(&leaf, &leaf, &path).unwrap();
        let per_level = (cs.num_constraints() - before) / DEPTH as usize;
        assert_eq!(per_level, 2 * 297 + 6);
    }
}
