//! ZK rollup inputs from untrusted bytes: BabyJubJub keys and signatures (L1 deposits, RPC) and
//! posted ZK batches (L1 blobs). Decoding never panics, and an accepted key or signature encoding
//! is canonical; a decoded batch re-encodes to the same transactions.
#![no_main]

use basalt_l2::{decode_zk_batch, encode_zk_batch, Effort};
use basalt_types::zk::{BabyPublicKey, BabySignature, Felt};
use basalt_types::{Decode, Encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = BabyPublicKey::from_bytes(data) {
        assert_eq!(key.to_bytes(), data, "accepted a non-canonical key");
    }
    if let Ok(sig) = BabySignature::from_bytes(data) {
        assert_eq!(sig.to_bytes(), data, "accepted a non-canonical signature");
        if data.len() == 64 {
            if let Ok(key) = BabyPublicKey::from_bytes(&data[..32]) {
                let _ = key.verify(&Felt::ZERO, &sig);
            }
        }
    }
    if let Ok(txs) = decode_zk_batch(data) {
        let again = decode_zk_batch(&encode_zk_batch(&txs, Effort::Fast)).expect("re-encodes");
        assert_eq!(again, txs);
    }
});
