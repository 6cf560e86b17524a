//! A rollup node's API: [`L2Api`] (calls) and [`L2Subscriptions`] (WebSocket), with the
//! parameters that name an account, a block and a withdrawal.

use crate::l2::*;
use crate::HexBytes;
use basalt_types::Hash;
use jsonrpsee::core::{RpcResult, SubscriptionResult};
use jsonrpsee::proc_macros::rpc;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// An L2 account: by index, or the first account of an L2 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    /// Account index.
    Index(u32),
    /// An L2 key's bytes.
    Key(HexBytes),
}

impl Serialize for AccountRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AccountRef::Index(i) => s.serialize_u32(*i),
            AccountRef::Key(k) => k.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for AccountRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n
                .as_u64()
                .and_then(|i| u32::try_from(i).ok())
                .map(AccountRef::Index)
                .ok_or_else(|| de::Error::custom("account index must be a u32")),
            serde_json::Value::String(s) => basalt_types::codec::parse_hex(&s)
                .map(|b| AccountRef::Key(HexBytes(b)))
                .map_err(|_| de::Error::custom("key must be a 32-byte L2 key in hex")),
            _ => Err(de::Error::custom(
                "expected an account index (number) or a key (hex string)",
            )),
        }
    }
}

impl From<basalt_types::PublicKey> for AccountRef {
    /// The first account of an L2 key given as 32 bytes (an optimistic rollup's ed25519 key, or
    /// a ZK rollup's packed BabyJubJub point).
    fn from(key: basalt_types::PublicKey) -> Self {
        AccountRef::Key(HexBytes(key.0.to_vec()))
    }
}

/// A sequencer block: by number, or the newest (`"latest"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockNumber {
    /// The newest block.
    Latest,
    /// Block number.
    Number(u64),
}

impl Serialize for BlockNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            BlockNumber::Latest => s.serialize_str("latest"),
            BlockNumber::Number(n) => s.serialize_u64(*n),
        }
    }
}

impl<'de> Deserialize<'de> for BlockNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) if s == "latest" => Ok(BlockNumber::Latest),
            serde_json::Value::Number(n) => n
                .as_u64()
                .map(BlockNumber::Number)
                .ok_or_else(|| de::Error::custom("block number must be a non-negative integer")),
            _ => Err(de::Error::custom("expected a block number or \"latest\"")),
        }
    }
}

/// A withdrawal: by index, or by the hash of the transaction that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawalRef {
    /// Withdrawal index.
    Index(u64),
    /// The withdrawal's L2 transaction.
    Tx(Hash),
}

impl Serialize for WithdrawalRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            WithdrawalRef::Index(i) => s.serialize_u64(*i),
            WithdrawalRef::Tx(h) => h.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for WithdrawalRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let what = "expected a withdrawal index or a transaction hash";
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n.as_u64().map(WithdrawalRef::Index).ok_or_else(|| {
                de::Error::custom("withdrawal index must be a non-negative integer")
            }),
            serde_json::Value::String(s) => Hash::from_hex(&s)
                .map(WithdrawalRef::Tx)
                .map_err(|_| de::Error::custom(what)),
            _ => Err(de::Error::custom(what)),
        }
    }
}

/// A rollup node's calls, `l2_*` (`docs/rpc.md`).
#[rpc(server, client, namespace = "l2")]
pub trait L2Api {
    /// What the node knows of its rollup, soft and on L1.
    #[method(name = "chainInfo")]
    fn chain_info(&self) -> RpcResult<L2ChainInfo>;

    /// Queues a signed L2 transaction at the sequencer; with `wait`, answers once a block holds
    /// it (or 10 s pass).
    #[method(name = "sendTransaction")]
    async fn send_transaction(&self, tx: HexBytes, wait: Option<bool>) -> RpcResult<L2TxStatus>;

    /// The fee to sign for a transaction, and its parts (sequencers).
    #[method(name = "estimateFee")]
    fn estimate_fee(&self, query: FeeQuery) -> RpcResult<FeeEstimate>;

    /// Where a transaction stands.
    #[method(name = "getTransaction")]
    fn get_transaction(&self, hash: Hash) -> RpcResult<L2TxStatus>;

    /// An account, in the sequencer's state or the one derived from the L1.
    #[method(name = "getAccount")]
    fn get_account(&self, account: AccountRef) -> RpcResult<L2AccountInfo>;

    /// A sequencer block.
    #[method(name = "getBlock")]
    fn get_block(&self, number: BlockNumber) -> RpcResult<L2BlockInfo>;

    /// A withdrawal's claim, or why it is not ready.
    #[method(name = "getWithdrawalProof")]
    fn get_withdrawal_proof(&self, withdrawal: WithdrawalRef) -> RpcResult<WithdrawalProof>;
}

/// A sequencer's WebSocket subscriptions.
#[rpc(server, client, namespace = "l2")]
pub trait L2Subscriptions {
    /// Each block as the sequencer makes it (`l2_block` notifications).
    #[subscription(name = "subscribeBlocks" => "block", unsubscribe = "unsubscribeBlocks", item = L2BlockInfo)]
    async fn subscribe_blocks(&self) -> SubscriptionResult;
}
