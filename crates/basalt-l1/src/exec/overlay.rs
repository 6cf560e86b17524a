//! The state a block reads while it is built: its parent's view with the block's changes on top.

use crate::bridge::RollupDiff;
use crate::state::{Account, L1State, StoredBlob};
use crate::view::{Layer, StateRead, StateView};
use basalt_types::PublicKey;
use std::collections::BTreeMap;

/// What a block has changed so far: the layer it adds on its parent's view.
#[derive(Default)]
pub(crate) struct Changes {
    /// Accounts written, with their current values.
    pub accounts: BTreeMap<PublicKey, Account>,
    /// Accounts created, in index order.
    pub new_accounts: Vec<PublicKey>,
    /// Blobs posted.
    pub blobs: Vec<StoredBlob>,
    /// Rollups registered or changed.
    pub rollups: BTreeMap<u32, RollupDiff>,
}

/// A parent's view with one block's changes so far on top.
pub struct BlockOverlay<'a> {
    view: &'a StateView<'a>,
    changes: &'a Changes,
}

impl<'a> BlockOverlay<'a> {
    pub(crate) fn new(view: &'a StateView<'a>, changes: &'a Changes) -> Self {
        BlockOverlay { view, changes }
    }
}

impl StateRead for BlockOverlay<'_> {
    fn base(&self) -> &L1State {
        self.view.base()
    }

    fn layers(&self) -> impl DoubleEndedIterator<Item = Layer<'_>> + Clone {
        let top = Layer {
            accounts: &self.changes.accounts,
            new_accounts: self.changes.new_accounts.len(),
            blobs: &self.changes.blobs,
            rollups: &self.changes.rollups,
        };
        self.view.layers().chain(std::iter::once(top))
    }
}
