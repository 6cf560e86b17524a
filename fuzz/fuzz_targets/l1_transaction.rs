//! A signed L1 transaction from untrusted bytes (RPC, gossip): decoding never panics, an accepted
//! encoding is canonical, and signature checking never panics.
#![no_main]

use basalt_l1::SignedTransaction;
use basalt_types::Encode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = SignedTransaction::decode_untrusted(data) {
        assert_eq!(tx.to_bytes(), data, "accepted a non-canonical encoding");
        let _ = tx.verify();
    }
});
