//! A genesis file: parsing and building the genesis state either succeed or return an error,
//! never panic (a user may hand any file to `basalt node`).
#![no_main]

use basalt_l1::{Genesis, L1State};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(genesis) = Genesis::from_json(text) {
        let _ = L1State::genesis(&genesis);
    }
});
