//! The optimistic escape rows of `basalt bench gas`: transactions forced in through the L1, each
//! a distinct transfer whose ed25519 signature the L1 checks before it queues it (the ZK rows,
//! with EdDSA-Poseidon checks and exits from a frozen rollup, are in `bench_gas_zk.rs`).

use super::{Meter, Row, SENDER};
use anyhow::Result;
use basalt_l1::{Action, StateRead};
use basalt_l2::{L2Tx, Optimistic};
use basalt_types::{dev_keypair, Encode, Signature};

/// Forced transactions per block.
const FORCED: usize = 1_500;

/// Blocks of `FORCED` forced transfers on an optimistic rollup of their own (so that no other
/// row's batches range over them), each signed by its own key.
pub(super) fn force_include(m: &mut Meter, n: usize) -> Result<Row> {
    let rollup = m.l1.state.rollup_count() as u32;
    let params = super::rollup("bench-f", 1_000);
    m.l1.block(vec![(SENDER, Action::RegisterRollup { params })])?;
    m.row(
        "force include",
        "1,500 transfers, each a distinct key",
        n,
        |i, _| {
            (0..FORCED)
                .map(|j| {
                    let k = dev_keypair("basalt-bench-gas/forced", (i * FORCED + j) as u64);
                    let tx = L2Tx::<Optimistic>::Transfer {
                        from: 1,
                        to: 0,
                        amount: 1,
                        fee: 0,
                        nonce: 0,
                        signature: Signature([0; 64]),
                    }
                    .signed(rollup, &k);
                    let action = Action::ForceInclude {
                        rollup,
                        key: k.public(),
                        tx: tx.to_bytes(),
                    };
                    (SENDER, action)
                })
                .collect()
        },
    )
}
