//! Block execution: the one implementation of the L1's rules, used to build proposals, to verify
//! them and to dry-run an action. The builder ([`BlockBuilder`]) reads through a
//! [`BlockOverlay`], its parent's view with the block's own changes on top; each action's rule
//! lives with its kind: staking and transfers in [`dispatch`], the bridge in [`crate::bridge`],
//! the dispute game in [`crate::dispute`].

mod builder;
mod dispatch;
mod error;
mod fees;
mod overlay;
mod parallel;
mod precheck;
mod verify;

pub(crate) use builder::{balance_after, BatchTxs};
pub use builder::{BlockBuilder, ExecutedBlock};
pub use error::{ActionFailure, BlockError, PrecheckError, TxError};
pub use fees::{check_tx, child_fees, max_cost, next_base_fee};
pub use overlay::BlockOverlay;
pub(crate) use overlay::Changes;
pub use parallel::{verify_block_threads, verify_block_with_threads, worth as threads_worth};
pub use precheck::{estimate_gas, precheck_action};
pub use verify::{verify_block, verify_block_with};
