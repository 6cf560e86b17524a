//! The ZK rows of `basalt bench gas`: deposits whose BabyJubJub keys the L1 checks, ZK batch posts
//! the L1 decodes and hashes, validity proofs it verifies and Poseidon withdrawal proofs. Each
//! input is the most work its price must cover: distinct keys, deposits (the costliest transaction
//! to hash, its key decompressed), proofs that decode and fail only at the pairing, and claims
//! that fail only at the root; forced transactions whose signatures the L1 checks, and exits
//! from a frozen rollup that fail only at the signature, their account path proven. The keys are
//! the insecure development setup (devnet only).

use super::{next_batch, post, signer, Meter, Row, SENDER, SEQUENCER};
use anyhow::{ensure, Context, Result};
use basalt_l1::gas::zk_post_limit;
use basalt_l1::{
    felt_hash, zk_key, Action, RollupKind, StateRead, WithdrawalClaim, ZkParams, ONE_TOKEN,
};
use basalt_l2::{
    encode_zk_batch, DepositEntry, DepositWindow, Effort, L2State, L2Tx, PostedTx, Zk,
};
use basalt_types::zk::BabyKeypair;
use basalt_types::{Encode, PublicKey};
use basalt_zk::batch::{prove_batch, BatchCircuit, BatchWitness};

/// Slots of the proven rollup's circuit: a deposit and a withdrawal.
const SLOTS: usize = 2;
/// Deposits per block (each pays for its key check).
const DEPOSITS: usize = 500;
/// Deposits per measured post (each pays for its key read into the hash; more would not fit a
/// block's gas).
const POSTED: usize = 250;
/// Proofs per block.
const PROOFS: usize = 20;
/// Withdrawal claims per block.
const CLAIMS: usize = 100;
/// Forced transactions per block (each pays for a key check and a signature check).
const FORCED: usize = 200;
/// Exit claims per block.
const EXITS: usize = 50;
/// Blocks the proven rollup may owe a batch before it freezes (above its settle bound).
const ESCAPE_BLOCKS: u64 = 200;

/// The packed key of a BabyJubJub key pair, as a deposit carries it.
fn packed(k: &BabyKeypair) -> PublicKey {
    PublicKey(
        k.public()
            .to_bytes()
            .try_into()
            .expect("a packed point is 32 bytes"),
    )
}

/// Registers two ZK rollups (one proven, one only posted to) and measures every ZK row.
pub(super) fn rows(m: &mut Meter, n: usize) -> Result<Vec<Row>> {
    eprintln!("zk: development setup of a {SLOTS}-slot batch circuit ...");
    let keys = basalt_zk::dev_setup(BatchCircuit::blank(SLOTS))?;
    let fee_key = BabyKeypair::dev(b"basalt-bench-gas/fees");
    let first = m.l1.state.rollup_count() as u32;
    let (proven, posted) = (first, first + 1);
    let register = |name: &str, slots: u32| {
        let mut params = super::rollup(name, 100);
        if slots == SLOTS as u32 {
            params.escape_blocks = ESCAPE_BLOCKS;
        } else {
            // The posted rollup's rows queue items for as many blocks as are measured, and its
            // batches consume them in their own order: none may fall overdue meanwhile.
            params.force_inclusion_blocks = 100_000;
        }
        params.kind = RollupKind::Zk(ZkParams {
            fee_key: fee_key.public(),
            slots,
            verifying_key: basalt_zk::verifying_key_bytes(&keys.verifying),
        });
        (SENDER, Action::RegisterRollup { params })
    };
    let max_slots = basalt_l1::MAX_ZK_SLOTS;
    m.l1.block(vec![
        register("zk-proven", SLOTS as u32),
        register("zk-posted", max_slots),
    ])?;
    ensure!(
        m.l1.state.rollup_count() as u32 == first + 2,
        "the ZK rollups register"
    );

    let mut rows = Vec::new();
    let user = |i: usize| BabyKeypair::dev(format!("basalt-bench-gas/user/{i}").as_bytes());
    rows.push(
        m.row("deposit (zk)", "500, each a distinct key", n, |i, _| {
            (0..DEPOSITS)
                .map(|j| {
                    let action = Action::Deposit {
                        rollup: posted,
                        account: None,
                        key: packed(&user(i * DEPOSITS + j)),
                        amount: 1,
                    };
                    (SENDER, action)
                })
                .collect()
        })?,
    );
    rows.push(m.row(
        "force include (zk)",
        "200 transfers, each a distinct key",
        n,
        |i, _| {
            (0..FORCED)
                .map(|j| {
                    let k = user(1_000_000 + i * FORCED + j);
                    let tx = L2Tx::Transfer {
                        from: 1,
                        to: 0,
                        amount: 1,
                        fee: 0,
                        nonce: 0,
                        signature: basalt_l2::unchecked_signature(),
                    }
                    .signed_zk(posted, &k);
                    let action = Action::ForceInclude {
                        rollup: posted,
                        key: packed(&k),
                        tx: tx.to_bytes(),
                    };
                    (SENDER, action)
                })
                .collect()
        },
    )?);
    // A ZK sequencer prices its posts itself (`gas::zk_post_limit`): the limit is the same for
    // every post of this row.
    let deposits = encode_zk_batch(&vec![PostedTx::Deposit; POSTED], Effort::Fast);
    m.gas_limit = Some(zk_post_limit(&post(posted, 0, deposits.clone(), 0)));
    let row = m.row(
        "post batch (zk)",
        "250 deposits (keys decompressed)",
        n,
        |i, s| {
            let end = ((i + 1) * POSTED) as u64;
            vec![(
                SEQUENCER,
                post(posted, next_batch(s, posted), deposits.clone(), end),
            )]
        },
    );
    m.gas_limit = None;
    rows.push(row?);

    // A real batch, proven and settled: a deposit and its withdrawal.
    let alice = BabyKeypair::dev(b"basalt-bench-gas/alice");
    m.l1.block(vec![(
        SENDER,
        Action::Deposit {
            rollup: proven,
            account: None,
            key: packed(&alice),
            amount: ONE_TOKEN,
        },
    )])?;
    let r = m.l1.state.rollup(proven).context("the proven rollup")?;
    let queue: Vec<DepositEntry<Zk>> = r
        .deposits
        .iter()
        .map(|d| DepositEntry {
            forced: None,
            account: d.entry.account,
            key: zk_key(&d.entry.key).expect("checked at deposit"),
            amount: d.entry.amount,
        })
        .collect();
    let window = DepositWindow {
        first: 0,
        entries: &queue,
    };
    let config = r.header.params.l2_config(proven);
    let mut l2 = L2State::<Zk>::genesis(config, fee_key.public());
    let unsigned = basalt_l2::unchecked_signature();
    let txs = [
        L2Tx::Deposit { index: 0 },
        L2Tx::Withdraw {
            from: 1,
            recipient: signer(SENDER).public(),
            amount: 1,
            fee: 0,
            nonce: 0,
            signature: unsigned,
        }
        .signed_zk(proven, &alice),
    ];
    let witness = BatchWitness::build(&l2, &window, &txs, SLOTS)?;
    let output = felt_hash(witness.new_output);
    let proof = prove_batch(
        &basalt_zk::batch::batch_prover(keys.proving.clone(), SLOTS)?,
        witness,
    )?;
    l2.apply_batch(&window, &txs);
    let data = encode_zk_batch(&txs.map(|t| PostedTx::from(&t)), Effort::Fast);
    let first_post = post(proven, 0, data, 1);
    let limit = zk_post_limit(&first_post);
    m.l1.block_with_gas(vec![(SEQUENCER, first_post)], Some(limit))?;
    let prove = |batch, output, proof: &Vec<u8>| Action::ProveBatch {
        rollup: proven,
        batch,
        output,
        proof: proof.clone(),
    };
    let included = m.l1.block(vec![(SENDER, prove(0, output, &proof))])?;
    ensure!(
        included.iter().all(|i| i.receipt.failure.is_none()),
        "the bench batch proves"
    );

    let c = l2.commitment();
    let (w, path) = l2.withdrawal_proof(0).context("the bench withdrawal")?;
    let claim = WithdrawalClaim {
        rollup: proven,
        batch: 0,
        state_root: felt_hash(c.state_root()),
        withdrawals_tree_root: felt_hash(c.withdrawals_tree_root),
        withdrawal_count: c.withdrawal_count,
        index: 0,
        recipient: w.recipient,
        // One more than was withdrawn: every hash of the path is computed, then the root differs.
        amount: w.amount + 1,
        proof: path.siblings.into_iter().map(felt_hash).collect(),
    };
    m.failing = true;
    rows.push(m.row(
        "finalize withdrawal (zk)",
        "100 claims failing at the root",
        n,
        |_, _| vec![(SENDER, Action::FinalizeWithdrawal(claim.clone())); CLAIMS],
    )?);

    // The next batch is posted; proofs of it for a wrong output fail only at the pairing.
    let empty = encode_zk_batch(&[], Effort::Fast);
    let second_post = post(proven, 1, empty, 1);
    let limit = zk_post_limit(&second_post);
    m.l1.block_with_gas(vec![(SEQUENCER, second_post)], Some(limit))?;
    let mut wrong = output;
    wrong.0[31] ^= 1;
    rows.push(m.row(
        "prove batch",
        "20 proofs failing at the pairing",
        n,
        |_, _| vec![(SENDER, prove(1, wrong, &proof)); PROOFS],
    )?);

    // Batch 1 is never proven: the rollup freezes, and alice's exit from the settled state is
    // claimed with a proven path and another key's signature (the last check, so all the work).
    let frozen_from = m.l1.state.rollup(proven).and_then(|r| r.frozen_from());
    let frozen_from = frozen_from.context("the proven rollup owes batch 1")?;
    while m.l1.state.head().height <= frozen_from {
        m.l1.block(vec![])?;
    }
    let exit = basalt_l1::ExitClaim::build(
        &l2,
        1,
        signer(SENDER).public(),
        unsigned,
        |f| felt_hash(*f),
        |tx| tx.signed_zk(proven, &fee_key),
    )
    .context("alice's account in the settled state")?;
    rows.push(m.row(
        "exit (zk)",
        "50 claims failing at the signature",
        n,
        |_, _| vec![(SENDER, Action::Exit(exit.clone())); EXITS],
    )?);
    m.failing = false;
    Ok(rows)
}
