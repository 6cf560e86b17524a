//! Paths of the 4-ary Poseidon trees (`basalt_merkle::PoseidonHasher`) as constraints: the root a
//! leaf implies, and an update that checks the old leaf under the old root and gives the new root
//! from the same siblings. A level costs one Poseidon(4) and six constraints of placement.

use super::{poseidon_var, Bit, FrVar};
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::SynthesisError;

/// One level of a path: the position's two bits (little-endian) and the three siblings, in child
/// order without the path's own child.
#[derive(Clone, Debug)]
pub struct PathLevel {
    /// Position bits: position = bits[0] + 2·bits[1].
    pub bits: [Bit; 2],
    /// The other three children, in order.
    pub siblings: [FrVar; 3],
}

/// Which of the four children the path takes: one product of the bits, the rest linear.
struct Place {
    e0: FrVar,
    e1: FrVar,
    e2: FrVar,
    e3: FrVar,
}

impl Place {
    fn new(bits: &[Bit; 2]) -> Place {
        let b0 = FrVar::from(bits[0].clone());
        let b1 = FrVar::from(bits[1].clone());
        let e3 = &b0 * &b1;
        Place {
            e0: FrVar::one() - &b0 - &b1 + &e3,
            e1: b0 - &e3,
            e2: b1 - &e3,
            e3,
        }
    }

    /// The node above `cur` at this position among `s`.
    fn parent(&self, cur: &FrVar, s: &[FrVar; 3]) -> Result<FrVar, SynthesisError> {
        let c0 = &s[0] + &self.e0 * (cur - &s[0]);
        let c1 = &s[1] + &self.e0 * (&s[0] - &s[1]) + &self.e1 * (cur - &s[1]);
        let c2 = &s[2] + (&self.e0 + &self.e1) * (&s[1] - &s[2]) + &self.e2 * (cur - &s[2]);
        let c3 = &s[2] + &self.e3 * (cur - &s[2]);
        poseidon_var(&[c0, c1, c2, c3])
    }
}

/// The root implied by `leaf` along `path` (leaf level first).
pub fn root_from_path(leaf: &FrVar, path: &[PathLevel]) -> Result<FrVar, SynthesisError> {
    let mut cur = leaf.clone();
    for level in path {
        cur = Place::new(&level.bits).parent(&cur, &level.siblings)?;
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
        let place = Place::new(&level.bits);
        old = place.parent(&old, &level.siblings)?;
        new = place.parent(&new, &level.siblings)?;
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
    fn a_level_of_an_update_costs_two_hashes_and_thirteen_placements() {
        let mut tree = MerkleTree::<PoseidonHasher>::new(DEPTH);
        tree.commit();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let path = witness_path(&cs, &tree.proof(5));
        let leaf = FrVar::new_witness(cs.clone(), || Ok(Fr::from(1u8))).unwrap();
        let before = cs.num_constraints();
        let _roots = update_roots(&leaf, &leaf, &path).unwrap();
        let per_level = (cs.num_constraints() - before) / DEPTH as usize;
        assert_eq!(per_level, 2 * 297 + 13);
    }
}
