//! The way out that needs no L2 node: the last settled state of a rollup rebuilt from L1 data
//! alone (its deposit queue, its posted blobs and its settled outputs), with the same derivations a
//! verifier runs, from which a user proves an exit from a frozen rollup.
//!
//! The blobs must still be retained by the L1 (or kept by someone): a rollup's data is its users'
//! way out, which is why the risk view reports the retention beside the dispute bound.

use crate::l1client::QueueItem;
use crate::l1client::{L1Client, L1Error, RollupInfo};
use crate::l1source::L1Source;
use crate::{Derivation, NodeError, ZkDerivation};
use basalt_l1::{felt_hash, ExitClaim, SettledState};
use basalt_l2::{Config, L2State, L2Tx, Optimistic, Zk};
use basalt_types::{Hash, PublicKey};

/// The last settled L2 state of a rollup, of either kind.
pub enum SettledL2 {
    /// An optimistic rollup's.
    Optimistic(L2State<Optimistic>),
    /// A ZK rollup's.
    Zk(L2State<Zk>),
}

impl SettledL2 {
    /// Its commitment as the L1 carries it: what exits and refunds are checked against.
    pub fn settled_state(&self) -> SettledState {
        match self {
            SettledL2::Optimistic(s) => SettledState::of(&s.commitment(), |h| *h),
            SettledL2::Zk(s) => SettledState::of(&s.commitment(), |f| felt_hash(*f)),
        }
    }

    /// The index and balance of the first account whose L2 key is `key` (32 bytes: an ed25519
    /// key, or a packed BabyJubJub point).
    pub fn account_of(&self, key: &[u8; 32]) -> Option<(u32, u128)> {
        fn find<P: basalt_l2::Profile>(s: &L2State<P>, key: &[u8; 32]) -> Option<(u32, u128)> {
            use basalt_types::Encode;
            s.accounts()
                .iter()
                .position(|a| a.key.to_bytes() == key)
                .map(|i| (i as u32, s.accounts()[i].balance))
        }
        match self {
            SettledL2::Optimistic(s) => find(s, key),
            SettledL2::Zk(s) => find(s, key),
        }
    }

    /// The exit of account `index` to `recipient`, signed with the L2 key of the L1 key `kp` (on a
    /// ZK rollup, the BabyJubJub key derived from it).
    pub fn exit(
        &self,
        index: u32,
        recipient: PublicKey,
        kp: &basalt_types::Keypair,
    ) -> Option<ExitClaim> {
        match self {
            SettledL2::Optimistic(s) => {
                let id = s.config().rollup_id;
                ExitClaim::build(
                    s,
                    index,
                    recipient,
                    basalt_types::Signature([0; 64]),
                    |h: &Hash| *h,
                    |tx: L2Tx<Optimistic>| tx.signed(id, kp),
                )
            }
            SettledL2::Zk(s) => {
                let id = s.config().rollup_id;
                let baby = basalt_types::zk::BabyKeypair::of_l1_key(kp);
                ExitClaim::build(
                    s,
                    index,
                    recipient,
                    basalt_l2::unchecked_signature(),
                    |f| felt_hash(*f),
                    |tx: L2Tx<Zk>| tx.signed_zk(id, &baby),
                )
            }
        }
    }
}

/// Rebuilds the last settled state of `rollup` from the L1 behind `client`, calling `progress`
/// with (batches read, batches to read).
pub async fn settled_state<S: L1Source>(
    client: &L1Client<S>,
    rollup: &RollupInfo,
    mut progress: impl FnMut(u64, u64),
) -> Result<SettledL2, NodeError> {
    let config = Config {
        rollup_id: rollup.id,
        min_fee: rollup.params.min_fee,
    };
    let deposits = client.all_deposits(rollup.id, rollup.deposits).await?;
    let batches = client.all_batches(rollup.id, rollup.batches).await?;
    match &rollup.params.zk {
        None => {
            let mut d = Derivation::new(config, rollup.params.sequencer);
            let entries = deposits
                .iter()
                .map(|d| d.entry())
                .collect::<Result<Vec<_>, L1Error>>()?;
            d.add_deposits(entries);
            for b in batches.iter().take(rollup.settled as usize) {
                progress(b.index, rollup.settled);
                let blob = client.blob(&b.data_hash).await?;
                d.apply(b.deposits_end, &blob)?;
            }
            Ok(SettledL2::Optimistic(d.state().clone()))
        }
        Some(zk) => {
            let mut d = ZkDerivation::new(config, crate::l1client::fee_key(zk)?);
            let entries = deposits
                .iter()
                .map(|d| d.zk_entry())
                .collect::<Result<Vec<_>, L1Error>>()?;
            d.add_deposits(entries);
            for b in &batches {
                progress(b.index, rollup.batches);
                let Some(input) = b.proof_input else {
                    return Err(L1Error::Malformed {
                        method: "l1_getRollupBatches",
                        reason: format!("ZK batch {} has no proofInput", b.index),
                    }
                    .into());
                };
                let blob = client.blob(&b.data_hash).await?;
                d.apply_batch(&blob, b.deposits_end, &input)?;
            }
            while d.settled_batches() < rollup.settled {
                let page = client.outputs(rollup.id, d.settled_batches()).await?;
                if page.is_empty() {
                    break;
                }
                for o in page
                    .iter()
                    .take((rollup.settled - d.settled_batches()) as usize)
                {
                    d.settle(o.batch, &o.output)?;
                }
            }
            Ok(SettledL2::Zk(d.settled_state().clone()))
        }
    }
}
