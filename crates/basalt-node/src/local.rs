//! A single-process L1 for tests and labs: one node core with the devnet's funded accounts that
//! finalizes a block of its mempool at a fixed pace and serves the JSON-RPC API. No consensus and
//! no peers: DEVNET ONLY.

use crate::devnet::devnet_genesis;
use crate::mempool::MempoolLimits;
use crate::rpc::{serve, RpcContext};
use crate::store::StoreError;
use crate::validator::open_chain;
use basalt_l1::{Block, Params};
use jsonrpsee::server::ServerHandle;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running single-process L1; it stops when dropped.
pub struct LocalL1 {
    /// Its JSON-RPC URL.
    pub url: String,
    _server: ServerHandle,
    blocks: tokio::task::JoinHandle<()>,
}

/// Why a local L1 did not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalL1Error {
    /// The state store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The RPC server.
    #[error("JSON-RPC server: {0}")]
    Rpc(#[from] std::io::Error),
}

impl LocalL1 {
    /// Starts an L1 with `params` keeping its state in `dir`, finalizing a block every `pace` of
    /// wall time (each block's timestamp `params.block_time_ms` after the last).
    pub async fn start(params: Params, dir: &Path, pace: Duration) -> Result<Self, LocalL1Error> {
        Self::start_with(params, dir, pace, None).await
    }

    /// Like [`LocalL1::start`], handing each finalized block to `sink` (for a validator that
    /// follows it); block-making waits while the sink is full.
    pub async fn start_with(
        params: Params,
        dir: &Path,
        pace: Duration,
        sink: Option<tokio::sync::mpsc::Sender<Block>>,
    ) -> Result<Self, LocalL1Error> {
        let step = params.block_time_ms;
        let genesis = devnet_genesis(1, params, 1_000);
        let chain = open_chain(&genesis, &dir.join("state.redb"), MempoolLimits::default())?.chain;
        let chain = Arc::new(Mutex::new(chain));
        let (finalized, _) = tokio::sync::broadcast::channel(16);
        let ctx = RpcContext::new(chain.clone(), finalized);
        let (addr, server) = serve(SocketAddr::from(([127, 0, 0, 1], 0)), ctx).await?;
        let blocks = tokio::spawn(async move {
            loop {
                tokio::time::sleep(pace).await;
                // Executing a block is CPU work under a lock: off the async threads.
                let chain = chain.clone();
                let made = tokio::task::spawn_blocking(move || {
                    let mut c = chain.lock().unwrap_or_else(|p| p.into_inner());
                    let head = c.state().head().clone();
                    let who = c.state().committee()[0];
                    c.propose(head.hash(), head.timestamp_ms + step, who, 1_000)
                        .and_then(|block| c.finalize(&block).map(|_| block))
                        .map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
                match made {
                    Err(e) => {
                        tracing::error!("local L1 stopped: {e}");
                        return;
                    }
                    Ok(block) => {
                        if let Some(sink) = &sink {
                            if sink.send(block).await.is_err() {
                                tracing::error!("local L1 stopped: its follower is gone");
                                return;
                            }
                        }
                    }
                }
            }
        });
        Ok(LocalL1 {
            url: format!("http://{addr}"),
            _server: server,
            blocks,
        })
    }
}

impl Drop for LocalL1 {
    fn drop(&mut self) {
        self.blocks.abort();
    }
}
