//! Split by signature: a leader includes a signature whose verdict depends on the verification
//! formula or on which other signatures share its batch. Before the fix, admission used dalek's
//! cofactorless `verify_strict` and blocks used its batch check with coefficients derived from the
//! whole batch, falling back to strict only on failure; a validator that had some of the block's
//! transactions in its mempool batched a different subset, so a torsion signature could pass for
//! one validator and fail for another. Now one rule (ZIP-215) decides every check.

use crate::common::*;
use basalt_l1::{verify_all, Action, SignedTransaction};
use basalt_types::testing::{
    bytes32, bytes64, TorsionSigner, SMALL_ORDER_ENCODINGS, SPECCHECK_VECTORS,
};
use basalt_types::{dev_keypair, verify_batch, verify_each, PublicKey, Signature};

type Item = (PublicKey, Vec<u8>, Signature);

/// Every edge case we know: the ZIP-215 small-order set, the speccheck vectors, torsion-key
/// signatures, honest signatures and broken ones.
fn edge_cases() -> Vec<Item> {
    let mut items = Vec::new();
    let msg = b"Zcash".to_vec();
    for a in SMALL_ORDER_ENCODINGS {
        for r in SMALL_ORDER_ENCODINGS {
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&bytes32(r));
            items.push((PublicKey(bytes32(a)), msg.clone(), Signature(sig)));
        }
    }
    for (m, k, s) in SPECCHECK_VECTORS {
        items.push((
            PublicKey(bytes32(k)),
            hex::decode(m).unwrap(),
            Signature(bytes64(s)),
        ));
    }
    for i in 0..8u8 {
        let signer = TorsionSigner::new(&[i]);
        let m = vec![i; 40];
        items.push((signer.public(), m.clone(), signer.sign(&m)));
    }
    for i in 0..4u64 {
        let kp = dev_keypair("adversarial", i);
        let m = i.to_le_bytes().to_vec();
        let mut sig = kp.sign(&m);
        items.push((kp.public(), m.clone(), sig));
        sig.0[40] ^= 1;
        items.push((kp.public(), m, sig));
    }
    items
}

fn alone(items: &[Item]) -> Vec<bool> {
    items
        .iter()
        .map(|(k, m, s)| k.verify(m, s).is_ok())
        .collect()
}

#[test]
fn torsion_signatures_verify_under_the_cofactored_rule_that_a_cofactorless_check_rejects() {
    // The crafted signatures are really on the fault line between the two formulas.
    for i in 0..8u8 {
        let signer = TorsionSigner::new(&[i]);
        let sig = signer.sign(b"split me");
        assert!(signer.public().verify(b"split me", &sig).is_ok());
        let dalek = ed25519_dalek::VerifyingKey::from_bytes(&signer.public().0).unwrap();
        assert!(dalek
            .verify_strict(b"split me", &ed25519_dalek::Signature::from_bytes(&sig.0))
            .is_err());
    }
    // Every small-order (A, R) pair with s = 0 verifies under ZIP-215, whatever the encoding.
    let cases = edge_cases();
    assert!(alone(&cases[..196]).iter().all(|ok| *ok));
}

#[test]
fn every_subset_of_a_batch_of_torsion_signatures_gets_the_verdict_each_gets_alone() {
    let cases = edge_cases();
    let verdicts = alone(&cases);
    // Each case in a batch of one, and the whole set in one batch with its per-item answers.
    for (item, ok) in cases.iter().zip(&verdicts) {
        assert_eq!(
            verify_batch(std::slice::from_ref(item)).is_ok(),
            *ok,
            "{item:?}"
        );
    }
    let each: Vec<bool> = verify_each(&cases).iter().map(|r| r.is_ok()).collect();
    assert_eq!(each, verdicts);
    // Every subset of twelve cases drawn from each kind: small-order, mixed, torsion-key, honest
    // and broken.
    let pick: Vec<Item> = [0, 37, 150, 195, 196, 199, 203, 206, 207, 210, 214, 215]
        .iter()
        .map(|&i| cases[i].clone())
        .collect();
    let pick_ok = alone(&pick);
    assert!(pick_ok.iter().any(|ok| !ok) && pick_ok.iter().filter(|ok| **ok).count() >= 6);
    for mask in 1u32..(1 << pick.len()) {
        let subset: Vec<Item> = (0..pick.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| pick[i].clone())
            .collect();
        let expected: Vec<bool> = (0..pick.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| pick_ok[i])
            .collect();
        assert_eq!(
            verify_batch(&subset).is_ok(),
            expected.iter().all(|ok| *ok),
            "subset {mask:#b}"
        );
        let got: Vec<bool> = verify_each(&subset).iter().map(|r| r.is_ok()).collect();
        assert_eq!(got, expected, "subset {mask:#b}");
    }
}

#[test]
fn a_block_of_torsion_key_transactions_verifies_the_same_whichever_of_them_a_validator_batches() {
    // A leader's block mixes honest transfers with transactions from torsion keys. Validators that
    // already verified some at admission batch only the rest: every split must agree.
    let mut txs: Vec<SignedTransaction> = Vec::new();
    for i in 0..6u8 {
        let signer = TorsionSigner::new(&[b't', i]);
        let mut t = tx(
            &key(0),
            0,
            Action::Transfer {
                to: key(1).public(),
                amount: 1,
            },
        );
        t.signer = signer.public();
        t.signature = signer.sign(&t.signing_hash().0);
        txs.push(t);
        txs.push(transfer(&key(i as u64 % 5), i as u64, key(7).public(), 1));
    }
    for t in &txs {
        assert!(
            t.clone().verify().is_ok(),
            "each is valid alone under the one rule"
        );
    }
    for mask in 1u32..(1 << txs.len()) {
        let subset: Vec<SignedTransaction> = (0..txs.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| txs[i].clone())
            .collect();
        assert!(verify_all(subset).is_ok(), "subset {mask:#b}");
    }
    // A bad signature anywhere is found at its own position, whatever surrounds it.
    let mut broken = txs.clone();
    broken[5].signature.0[33] ^= 1;
    assert_eq!(verify_all(broken).unwrap_err().0, 5);
}

#[test]
fn the_old_pair_of_rules_gave_torsion_signatures_a_verdict_that_depended_on_the_batch() {
    // The attack is real: under dalek's cofactorless batch check with its strict fallback (the L1
    // rule before this fix), the same torsion-key transaction passed in some batches and failed in
    // others, while checked alone it always failed.
    let old_verdict = |items: &[(PublicKey, Vec<u8>, Signature)]| {
        let keys: Vec<_> = items
            .iter()
            .map(|(k, _, _)| ed25519_dalek::VerifyingKey::from_bytes(&k.0).unwrap())
            .collect();
        let msgs: Vec<&[u8]> = items.iter().map(|(_, m, _)| m.as_slice()).collect();
        let sigs: Vec<_> = items
            .iter()
            .map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.0))
            .collect();
        ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok()
            || keys
                .iter()
                .zip(&msgs)
                .zip(&sigs)
                .all(|((k, m), s)| k.verify_strict(m, s).is_ok())
    };
    let signer = TorsionSigner::new(b"grind");
    let crafted = (signer.public(), b"pay me".to_vec(), signer.sign(b"pay me"));
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..32u64 {
        // The leader grinds the companions until the batch verdict flips.
        let kp = dev_keypair("companion", i);
        let m = i.to_le_bytes().to_vec();
        let companion = (kp.public(), m.clone(), kp.sign(&m));
        match old_verdict(&[crafted.clone(), companion]) {
            true => accepted += 1,
            false => refused += 1,
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
    // The one rule accepts it in every batch.
    assert!(crafted.0.verify(&crafted.1, &crafted.2).is_ok());
}
