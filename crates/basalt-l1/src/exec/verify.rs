//! Verifying a proposed block: its link, proposer and signatures, then every header field
//! against re-execution.

use super::{BlockBuilder, BlockError, ExecutedBlock};
use crate::block::{Block, Header};
use crate::tx::{verify_all, VerifiedTx};
use crate::view::{StateRead, StateView};

/// Verifies a proposed block on top of a view: link, timestamp, proposer, every signature and
/// transaction, and every header field against re-execution.
pub fn verify_block(view: &StateView<'_>, block: &Block) -> Result<ExecutedBlock, BlockError> {
    let verified = verify_all(block.txs.clone())
        .map_err(|(index, err)| BlockError::BadSignature { index, err })?;
    verify_block_with(view, &block.header, &verified)
}

/// As [`verify_block`], for transactions whose signatures were already checked.
pub fn verify_block_with(
    view: &StateView<'_>,
    header: &Header,
    txs: &[VerifiedTx],
) -> Result<ExecutedBlock, BlockError> {
    check_link(view, header)?;
    let mut builder = BlockBuilder::new(view);
    for (index, tx) in txs.iter().enumerate() {
        builder
            .apply(tx)
            .map_err(|err| BlockError::InvalidTx { index, err })?;
    }
    finish_as(builder, header, txs.len())
}

/// Finishes a block of `txs` transactions as `header` says it was made, and holds the result
/// to that header.
pub(super) fn finish_as(
    builder: BlockBuilder<'_>,
    header: &Header,
    txs: usize,
) -> Result<ExecutedBlock, BlockError> {
    let executed = builder
        .finish(header.timestamp_ms, header.proposer)
        .map_err(|err| BlockError::InvalidTx { index: txs, err })?;
    check_header(&executed.block.header, header)?;
    Ok(executed)
}

/// Whether `header` extends the view's head: parent, height, chain, a later timestamp, and a
/// proposer of the committee.
pub(super) fn check_link(view: &StateView<'_>, header: &Header) -> Result<(), BlockError> {
    let parent = view.head();
    if header.parent != parent.hash() {
        return Err(BlockError::BadLink("parent hash"));
    }
    if header.height != parent.height + 1 {
        return Err(BlockError::BadLink("height"));
    }
    if header.chain_id != view.base().chain_id() {
        return Err(BlockError::BadLink("chain id"));
    }
    if header.timestamp_ms <= parent.timestamp_ms {
        return Err(BlockError::NonIncreasingTimestamp {
            parent: parent.timestamp_ms,
            got: header.timestamp_ms,
        });
    }
    if !view.committee().contains(&header.proposer) {
        return Err(BlockError::UnknownProposer(header.proposer));
    }
    Ok(())
}

/// Whether the header re-execution made (`h`) is the proposed one, field by field.
pub(super) fn check_header(h: &Header, header: &Header) -> Result<(), BlockError> {
    let fields: [(&'static str, bool); 8] = [
        ("state_root", h.state_root == header.state_root),
        ("tx_root", h.tx_root == header.tx_root),
        ("blob_root", h.blob_root == header.blob_root),
        ("receipts_root", h.receipts_root == header.receipts_root),
        ("gas_used", h.gas_used == header.gas_used),
        (
            "base_fee_per_gas",
            h.base_fee_per_gas == header.base_fee_per_gas,
        ),
        ("blob_bytes", h.blob_bytes == header.blob_bytes),
        ("blob_base_fee", h.blob_base_fee == header.blob_base_fee),
    ];
    if let Some((name, _)) = fields.iter().find(|(_, ok)| !ok) {
        return Err(BlockError::HeaderMismatch(name));
    }
    debug_assert_eq!(h, header);
    Ok(())
}
