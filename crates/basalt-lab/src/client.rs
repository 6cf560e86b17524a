//! What a client of the nodes does, shared by the lab, the wallet and the benches: sign L2
//! transactions for either rollup kind, read a withdrawal claim, wait for L1 transactions, and the
//! L2 keys and development proving keys of the devnet. DEVNET ONLY keys where it says so.

use anyhow::{bail, Context, Result};
use basalt_l1::WithdrawalClaim;
use basalt_l2::{unchecked_signature, L2Tx, Optimistic, Zk};
use basalt_rollup::l1client::{L1Client, L1TxStatus};
use basalt_rollup::{BatcherConfig, NodeConfig, Role};
use basalt_types::zk::BabyKeypair;
use basalt_types::{serde_amount, Amount, Encode, Hash, Keypair, PublicKey};
use serde::Deserialize;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `tx` (its signature a placeholder) signed with the L2 key of `kp` for rollup `id`, of the ZK
/// kind if `zk`, as `l2_sendTransaction` takes it.
pub fn signed_hex(zk: bool, id: u32, tx: &L2Tx<Optimistic>, kp: &Keypair) -> String {
    format!("0x{}", hex::encode(signed(zk, id, tx, kp).0))
}

/// `tx` signed for rollup `id` (a ZK one if `zk`): its encoding, and its hash, by which every
/// node indexes it.
pub fn signed(zk: bool, id: u32, tx: &L2Tx<Optimistic>, kp: &Keypair) -> (Vec<u8>, Hash) {
    match zk {
        false => {
            let t = (*tx).signed(id, kp);
            (t.to_bytes(), t.hash())
        }
        true => {
            let t = zk_form(tx).signed_zk(id, &BabyKeypair::of_l1_key(kp));
            (t.to_bytes(), t.hash())
        }
    }
}

/// The same transaction for a ZK rollup, unsigned.
pub fn zk_form(tx: &L2Tx<Optimistic>) -> L2Tx<Zk> {
    match *tx {
        L2Tx::Deposit { index } => L2Tx::Deposit { index },
        L2Tx::Transfer {
            from,
            to,
            amount,
            fee,
            nonce,
            ..
        } => L2Tx::Transfer {
            from,
            to,
            amount,
            fee,
            nonce,
            signature: unchecked_signature(),
        },
        L2Tx::Withdraw {
            from,
            recipient,
            amount,
            fee,
            nonce,
            ..
        } => L2Tx::Withdraw {
            from,
            recipient,
            amount,
            fee,
            nonce,
            signature: unchecked_signature(),
        },
    }
}

/// The claim as `l2_getWithdrawalProof` gives it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimJson {
    rollup: u32,
    batch: u64,
    state_root: Hash,
    withdrawals_tree_root: Hash,
    withdrawal_count: u64,
    index: u64,
    recipient: PublicKey,
    #[serde(with = "serde_amount")]
    amount: Amount,
    proof: Vec<Hash>,
}

/// The claim in an `l2_getWithdrawalProof` answer.
pub fn claim_of(v: &Value) -> Result<WithdrawalClaim> {
    let c: ClaimJson = serde_json::from_value(v.clone()).context("withdrawal proof")?;
    Ok(WithdrawalClaim {
        rollup: c.rollup,
        batch: c.batch,
        state_root: c.state_root,
        withdrawals_tree_root: c.withdrawals_tree_root,
        withdrawal_count: c.withdrawal_count,
        index: c.index,
        recipient: c.recipient,
        amount: c.amount,
        proof: c.proof,
    })
}

/// The L2 key of dev account (or any L1 key) `kp` on rollup kind `zk`, as deposits name it.
pub fn l2_key(kp: &Keypair, zk: bool) -> PublicKey {
    match zk {
        false => kp.public(),
        true => zk_public(&BabyKeypair::of_l1_key(kp)),
    }
}

/// A BabyJubJub key as the 32 bytes a deposit carries (circomlib's packed point).
pub fn zk_public(kp: &BabyKeypair) -> PublicKey {
    let bytes = kp.public().to_bytes();
    PublicKey(
        bytes
            .try_into()
            .expect("a packed BabyJubJub point is 32 bytes"),
    )
}

/// The development keys of a `slots`-slot circuit, cached in `dir` (made there on the first run,
/// with a note, as it takes a while).
pub async fn dev_keys(dir: &Path, slots: usize) -> Result<basalt_zk::Keys> {
    let cache = basalt_zk::keys::KeyCache::new(dir);
    tokio::task::spawn_blocking(move || {
        cache.load_or_setup(slots, |path| {
            println!(
                "setting up the {slots}-slot batch circuit's DEVELOPMENT proving keys in {} (once; insecure, devnet only) ...",
                path.display()
            )
        })
    })
    .await?
    .map_err(Into::into)
}

/// Waits until every transaction is final and succeeded.
pub async fn wait_final(client: &L1Client, hashes: &[Hash]) -> Result<()> {
    let started = Instant::now();
    for h in hashes {
        loop {
            match client.tx_status(h).await? {
                L1TxStatus::Finalized { error: None, .. } => break,
                L1TxStatus::Finalized { error: Some(e), .. } => {
                    bail!("transaction {h} failed: {e}")
                }
                L1TxStatus::Rejected { error } => bail!("transaction {h} dropped: {error}"),
                _ if started.elapsed() > Duration::from_secs(120) => {
                    bail!("transaction {h} not final after 120 s: is the chain making blocks?")
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
    Ok(())
}

/// The config of a lab node of rollup `rollup` on the L1 at `rpc`, with data in `dir`: it
/// proposes and challenges with the key it is started with, and reads the L1 every block.
pub fn lab_node(rpc: &str, rollup: &str, dir: PathBuf, role: Role, block_ms: u64) -> NodeConfig {
    NodeConfig {
        l1_rpc: rpc.to_string(),
        rollup: rollup.to_string(),
        role,
        data_dir: dir,
        rpc: SocketAddr::from(([127, 0, 0, 1], 0)),
        key: None,
        propose: Some(true),
        challenge: Some(true),
        fault: None,
        censor: None,
        block_time_ms: 50,
        l1_poll_ms: block_ms,
        zk_keys: None,
        batcher: BatcherConfig::default(),
    }
}
