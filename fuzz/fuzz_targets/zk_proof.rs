//! A validity proof from untrusted bytes (a `ProveBatch` action): verification returns an error or
//! success, never panics, whatever the proof bytes and public inputs.
#![no_main]

use basalt_types::zk::Felt;
use basalt_zk::Verifier;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A verifying key of a small circuit (two public inputs), set up once.
fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let keys = basalt_zk::dev_setup(basalt_zk::demo::Preimage::blank()).expect("setup");
        Verifier::new(&keys.verifying)
    })
}

fuzz_target!(|data: &[u8]| {
    let (inputs, proof) = data.split_at(data.len().min(64));
    let inputs: Vec<_> = inputs
        .chunks(32)
        .filter_map(|c| c.try_into().ok().and_then(|b| Felt::from_be_bytes(&b)))
        .map(|f| f.0)
        .collect();
    let _ = verifier().verify(&inputs, proof);
});
