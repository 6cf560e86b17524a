mod common;

use basalt_l1::*;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Transfer { from: u64, to: u64, amount: u128 },
    Stake { from: u64, amount: u128 },
    Unstake { from: u64, amount: u128 },
    Blob { from: u64, len: usize },
    Replay,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..7, 0u64..9, 0u128..2_000_000_000).prop_map(|(from, to, amount)| Op::Transfer { from, to, amount }),
        1 => (0u64..5, 0u128..5_000).prop_map(|(from, amount)| Op::Stake { from, amount }),
        1 => (0u64..5, 0u128..5_000).prop_map(|(from, amount)| Op::Unstake { from, amount }),
        1 => (0u64..5, 0usize..3000).prop_map(|(from, len)| Op::Blob { from, len }),
        1 => Just(Op::Replay),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random blocks of random transactions: supply is conserved after every block, every block the
    /// builder seals verifies, no transaction is included twice, and nonces only grow by inclusion.
    #[test]
    fn supply_is_conserved_and_nothing_applies_twice(blocks in proptest::collection::vec(proptest::collection::vec(op(), 0..12), 1..10)) {
        let (mut s, _) = L1State::genesis(&genesis()).unwrap();
        let mut included = std::collections::HashSet::new();
        let mut last: Option<SignedTransaction> = None;
        for ops in blocks {
            let mut nonces = std::collections::HashMap::new();
            let mut txs = Vec::new();
            for op in ops {
                let (from, action) = match op {
                    Op::Transfer { from, to, amount } => (from, Action::Transfer { to: key(to).public(), amount }),
                    Op::Stake { from, amount } => (from, Action::Stake { amount }),
                    Op::Unstake { from, amount } => (from, Action::Unstake { amount }),
                    Op::Blob { from, len } => (from, Action::PostBlob { data: vec![from as u8; len], max_fee_per_blob_byte: 50 }),
                    Op::Replay => {
                        if let Some(t) = &last { txs.push(t.clone()); }
                        continue;
                    }
                };
                let k = key(from);
                let n = nonces.entry(from).or_insert_with(|| s.account(&k.public()).map_or(0, |a| a.nonce));
                txs.push(tx(&k, *n, action));
                *n += 1;
            }
            let nonce_sum_before: u64 = (0..9).map(|i| s.account(&key(i).public()).map_or(0, |a| a.nonce)).sum();
            let (exec, _) = step(&mut s, txs);
            let nonce_sum_after: u64 = (0..9).map(|i| s.account(&key(i).public()).map_or(0, |a| a.nonce)).sum();
            prop_assert_eq!(nonce_sum_after - nonce_sum_before, exec.block.txs.len() as u64);
            for t in &exec.block.txs {
                prop_assert!(included.insert(t.hash()), "transaction included twice");
                last = Some(t.clone());
            }
        }
    }
}
