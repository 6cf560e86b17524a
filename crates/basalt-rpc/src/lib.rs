//! Basalt's JSON-RPC APIs, defined once (`docs/rpc.md` is their reference).
//!
//! The `L1Api` trait is what an L1 node serves and `L2Api` what a rollup node serves, each with
//! its subscriptions apart (`L1Subscriptions`, `L2Subscriptions`, WebSocket only), as jsonrpsee
//! `#[rpc]` traits: a node implements the generated [`L1ApiServer`], and any jsonrpsee client
//! (HTTP, WebSocket, or an in-process one) gets the generated [`L1ApiClient`] methods, over the
//! same typed requests and answers. Amounts are decimal strings, bytes, hashes and keys `0x` hex.

mod hex_bytes;
pub mod l1;
mod l1_api;
pub mod l2;
mod l2_api;
mod usage;

pub use hex_bytes::HexBytes;
pub use l1_api::{
    BlockId, L1ApiClient, L1ApiServer, L1SubscriptionsClient, L1SubscriptionsServer, RollupRef,
};
pub use l2_api::{
    AccountRef, BlockNumber, L2ApiClient, L2ApiServer, L2SubscriptionsClient,
    L2SubscriptionsServer, WithdrawalRef,
};
pub use usage::{documented_methods, ParamsUsage};

/// Error code: invalid parameters (JSON-RPC standard).
pub const INVALID_PARAMS: i32 = -32602;
/// Error code: the transaction was refused.
pub const TX_REJECTED: i32 = -32000;
/// Error code: the thing asked for does not exist (or was pruned).
pub const NOT_FOUND: i32 = -32001;
/// Error code: this node does not do that (a verifier asked to sequence).
pub const UNSUPPORTED: i32 = -32002;
/// Error code: the node failed internally.
pub const INTERNAL: i32 = -32603;

/// Most items one list request returns.
pub const MAX_LIST_ITEMS: u64 = 1_000;
/// Most claims one `l1_getClaims` returns (each under 500 bytes of JSON).
pub const MAX_CLAIMS_PER_PAGE: u64 = 1_000;

/// A JSON-RPC error with `code` and `message`.
pub fn error(code: i32, message: impl Into<String>) -> jsonrpsee::types::ErrorObjectOwned {
    jsonrpsee::types::ErrorObject::owned(code, message.into(), None::<()>)
}

/// An [`INVALID_PARAMS`] error that says what was wrong.
pub fn invalid(message: impl Into<String>) -> jsonrpsee::types::ErrorObjectOwned {
    error(INVALID_PARAMS, message)
}

/// What a failed call says: its message, and the detail a parameter error carries in `data`.
pub fn error_text(e: &jsonrpsee::types::ErrorObjectOwned) -> String {
    match e.data() {
        Some(d) => format!(
            "{}: {}",
            e.message(),
            serde_json::from_str::<String>(d.get()).unwrap_or_else(|_| d.get().to_string())
        ),
        None => e.message().to_string(),
    }
}
