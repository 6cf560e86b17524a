//! The L1's answers as a rollup node and a wallet read them: the API's types
//! ([`basalt_rpc::l1`]), and what a rollup node decodes from them.

use super::L1Error;
use basalt_l2::{DepositEntry, L2Tx, Optimistic, Zk};
use basalt_types::zk::BabyPublicKey;
use basalt_types::{Decode, Hash};

pub use basalt_rpc::l1::{
    AccountInfo, BatchInfo, ChainInfo, DepositInfo, DisputeInfo, L1TxStatus, OutputInfo,
    RollupInfo, RollupParamsInfo, ZkParamsInfo,
};
pub use basalt_rpc::RollupRef;

/// The fee account's key of a ZK rollup, checked to be a point of the prime-order subgroup.
pub fn fee_key(z: &ZkParamsInfo) -> Result<BabyPublicKey, L1Error> {
    BabyPublicKey::from_bytes(&z.fee_key.0).map_err(|_| L1Error::Malformed {
        method: "l1_getRollup",
        reason: format!("feeKey {} is not a BabyJubJub key", z.fee_key.to_hex()),
    })
}

/// What a rollup node reads from a queue item.
pub trait QueueItem {
    /// The own hash of the forced transaction in this place (by which the L2 nodes know it), on
    /// a rollup of kind `zk` or not; `None` for a deposit.
    fn forced_hash(&self, zk: bool) -> Result<Option<Hash>, L1Error>;

    /// The entry an optimistic rollup applies, with its forced transaction decoded.
    fn entry(&self) -> Result<DepositEntry<Optimistic>, L1Error>;

    /// The entry a ZK rollup applies: its key bytes as a BabyJubJub key (the L1 checked them
    /// when it queued the item).
    fn zk_entry(&self) -> Result<DepositEntry<Zk>, L1Error>;
}

/// The forced transaction in queue item `d`, decoded for profile `P`.
fn forced<P: basalt_l2::Profile>(d: &DepositInfo) -> Result<Option<L2Tx<P>>, L1Error> {
    let Some(h) = &d.forced else {
        return Ok(None);
    };
    L2Tx::<P>::from_bytes(&h.0)
        .map(Some)
        .map_err(|_| L1Error::Malformed {
            method: "l1_getRollupDeposits",
            reason: format!("deposit {} holds no forced transaction", d.index),
        })
}

impl QueueItem for DepositInfo {
    fn forced_hash(&self, zk: bool) -> Result<Option<Hash>, L1Error> {
        Ok(match zk {
            false => forced::<Optimistic>(self)?.map(|t| t.hash()),
            true => forced::<Zk>(self)?.map(|t| t.hash()),
        })
    }

    fn entry(&self) -> Result<DepositEntry<Optimistic>, L1Error> {
        Ok(DepositEntry {
            forced: forced(self)?,
            account: self.account,
            key: self.key,
            amount: self.amount,
        })
    }

    fn zk_entry(&self) -> Result<DepositEntry<Zk>, L1Error> {
        Ok(DepositEntry {
            forced: forced(self)?,
            account: self.account,
            key: basalt_l1::zk_key(&self.key).ok_or_else(|| L1Error::Malformed {
                method: "l1_getRollupDeposits",
                reason: format!("deposit {} holds no BabyJubJub key", self.index),
            })?,
            amount: self.amount,
        })
    }
}
