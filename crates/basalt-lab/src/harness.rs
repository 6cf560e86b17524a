//! The lab's L1: a single-process L1 ([`LocalL1`]) and a validator that follows it, verifying,
//! executing and storing every finalized block from scratch as any validator must, and recording
//! what each block cost it: CPU (its thread's own time), bytes, gas, fees, and its store's size.
//! DEVNET ONLY: dev accounts fund the lab.

use anyhow::{bail, Context, Result};
use basalt_l1::{verify_block, Block, L1State, Params, StateView};
use basalt_node::devnet::devnet_genesis;
use basalt_node::local::LocalL1;
use basalt_node::store::Store;
use basalt_types::{Encode, Hash, PublicKey};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What following one finalized block cost the validator.
#[derive(Clone, Debug)]
pub struct BlockCost {
    /// Its height.
    pub height: u64,
    /// When the follower had it stored.
    pub at: Instant,
    /// Its encoding's length (transactions and their blob data included).
    pub bytes: usize,
    /// Gas its transactions used.
    pub gas_used: u64,
    /// Blob bytes it carried.
    pub blob_bytes: u64,
    /// Its base fee per gas.
    pub base_fee: u64,
    /// Its blob base fee per byte.
    pub blob_base_fee: u64,
    /// CPU time the follower spent verifying, executing and committing it, in nanoseconds.
    pub cpu_ns: u64,
    /// Its transactions.
    pub txs: Vec<TxCost>,
}

/// One transaction of a followed block.
#[derive(Clone, Debug)]
pub struct TxCost {
    /// Its hash.
    pub hash: Hash,
    /// Who signed it.
    pub signer: PublicKey,
    /// Its encoding's length.
    pub bytes: usize,
    /// Gas charged.
    pub gas: u64,
    /// Fee paid (gas and blob fees).
    pub fee: u128,
}

/// A running lab L1 and its following validator; both stop when it drops.
pub struct LabL1 {
    /// Its JSON-RPC URL.
    pub url: String,
    /// Its parameters.
    pub params: Params,
    costs: Arc<Mutex<Vec<BlockCost>>>,
    failed: Arc<Mutex<Option<String>>>,
    store: Arc<Store>,
    _l1: LocalL1,
    _dir: tempfile::TempDir,
}

/// CPU time of the calling thread, in nanoseconds.
pub fn thread_cpu_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer; the clock id is a
    // constant every Linux kernel since 2.6.12 provides.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    if rc != 0 {
        return 0;
    }
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

impl LabL1 {
    /// Starts an L1 with `params` (a block every `params.block_time_ms`) and its follower, both
    /// keeping their data in a fresh temporary directory.
    pub async fn start(params: Params) -> Result<LabL1> {
        let dir = tempfile::tempdir().context("a temporary directory for the lab L1")?;
        let costs = Arc::new(Mutex::new(Vec::new()));
        let failed = Arc::new(Mutex::new(None));
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let genesis = devnet_genesis(1, params.clone(), 1_000);
        let (state, genesis_block) =
            L1State::genesis(&genesis).map_err(|e| anyhow::anyhow!("genesis: {e}"))?;
        let store = Arc::new(Store::open(&dir.path().join("follower.redb"))?);
        let state = store.load_or_init(state, &genesis_block)?;
        {
            let (costs, failed, store) = (costs.clone(), failed.clone(), store.clone());
            std::thread::Builder::new()
                .name("lab-follower".into())
                .spawn(move || follow(rx, state, store, costs, failed))?;
        }
        let pace = Duration::from_millis(params.block_time_ms);
        std::fs::create_dir_all(dir.path().join("l1"))?;
        let l1 =
            LocalL1::start_with(params.clone(), &dir.path().join("l1"), pace, Some(tx)).await?;
        Ok(LabL1 {
            url: l1.url.clone(),
            params,
            costs,
            failed,
            store,
            _l1: l1,
            _dir: dir,
        })
    }

    /// The height the follower has reached, or why it stopped.
    pub fn height(&self) -> Result<u64> {
        if let Some(why) = self
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            bail!("the lab's following validator stopped: {why}");
        }
        Ok(self.lock().last().map_or(0, |c| c.height))
    }

    /// The costs of the followed blocks in `from..=to`.
    pub fn costs(&self, from: u64, to: u64) -> Vec<BlockCost> {
        self.lock()
            .iter()
            .filter(|c| (from..=to).contains(&c.height))
            .cloned()
            .collect()
    }

    /// Waits until the follower has a block past the present one; its height.
    pub async fn next_block(&self) -> Result<u64> {
        let now = self.height()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let h = self.height()?;
            if h > now {
                return Ok(h);
            }
            if Instant::now() > deadline {
                bail!("the lab L1 made no block in 30 s");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// What the follower's store holds, in bytes (keys, values and tree metadata).
    pub fn store_bytes(&self) -> Result<u64> {
        Ok(self.store.stored_bytes()?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<BlockCost>> {
        self.costs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The follower: each block verified from scratch (signatures, execution, header), committed
/// to its own store and applied, as a validator that did not propose it does.
fn follow(
    mut rx: tokio::sync::mpsc::Receiver<Block>,
    mut state: L1State,
    store: Arc<Store>,
    costs: Arc<Mutex<Vec<BlockCost>>>,
    failed: Arc<Mutex<Option<String>>>,
) {
    while let Some(block) = rx.blocking_recv() {
        let started = thread_cpu_ns();
        let executed = {
            let view = StateView::new(&state, vec![]);
            verify_block(&view, &block)
        };
        let executed = match executed {
            Ok(e) => e,
            Err(e) => {
                *failed.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(format!("block {}: {e}", block.header.height));
                return;
            }
        };
        if let Err(e) = store.commit_block(&executed.block, &executed.diff) {
            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("store: {e}"));
            return;
        }
        state.apply(&executed.diff);
        let cpu_ns = thread_cpu_ns().saturating_sub(started);
        let h = &block.header;
        let txs = block
            .txs
            .iter()
            .zip(&executed.diff.receipts)
            .map(|(t, r)| TxCost {
                hash: t.hash(),
                signer: t.signer,
                bytes: t.to_bytes().len(),
                gas: r.gas_used,
                fee: r.fee_paid,
            })
            .collect();
        let cost = BlockCost {
            height: h.height,
            at: Instant::now(),
            bytes: block.to_bytes().len(),
            gas_used: h.gas_used,
            blob_bytes: h.blob_bytes,
            base_fee: h.base_fee_per_gas,
            blob_base_fee: h.blob_base_fee,
            cpu_ns,
            txs,
        };
        costs.lock().unwrap_or_else(|p| p.into_inner()).push(cost);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_l1::{Action, Transaction, TRANSFER_GAS};
    use basalt_node::devnet::dev_account;
    use basalt_rollup::l1client::L1Client;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_follower_verifies_every_block_and_records_what_each_transaction_paid() {
        let params = Params {
            block_time_ms: 50,
            ..Params::default()
        };
        let lab = LabL1::start(params).await.unwrap();
        let client = L1Client::new(&lab.url).unwrap();
        let chain = client.chain_info().await.unwrap();
        let (from, to) = (dev_account(0), dev_account(1));
        let tx = Transaction {
            chain_id: chain.chain_id,
            nonce: 0,
            max_fee_per_gas: chain.next_base_fee_per_gas * 4,
            priority_fee_per_gas: 0,
            gas_limit: TRANSFER_GAS,
            action: Action::Transfer {
                to: to.public(),
                amount: 5,
            },
        }
        .sign(&from);
        let hash = tx.hash();
        let hex_tx = format!("0x{}", hex::encode(tx.to_bytes()));
        let sent: Hash = jsonrpsee::core::client::ClientT::request(
            &jsonrpsee::http_client::HttpClientBuilder::default()
                .build(&lab.url)
                .unwrap(),
            "l1_sendTransaction",
            jsonrpsee::rpc_params![hex_tx],
        )
        .await
        .unwrap();
        assert_eq!(sent, hash);
        let started = Instant::now();
        let (block, paid) = loop {
            let found = lab.costs(0, u64::MAX).into_iter().find_map(|b| {
                let t = b.txs.iter().find(|t| t.hash == hash).cloned();
                t.map(|t| (b, t))
            });
            if let Some(f) = found {
                break f;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never followed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // The follower re-executed the block to the proposer's header, or it would have stopped.
        assert!(lab.height().unwrap() >= block.height);
        assert_eq!(paid.signer, from.public());
        assert_eq!(paid.gas, TRANSFER_GAS);
        assert_eq!(
            paid.fee,
            u128::from(block.base_fee) * u128::from(TRANSFER_GAS)
        );
        assert_eq!(paid.bytes, tx.to_bytes().len());
        assert!(block.cpu_ns > 0 && block.bytes > paid.bytes);
        // Every block since genesis, in order, with none missing.
        let all = lab.costs(0, u64::MAX);
        assert!(all.windows(2).all(|w| w[1].height == w[0].height + 1));
        assert_eq!(all[0].height, 1);
        assert!(lab.store_bytes().unwrap() > 0);
    }
}
