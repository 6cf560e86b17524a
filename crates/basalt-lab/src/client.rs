//! What a client of the nodes does, shared by the labs, the wallet and the benches: sign L2
//! transactions for either rollup kind, read a withdrawal claim, call and wait for the L1, find a
//! forced transaction in its queue, fund and register a lab rollup, and the L2 keys and
//! development proving keys of the devnet. DEVNET ONLY keys where it says so.

use anyhow::{bail, Context, Result};
use basalt_l1::{Action, RollupParams, WithdrawalClaim, ONE_TOKEN};
use basalt_l2::{unchecked_signature, L2Tx, Optimistic, Zk};
use basalt_rollup::l1client::{L1Client, L1TxStatus, QueueItem, RollupInfo};
use basalt_rollup::{BatcherConfig, NodeConfig, Role, RollupRef};
use basalt_rpc::l2::FeeQuery;
use basalt_rpc::{L2ApiClient, WithdrawalRef};
use basalt_types::zk::BabyKeypair;
use basalt_types::{Amount, Encode, Hash, Keypair, PublicKey};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
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

/// The claim of withdrawal `which` (its index, or its transaction's hash) as the L2 node
/// behind `l2` serves it, once it is ready.
pub async fn ready_claim(l2: &HttpClient, which: WithdrawalRef) -> Result<Option<WithdrawalClaim>> {
    let p = l2
        .get_withdrawal_proof(which)
        .await
        .context("l2_getWithdrawalProof")?;
    Ok(p.claim.filter(|_| p.ready).map(Into::into))
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

/// The first bytes of a hash or key, for reading along.
pub fn short(h: &impl std::fmt::Display) -> String {
    h.to_string()[..12].to_string()
}

/// A client of the devnet's L1 at `rpc`, and its chain as it answers.
pub async fn connect(rpc: &str) -> Result<(L1Client, basalt_rollup::l1client::ChainInfo)> {
    let client = L1Client::new(rpc)?;
    let chain = client.chain_info().await.with_context(|| {
        format!("no L1 at {rpc}: start the devnet with `basalt up` first (or pass --rpc)")
    })?;
    Ok((client, chain))
}

/// Gives each of `parties` 100 tokens from `funder`, then registers the rollup `params` from
/// `registrar`; its id.
pub async fn fund_and_register(
    client: &L1Client,
    funder: &Keypair,
    parties: &[&Keypair],
    registrar: &Keypair,
    params: RollupParams,
) -> Result<u32> {
    let mut hashes = Vec::new();
    for to in parties {
        let action = Action::Transfer {
            to: to.public(),
            amount: 100 * ONE_TOKEN,
        };
        hashes.push(client.submit(funder, action).await?);
    }
    wait_final(client, &hashes)
        .await
        .context("funding the lab keys")?;
    let name = params.name.clone();
    let h = client
        .submit(registrar, Action::RegisterRollup { params })
        .await
        .context("registering the lab rollup")?;
    wait_final(client, &[h])
        .await
        .context("registering the lab rollup")?;
    Ok(client.rollup(&RollupRef::Name(name)).await?.id)
}

/// An HTTP client of the L2 node at `url`.
pub fn l2_client(url: &str) -> Result<HttpClient> {
    jsonrpsee::http_client::HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)
        .with_context(|| format!("L2 client of {url}"))
}

/// A client of the L1 node at `rpc` (the `--rpc` URL).
pub fn l1_http(rpc: &str) -> Result<HttpClient> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(rpc)
        .with_context(|| format!("bad --rpc URL {rpc:?}"))
}

/// What a failed call of `method` to the node at `url` says: the node's refusal and its reason,
/// or that no node answered there and what to do.
pub fn rpc_error(method: &str, url: &str, e: jsonrpsee::core::ClientError) -> anyhow::Error {
    match e {
        jsonrpsee::core::ClientError::Call(obj) => {
            anyhow::anyhow!("{method}: {}", basalt_rpc::error_text(&obj))
        }
        other => anyhow::anyhow!(
            "{method} at {url}: {other} (is a node running there? `basalt up` starts one)"
        ),
    }
}

/// Where a forced transaction waits in its rollup's L1 queue.
pub struct ForcedItem {
    /// Its queue index.
    pub index: u64,
    /// The L1 height it was queued at.
    pub queued_at: u64,
    /// The first L1 height at which no batch may be posted that leaves it out.
    pub deadline: u64,
}

impl ForcedItem {
    /// Finds the forced item of rollup `which` holding the L2 transaction `hash` (its own hash, as
    /// `force-include` prints it), newest items first; with the rollup as read.
    pub async fn find(
        client: &L1Client,
        which: &RollupRef,
        hash: &Hash,
    ) -> Result<Option<(ForcedItem, RollupInfo)>> {
        let r = client.rollup(which).await?;
        let zk = r.params.zk.is_some();
        let mut end = r.deposits;
        while end > 0 {
            let from = end.saturating_sub(basalt_rollup::l1client::PAGE);
            let page = client.deposits(r.id, from).await?;
            for d in page.iter().take((end - from) as usize).rev() {
                if d.forced_hash(zk)? == Some(*hash) {
                    let item = ForcedItem {
                        index: d.index,
                        queued_at: d.height,
                        deadline: d.height + r.params.force_inclusion_blocks,
                    };
                    return Ok(Some((item, r)));
                }
            }
            end = from;
        }
        Ok(None)
    }

    /// Where it stands on rollup `r` (as read at L1 height `r.height`), in a sentence.
    pub fn describe(&self, r: &RollupInfo) -> String {
        let (i, q, d) = (self.index, self.queued_at, self.deadline);
        if i < r.deposits_end {
            format!("forced: queue item {i} (queued at L1 block {q}, deadline block {d}), carried by a posted batch")
        } else if r.height >= d {
            format!("forced: queue item {i} (queued at L1 block {q}) is overdue since block {d}: no batch may be posted without it, and anyone may post one")
        } else {
            format!(
                "forced: queue item {i}, queued at L1 block {q}; deadline block {d} ({} blocks from now): the first batch posted at or after it must carry it",
                d - r.height
            )
        }
    }
}

/// The sequencer's quote (`l2_estimateFee`) for a typical transaction of `kind` (`transfer` or
/// `withdraw`): the fee its model and the L1 ask now, with room for a block or two of rises.
pub async fn quote_fee(l2: &HttpClient, kind: &str) -> Result<Amount> {
    let q = l2
        .estimate_fee(FeeQuery::of(kind))
        .await
        .context("l2_estimateFee")?;
    Ok(q.fee)
}
