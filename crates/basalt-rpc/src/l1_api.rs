//! The L1 node's API: [`L1Api`] (calls) and [`L1Subscriptions`] (WebSocket), with the
//! parameters that name a block and a rollup.

use crate::l1::*;
use crate::HexBytes;
use basalt_types::{Hash, PublicKey};
use jsonrpsee::core::{RpcResult, SubscriptionResult};
use jsonrpsee::proc_macros::rpc;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A block, by height, by hash, or the newest finalized one (`"latest"` or `"finalized"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockId {
    /// The newest finalized block.
    Latest,
    /// The block at a height.
    Height(u64),
    /// The block with a hash.
    Hash(Hash),
}

impl Serialize for BlockId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            BlockId::Latest => s.serialize_str("latest"),
            BlockId::Height(h) => s.serialize_u64(*h),
            BlockId::Hash(h) => h.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for BlockId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const WHAT: &str =
            "a height (non-negative integer), \"latest\", \"finalized\" or a block hash";
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n.as_u64().map(BlockId::Height).ok_or_else(|| {
                de::Error::custom(format!(
                    "height must be a non-negative integer: expected {WHAT}"
                ))
            }),
            serde_json::Value::String(s) if s == "latest" || s == "finalized" => {
                Ok(BlockId::Latest)
            }
            serde_json::Value::String(s) if s.starts_with("0x") && s.len() == 66 => {
                Hash::from_hex(&s)
                    .map(BlockId::Hash)
                    .map_err(|_| de::Error::custom(format!("block hash {s:?} is not hex")))
            }
            other => Err(de::Error::custom(format!("expected {WHAT}, not {other}"))),
        }
    }
}

/// A rollup, by registry id or by registered name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RollupRef {
    /// Registry id.
    Id(u32),
    /// Registered name.
    Name(String),
}

impl RollupRef {
    /// Reads a number as an id and anything else as a name.
    pub fn parse(s: &str) -> Self {
        match s.parse::<u32>() {
            Ok(id) => RollupRef::Id(id),
            Err(_) => RollupRef::Name(s.to_string()),
        }
    }
}

impl From<u32> for RollupRef {
    fn from(id: u32) -> Self {
        RollupRef::Id(id)
    }
}

impl std::fmt::Display for RollupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RollupRef::Id(id) => write!(f, "{id}"),
            RollupRef::Name(n) => f.write_str(n),
        }
    }
}

impl Serialize for RollupRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RollupRef::Id(id) => s.serialize_u32(*id),
            RollupRef::Name(n) => s.serialize_str(n),
        }
    }
}

impl<'de> Deserialize<'de> for RollupRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n
                .as_u64()
                .and_then(|id| u32::try_from(id).ok())
                .map(RollupRef::Id)
                .ok_or_else(|| de::Error::custom(format!("no rollup {n}: ids are u32"))),
            serde_json::Value::String(s) => Ok(RollupRef::Name(s)),
            _ => Err(de::Error::custom(
                "rollup must be an id (number) or a name (string)",
            )),
        }
    }
}

/// The L1 node's calls, `l1_*` (`docs/rpc.md`).
#[rpc(server, client, namespace = "l1")]
pub trait L1Api {
    /// Chain id, finalized head, next fees, parameters.
    #[method(name = "chainInfo")]
    fn chain_info(&self) -> RpcResult<ChainInfo>;

    /// A finalized block with its transactions.
    #[method(name = "getBlock")]
    fn get_block(&self, id: BlockId) -> RpcResult<BlockInfo>;

    /// An account's balance, nonces and stake.
    #[method(name = "getAccount")]
    fn get_account(&self, account: PublicKey) -> RpcResult<AccountInfo>;

    /// Admits a signed transaction to the mempool; its hash.
    #[method(name = "sendTransaction")]
    fn send_transaction(&self, tx: HexBytes) -> RpcResult<Hash>;

    /// The gas an action of `from` would use on the finalized state.
    #[method(name = "estimateGas")]
    fn estimate_gas(&self, from: PublicKey, action: HexBytes) -> RpcResult<u64>;

    /// Where a transaction is.
    #[method(name = "getTransaction")]
    fn get_transaction(&self, hash: Hash) -> RpcResult<TxStatusInfo>;

    /// A blob within the retention window.
    #[method(name = "getBlob")]
    fn get_blob(&self, hash: Hash) -> RpcResult<BlobInfo>;

    /// The committee and the stakers.
    #[method(name = "validators")]
    fn validators(&self) -> RpcResult<ValidatorsInfo>;

    /// Registered rollups from id `from` (default 0), at most `limit` (default and most 1000).
    #[method(name = "rollups")]
    fn rollups(&self, from: Option<u64>, limit: Option<u64>) -> RpcResult<Vec<RollupInfo>>;

    /// A rollup's registry entry and counters.
    #[method(name = "getRollup")]
    fn get_rollup(&self, rollup: RollupRef) -> RpcResult<RollupInfo>;

    /// A rollup's risks and stage.
    #[method(name = "getRollupRisk")]
    fn get_rollup_risk(&self, rollup: RollupRef) -> RpcResult<RiskInfo>;

    /// A page of a rollup's queue (deposits and forced transactions).
    #[method(name = "getRollupDeposits")]
    fn get_rollup_deposits(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<DepositInfo>>;

    /// A page of a rollup's batches.
    #[method(name = "getRollupBatches")]
    fn get_rollup_batches(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<BatchInfo>>;

    /// A page of a rollup's settled chain: one output per batch, from batch `from`.
    #[method(name = "getRollupOutputs")]
    fn get_rollup_outputs(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<OutputInfo>>;

    /// A page of every proposal, competing and removed ones included.
    #[method(name = "getProposals")]
    fn get_proposals(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<OutputInfo>>;

    /// Ids of the proposals whose trees have not resolved, from id `from`.
    #[method(name = "listUnresolved")]
    fn list_unresolved(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<u64>>;

    /// One proposal.
    #[method(name = "getOutput")]
    fn get_output(&self, rollup: RollupRef, proposal: u64) -> RpcResult<OutputInfo>;

    /// A proposal's dispute record.
    #[method(name = "getDispute")]
    fn get_dispute(&self, rollup: RollupRef, proposal: u64) -> RpcResult<DisputeInfo>;

    /// A page of a dispute's claims.
    #[method(name = "getClaims")]
    fn get_claims(
        &self,
        rollup: RollupRef,
        proposal: u64,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<ClaimsPage>;

    /// A page of a rollup's dispute records (no claims).
    #[method(name = "listDisputes")]
    fn list_disputes(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<DisputeInfo>>;

    /// Whether a withdrawal was paid.
    #[method(name = "isWithdrawalClaimed")]
    fn is_withdrawal_claimed(&self, rollup: RollupRef, index: u64) -> RpcResult<bool>;
}

/// The L1 node's WebSocket subscriptions.
#[rpc(server, client, namespace = "l1")]
pub trait L1Subscriptions {
    /// Each finalized header, as it is finalized (`l1_block` notifications).
    #[subscription(name = "subscribeBlocks" => "block", unsubscribe = "unsubscribeBlocks", item = HeaderInfo)]
    async fn subscribe_blocks(&self) -> SubscriptionResult;
}
