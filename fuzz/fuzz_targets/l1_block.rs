//! An L1 block from untrusted bytes (p2p proposals, backfill): decoding never panics, an accepted
//! encoding is canonical, and hashing it never panics.
#![no_main]

use basalt_l1::Block;
use basalt_types::Encode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::decode_untrusted(data) {
        assert_eq!(block.to_bytes(), data, "accepted a non-canonical encoding");
        let _ = block.hash();
    }
});
