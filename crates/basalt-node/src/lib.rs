//! The Basalt L1 validator node: a thin shell around the pure `basalt-l1` state machine.
//!
//! - [`chain`]: finalized state, executed-but-unfinalized blocks, mempool and transaction status.
//! - [`mempool`]: the bounded transaction pool.
//! - [`store`]: durable state in redb, one atomic commit per finalized block.
//! - [`rpc`]: the JSON-RPC API.
//! - [`local`]: a single-process L1 with that API, for tests and labs.
//! - [`simnet`]: validators on a simulated network in simulated time.

pub mod chain;
pub mod consensus;
pub mod devnet;
pub mod local;
pub mod mempool;
pub mod metrics;
pub mod net;
pub mod rpc;
pub mod simnet;
pub mod store;
pub mod validator;
