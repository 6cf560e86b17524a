//! Parallel execution gives the block, the state diff and the verdict of sequential execution,
//! whatever the thread count: for disjoint and contended transfers, new accounts, transactions
//! that fail, blocks over their gas limit, and blocks with actions that run sequentially.

use basalt_l1::*;
use basalt_types::{dev_keypair, Keypair, PublicKey};
use proptest::prelude::*;

const CHAIN: u64 = 31337;
const FUNDED: u64 = 40;
/// Transfers a block may hold.
const GAS_LIMIT_TRANSFERS: u64 = 250;

fn key(n: u64) -> Keypair {
    dev_keypair("l1-parallel-test", n)
}

fn genesis() -> Genesis {
    let params = Params {
        block_gas_limit: GAS_LIMIT_TRANSFERS * TRANSFER_GAS,
        block_gas_target: GAS_LIMIT_TRANSFERS * TRANSFER_GAS / 2,
        ..Params::default()
    };
    Genesis {
        chain_id: CHAIN,
        timestamp_ms: 1_000,
        params,
        accounts: (0..FUNDED)
            .map(|i| GenesisAccount {
                key: key(i).public(),
                balance: 1_000 * ONE_TOKEN,
            })
            .collect(),
        validators: vec![GenesisValidator {
            key: key(1_000).public(),
            stake: Params::default().min_stake,
        }],
    }
}

/// One planned transaction: sender, recipient (at or past `FUNDED`: an account the block
/// creates), amount in tokens, and whether it repeats the sender's last nonce (a stale one) or
/// stakes instead.
#[derive(Debug, Clone)]
struct Planned {
    from: u64,
    to: u64,
    tokens: u128,
    stale: bool,
    stake: bool,
}

/// How a block's transactions touch accounts.
#[derive(Debug, Clone, Copy)]
enum Mix {
    /// Ten clusters of four funded senders, each paying only within its cluster (its four
    /// senders and two accounts the block creates): ten groups that run apart.
    Disjoint,
    /// Four senders paying each other and six new accounts: mostly one group.
    Contended,
    /// Disjoint, with an occasional stake, which makes the block run sequentially.
    WithStakes,
}

fn planned(mix: Mix) -> impl Strategy<Value = Planned> {
    let stake_odds = match mix {
        Mix::WithStakes => 0.01,
        _ => 0.0,
    };
    (
        0..FUNDED,
        0u64..6,
        0u128..2_000,
        proptest::bool::weighted(0.02),
        proptest::bool::weighted(stake_odds),
    )
        .prop_map(move |(from, r, tokens, stale, stake)| {
            let (from, to) = match mix {
                Mix::Contended => (from % 4, if r < 4 { r } else { FUNDED + r }),
                _ => {
                    let cluster = from / 4;
                    let to = match r {
                        0..4 => cluster * 4 + r,
                        _ => FUNDED + cluster * 2 + (r - 4),
                    };
                    (from, to)
                }
            };
            Planned {
                from,
                to,
                tokens,
                stale,
                stake,
            }
        })
}

/// The planned transactions signed, with each sender's nonces in order.
fn sign(plan: &[Planned], base_fee: u64) -> Vec<SignedTransaction> {
    let mut nonces = vec![0u64; FUNDED as usize];
    plan.iter()
        .map(|p| {
            let n = &mut nonces[p.from as usize];
            let nonce = match (p.stale, *n) {
                (true, last) if last > 0 => last - 1,
                _ => {
                    *n += 1;
                    *n - 1
                }
            };
            let action = match p.stake {
                true => Action::Stake {
                    amount: Params::default().min_stake,
                },
                false => Action::Transfer {
                    to: key(p.to).public(),
                    amount: p.tokens * ONE_TOKEN / 10,
                },
            };
            Transaction {
                chain_id: CHAIN,
                nonce,
                max_fee_per_gas: 4 * base_fee,
                priority_fee_per_gas: 1,
                gas_limit: action.intrinsic_gas(),
                action,
            }
            .sign(&key(p.from))
        })
        .collect()
}

/// Sequential and parallel verdicts on `block` agree: the same block and diff, or a failure at
/// the same transaction.
fn agree(state: &L1State, block: &Block) -> Result<(), TestCaseError> {
    let view = StateView::new(state, vec![]);
    let sequential = verify_block(&view, block);
    for threads in [2, 3, 4] {
        let parallel = verify_block_threads(&view, block, threads);
        match (&sequential, &parallel) {
            (Ok(s), Ok(p)) => {
                prop_assert_eq!(&s.block, &p.block);
                prop_assert_eq!(&s.diff.accounts, &p.diff.accounts);
                prop_assert_eq!(&s.diff.new_accounts, &p.diff.new_accounts);
                prop_assert_eq!(&s.diff.receipts, &p.diff.receipts);
                prop_assert_eq!(s.diff.burned, p.diff.burned);
            }
            (
                Err(BlockError::InvalidTx { index: a, .. }),
                Err(BlockError::InvalidTx { index: b, .. }),
            ) => prop_assert_eq!(a, b, "threads {}", threads),
            (s, p) => prop_assert!(false, "sequential {:?} but {} threads {:?}", s, threads, p),
        }
    }
    Ok(())
}

/// The genesis state, the block a proposer builds from `plan` (what fails left out), and the
/// block as sent (every planned transaction, under the built header).
fn built_and_sent(plan: &[Planned]) -> (L1State, Block, Block) {
    let (state, _) = L1State::genesis(&genesis()).unwrap();
    let view = StateView::new(&state, vec![]);
    let txs = sign(plan, view.head().base_fee_per_gas);
    let mut b = BlockBuilder::new(&view);
    for t in &txs {
        let _ = b.apply(&t.clone().verify().unwrap());
    }
    let proposer = view.committee()[0];
    let built = b.finish(view.head().timestamp_ms + 100, proposer).unwrap();
    drop(view);
    let sent = Block {
        header: built.block.header.clone(),
        txs,
    };
    (state, built.block, sent)
}

/// Sequential and parallel execution agree on the built block and on the block as sent.
fn check(plan: &[Planned]) -> Result<(), TestCaseError> {
    let (state, built, sent) = built_and_sent(plan);
    agree(&state, &built)?;
    agree(&state, &sent)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn disjoint_transfers_execute_in_parallel_as_in_sequence(
        plan in proptest::collection::vec(planned(Mix::Disjoint), 150..300)
    ) {
        check(&plan)?;
    }

    #[test]
    fn contended_transfers_execute_in_parallel_as_in_sequence(
        plan in proptest::collection::vec(planned(Mix::Contended), 150..300)
    ) {
        check(&plan)?;
    }

    #[test]
    fn blocks_with_stakes_execute_as_in_sequence(
        plan in proptest::collection::vec(planned(Mix::WithStakes), 150..300)
    ) {
        check(&plan)?;
    }
}

#[test]
fn a_block_over_its_gas_limit_fails_at_the_same_transaction_in_parallel() {
    let plan: Vec<Planned> = (0..GAS_LIMIT_TRANSFERS + 30)
        .map(|i| Planned {
            from: i % FUNDED,
            to: (i + 1) % FUNDED,
            tokens: 1,
            stale: false,
            stake: false,
        })
        .collect();
    let (state, built, sent) = built_and_sent(&plan);
    assert_eq!(built.txs.len() as u64, GAS_LIMIT_TRANSFERS);
    let view = StateView::new(&state, vec![]);
    match verify_block_threads(&view, &sent, 2) {
        Err(BlockError::InvalidTx {
            index,
            err: TxError::BlockGasFull,
        }) => assert_eq!(index as u64, GAS_LIMIT_TRANSFERS),
        other => panic!("expected the gas limit to refuse transaction 250, got {other:?}"),
    }
    drop(view);
    check(&plan).unwrap();
}

#[test]
fn the_accounts_a_block_creates_are_numbered_in_block_order_whatever_the_threads() {
    // Senders in two disjoint groups each create accounts, interleaved in block order.
    let plan: Vec<Planned> = (0..200)
        .map(|i| Planned {
            from: i % 2,
            to: FUNDED + (i % 40),
            tokens: 1,
            stale: false,
            stake: false,
        })
        .collect();
    check(&plan).unwrap();
    let (state, built, _) = built_and_sent(&plan);
    let view = StateView::new(&state, vec![]);
    let parallel = verify_block_threads(&view, &built, 2).unwrap();
    let first_new = state.account_count() as u32;
    for (n, k) in parallel.diff.new_accounts.iter().enumerate() {
        assert_eq!(parallel.diff.accounts[k].index, first_new + n as u32);
    }
    let expected: Vec<PublicKey> = (0..40).map(|i| key(FUNDED + i).public()).collect();
    assert_eq!(parallel.diff.new_accounts, expected);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_bad_signature_is_found_at_the_same_index_whatever_the_threads(
        plan in proptest::collection::vec(planned(Mix::Disjoint), 100..200),
        bad in proptest::collection::vec(0usize..200, 1..4),
    ) {
        let mut txs = sign(&plan, Params::default().initial_base_fee);
        for b in bad {
            let n = txs.len();
            txs[b % n].signature.0[0] ^= 1;
        }
        let sequential = verify_all(txs.clone()).map(|_| ()).map_err(|(i, _)| i);
        for threads in [2, 3, 4] {
            let parallel = verify_all_threads(txs.clone(), threads).map(|_| ()).map_err(|(i, _)| i);
            prop_assert_eq!(sequential, parallel, "threads {}", threads);
        }
        prop_assert!(sequential.is_err());
    }
}
