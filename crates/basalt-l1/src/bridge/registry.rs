//! Registering a rollup.

use super::{RollupDiff, RollupError, RollupHeader, RollupParams};
use crate::exec::BlockBuilder;
use crate::view::StateRead;

impl BlockBuilder<'_> {
    pub(crate) fn register_rollup(&mut self, params: &RollupParams) -> Result<(), RollupError> {
        params.validate()?;
        // A batch's data must outlive every tree over it: proposed within a window of the post,
        // each resolves within the dispute bound.
        let needed = params
            .dispute_horizon()
            .saturating_add(params.challenge_window);
        if needed >= self.params.blob_retention_blocks {
            return Err(RollupError::BadParams(
                "three challenge windows plus 16 clock extensions must be shorter than the blob retention",
            ));
        }
        if self.state().rollup_name_taken(&params.name) {
            return Err(RollupError::NameTaken(params.name.clone()));
        }
        let id =
            u32::try_from(self.state().rollup_count()).map_err(|_| RollupError::RegistryFull)?;
        self.changes.rollups.insert(
            id,
            RollupDiff::new(RollupHeader::new(id, params.clone(), self.height)),
        );
        Ok(())
    }
}
