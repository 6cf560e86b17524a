//! A client of the L1 JSON-RPC API (`docs/rpc.md`), for rollup nodes and wallets: the calls of
//! [`basalt_rpc::L1ApiClient`], with the checks a party that acts on the answers needs.
//!
//! The L1 endpoint is not trusted for more than it can prove: every answer is parsed into the
//! API's types with bounded sizes, pages must hold the items asked for, a claim tree must hash
//! to its record's digest, and a blob is accepted only if it hashes to the data hash the L1
//! committed to.

use crate::l1source::{HttpSource, L1Source};
use basalt_l1::{blob_hash, Action, Claim, ClaimTree, Dispute, Rules, Transaction};
use basalt_rpc::{HexBytes, L1ApiClient};
use basalt_types::{Decode, Encode, Hash, Keypair, PublicKey};
use jsonrpsee::core::client::Error as ClientError;

mod answers;
pub use answers::*;

/// Most items one list request returns (the L1's page size).
pub const PAGE: u64 = 1_000;
/// Most claims of one tree this client assembles from its pages (about 200 MB in memory): far
/// more than any adversary can afford in bonds on a devnet, and refused with a clear error
/// rather than buffered beyond it.
pub const MAX_TREE_CLAIMS: u64 = 1_000_000;

/// Why an L1 request failed.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The URL is not usable.
    #[error("bad L1 RPC URL {url:?}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The node answered with an error.
    #[error("{method}: {message}")]
    Refused {
        /// The method.
        method: &'static str,
        /// The node's message.
        message: String,
    },
    /// The node could not be reached or did not answer in time.
    #[error("{method} at {url}: {reason} (is an L1 node running there?)")]
    Unreachable {
        /// The method.
        method: &'static str,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The answer does not have the documented shape.
    #[error("{method}: unexpected answer: {reason}")]
    Malformed {
        /// The method.
        method: &'static str,
        /// Why.
        reason: String,
    },
    /// A blob does not hash to the data hash the L1 committed to.
    #[error("blob {expected} from the L1 node hashes to {got}: the node is faulty or lying")]
    BlobMismatch {
        /// The committed hash.
        expected: Hash,
        /// The hash of what the node sent.
        got: Hash,
    },
}

/// The priority fee a gas this client offers at a base fee of `base_fee`: as much again, up to
/// 1 gwei.
pub fn priority_tip(base_fee: u64) -> u64 {
    1_000_000_000u64.min(base_fee)
}

/// A typed client of one L1 JSON-RPC endpoint.
#[derive(Clone)]
pub struct L1Client<S = HttpSource> {
    source: S,
}

impl L1Client {
    /// A client of the node at `url` (`http://host:port`).
    pub fn new(url: &str) -> Result<Self, L1Error> {
        Ok(L1Client {
            source: HttpSource::new(url)?,
        })
    }
}

impl<S: L1Source> L1Client<S> {
    /// A client of `source`.
    pub fn with_source(source: S) -> Self {
        L1Client { source }
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        self.source.url()
    }

    /// The error of a failed call of `method`: refused by the node, not understood, or not
    /// answered.
    fn fail(&self, method: &'static str, e: ClientError) -> L1Error {
        match e {
            ClientError::Call(obj) => L1Error::Refused {
                method,
                message: basalt_rpc::error_text(&obj),
            },
            ClientError::ParseError(e) => L1Error::Malformed {
                method,
                reason: e.to_string(),
            },
            other => L1Error::Unreachable {
                method,
                url: self.url().to_string(),
                reason: other.to_string(),
            },
        }
    }

    /// Chain id, finalized height, next fees and parameters.
    pub async fn chain_info(&self) -> Result<ChainInfo, L1Error> {
        let r = self.source.chain_info().await;
        r.map_err(|e| self.fail("l1_chainInfo", e))
    }

    /// A rollup's registry entry and counters.
    pub async fn rollup(&self, which: &RollupRef) -> Result<RollupInfo, L1Error> {
        let r = self.source.get_rollup(which.clone()).await;
        r.map_err(|e| self.fail("l1_getRollup", e))
    }

    /// Up to [`PAGE`] registered rollups from id `from`.
    pub async fn rollups(&self, from: u32) -> Result<Vec<RollupInfo>, L1Error> {
        let r = self.source.rollups(Some(from as u64), Some(PAGE)).await;
        r.map_err(|e| self.fail("l1_rollups", e))
    }

    /// Up to [`PAGE`] deposits of rollup `id` from queue index `from`.
    pub async fn deposits(&self, id: u32, from: u64) -> Result<Vec<DepositInfo>, L1Error> {
        let r = self
            .source
            .get_rollup_deposits(id.into(), from, Some(PAGE))
            .await;
        let page = r.map_err(|e| self.fail("l1_getRollupDeposits", e))?;
        check_indices("l1_getRollupDeposits", from, page.iter().map(|d| d.index))?;
        Ok(page)
    }

    /// The first `count` queued items of rollup `id` (fewer if the L1 holds fewer), page by page.
    pub async fn all_deposits(&self, id: u32, count: u64) -> Result<Vec<DepositInfo>, L1Error> {
        let mut all = Vec::new();
        while (all.len() as u64) < count {
            let page = self.deposits(id, all.len() as u64).await?;
            if page.is_empty() {
                break;
            }
            all.extend(page);
        }
        all.truncate(count as usize);
        Ok(all)
    }

    /// The first `count` batches of rollup `id` (fewer if the L1 holds fewer), page by page.
    pub async fn all_batches(&self, id: u32, count: u64) -> Result<Vec<BatchInfo>, L1Error> {
        let mut all = Vec::new();
        while (all.len() as u64) < count {
            let page = self.batches(id, all.len() as u64).await?;
            if page.is_empty() {
                break;
            }
            all.extend(page);
        }
        all.truncate(count as usize);
        Ok(all)
    }

    /// Up to [`PAGE`] batches of rollup `id` from batch `from`.
    pub async fn batches(&self, id: u32, from: u64) -> Result<Vec<BatchInfo>, L1Error> {
        let r = self
            .source
            .get_rollup_batches(id.into(), from, Some(PAGE))
            .await;
        let page = r.map_err(|e| self.fail("l1_getRollupBatches", e))?;
        check_indices("l1_getRollupBatches", from, page.iter().map(|b| b.index))?;
        Ok(page)
    }

    /// Up to [`PAGE`] outputs of rollup `id` from batch `from`.
    pub async fn outputs(&self, id: u32, from: u64) -> Result<Vec<OutputInfo>, L1Error> {
        let r = self
            .source
            .get_rollup_outputs(id.into(), from, Some(PAGE))
            .await;
        let page = r.map_err(|e| self.fail("l1_getRollupOutputs", e))?;
        check_indices("l1_getRollupOutputs", from, page.iter().map(|o| o.batch))?;
        Ok(page)
    }

    /// Proposal `proposal` of rollup `id`, removed ones included, with its status.
    pub async fn output(&self, id: u32, proposal: u64) -> Result<OutputInfo, L1Error> {
        let r = self.source.get_output(id.into(), proposal).await;
        let o = r.map_err(|e| self.fail("l1_getOutput", e))?;
        if o.proposal != proposal {
            return Err(L1Error::Malformed {
                method: "l1_getOutput",
                reason: format!("asked for proposal {proposal}, got {}", o.proposal),
            });
        }
        Ok(o)
    }

    /// Up to [`PAGE`] proposals of rollup `id` from proposal `from`, competing ones included.
    pub async fn proposals(&self, id: u32, from: u64) -> Result<Vec<OutputInfo>, L1Error> {
        let r = self.source.get_proposals(id.into(), from, Some(PAGE)).await;
        let page = r.map_err(|e| self.fail("l1_getProposals", e))?;
        check_indices("l1_getProposals", from, page.iter().map(|o| o.proposal))?;
        Ok(page)
    }

    /// Up to [`PAGE`] ids of unresolved proposals of rollup `id`, from id `from` on.
    pub async fn unresolved(&self, id: u32, from: u64) -> Result<Vec<u64>, L1Error> {
        let r = self
            .source
            .list_unresolved(id.into(), from, Some(PAGE))
            .await;
        let ids = r.map_err(|e| self.fail("l1_listUnresolved", e))?;
        if ids.first().is_some_and(|f| *f < from) || ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(L1Error::Malformed {
                method: "l1_listUnresolved",
                reason: "ids out of order".into(),
            });
        }
        Ok(ids)
    }

    /// The claim tree of proposal `proposal` of rollup `id`, read in bounded pages; the claims
    /// must be a valid tree that hashes to the record's digest (claims are append-only, so pages
    /// read across blocks agree). A tree of more than [`MAX_TREE_CLAIMS`] claims is refused
    /// rather than buffered.
    pub async fn tree(&self, id: u32, proposal: u64) -> Result<(Dispute, ClaimTree), L1Error> {
        let bad = |reason: String| L1Error::Malformed {
            method: "l1_getClaims",
            reason,
        };
        let r = self.source.get_dispute(id.into(), proposal).await;
        let d = r.map_err(|e| self.fail("l1_getDispute", e))?;
        if d.proposal != proposal {
            return Err(bad(format!(
                "asked for proposal {proposal}, got {}",
                d.proposal
            )));
        }
        if d.claims > MAX_TREE_CLAIMS {
            return Err(bad(format!(
                "proposal {proposal}'s tree holds {} claims, more than this client reads ({MAX_TREE_CLAIMS})",
                d.claims
            )));
        }
        let mut claims = Vec::with_capacity(d.claims as usize);
        while (claims.len() as u64) < d.claims {
            let from = claims.len() as u64;
            let r = self
                .source
                .get_claims(id.into(), proposal, from, Some(PAGE))
                .await;
            let p = r.map_err(|e| self.fail("l1_getClaims", e))?;
            if p.from != from || p.total < d.claims || p.claims.is_empty() {
                return Err(bad(format!("a page from {from} of {} claims", d.claims)));
            }
            for c in p.claims.into_iter().take((d.claims - from) as usize) {
                claims.push(Claim::from_bytes(&c.data.0).map_err(|e| bad(e.to_string()))?);
            }
        }
        let record = Dispute {
            proposal,
            batch: d.batch,
            rules: Rules {
                depth: d.depth,
                steps: d.steps,
                prior: d.prior,
                max_clock: d.max_clock,
                extension: d.clock_extension,
            },
            claims: d.claims as u32,
            claims_digest: d.claims_digest,
            resolvable_at: d.resolves_at,
            result: None,
        };
        if Dispute::digest_of(&claims) != record.claims_digest {
            return Err(bad("the claims do not hash to the dispute's digest".into()));
        }
        let tree = ClaimTree::from_claims(record.rules, claims).map_err(|e| bad(e.into()))?;
        Ok((record, tree))
    }

    /// The blob with hash `hash`, checked against it.
    pub async fn blob(&self, hash: &Hash) -> Result<Vec<u8>, L1Error> {
        let r = self.source.get_blob(*hash).await;
        let data = r.map_err(|e| self.fail("l1_getBlob", e))?.data.0;
        let got = blob_hash(&data);
        if got != *hash {
            return Err(L1Error::BlobMismatch {
                expected: *hash,
                got,
            });
        }
        Ok(data)
    }

    /// An account's balance and nonces.
    pub async fn account(&self, key: &PublicKey) -> Result<AccountInfo, L1Error> {
        let r = self.source.get_account(*key).await;
        r.map_err(|e| self.fail("l1_getAccount", e))
    }

    /// Whether withdrawal `index` of rollup `id` was paid.
    pub async fn withdrawal_claimed(&self, id: u32, index: u64) -> Result<bool, L1Error> {
        let r = self.source.is_withdrawal_claimed(id.into(), index).await;
        r.map_err(|e| self.fail("l1_isWithdrawalClaimed", e))
    }

    /// Where a transaction is.
    pub async fn tx_status(&self, hash: &Hash) -> Result<L1TxStatus, L1Error> {
        let r = self.source.get_transaction(*hash).await;
        let info = r.map_err(|e| self.fail("l1_getTransaction", e))?;
        if info.hash != *hash {
            return Err(L1Error::Malformed {
                method: "l1_getTransaction",
                reason: format!("asked about {hash}, got {}", info.hash),
            });
        }
        Ok(info.status)
    }

    /// Signs `action` with `key` at its next nonce, with fees that leave room for the base fee to
    /// double, and submits it. Returns the transaction hash.
    /// A batch post is priced as a ZK one when its data decodes as a ZK batch.
    pub async fn submit(&self, key: &Keypair, action: Action) -> Result<Hash, L1Error> {
        let nonce = self.account(&key.public()).await?.pending_nonce;
        let zk = matches!(&action, Action::PostBatch { data, .. } if basalt_l2::decode_zk_batch(data).is_ok());
        self.submit_at(key, action, nonce, zk).await
    }

    /// The gas `key`'s `action` would use now, as the node estimates it on its finalized state.
    pub async fn estimate_gas(&self, key: &PublicKey, action: &Action) -> Result<u64, L1Error> {
        let r = self
            .source
            .estimate_gas(*key, HexBytes(action.to_bytes()))
            .await;
        r.map_err(|e| self.fail("l1_estimateGas", e))
    }

    /// The gas limit to send `action` with: the most it can use when the action alone says so, else
    /// the node's estimate with headroom for the state to change before inclusion, at most the
    /// block's gas limit.
    /// `zk_posts`: a batch post is a ZK rollup's, charged its ZK work (known from the action alone).
    pub async fn gas_limit(
        &self,
        key: &Keypair,
        action: &Action,
        block_gas_limit: u64,
        zk_posts: bool,
    ) -> Result<u64, L1Error> {
        if zk_posts && matches!(action, Action::PostBatch { .. }) {
            return Ok(basalt_l1::gas::zk_post_limit(action).min(block_gas_limit));
        }
        if let Some(limit) = basalt_l1::gas::known_limit(action) {
            return Ok(limit.min(block_gas_limit));
        }
        if let Action::ProposeOutput { rollup, batch, .. } = action {
            // Known before it runs: its own gas and its batch's decode. Not estimated, so that
            // a proposal on a prior still in flight (the proposal of the batch before it, sent
            // at the nonce before) is priced as it will run.
            let r = self
                .source
                .get_rollup_batches((*rollup).into(), *batch, Some(1))
                .await;
            let one = r.map_err(|e| self.fail("l1_getRollupBatches", e))?;
            if let Some(b) = one.first().filter(|b| b.index == *batch) {
                let gas =
                    action.intrinsic_gas() + basalt_l1::gas::batch_decode(b.raw_bytes, b.steps);
                return Ok(basalt_l1::gas::limit_with_headroom(gas, block_gas_limit));
            }
        }
        let estimate = self.estimate_gas(&key.public(), action).await?;
        Ok(basalt_l1::gas::limit_with_headroom(
            estimate,
            block_gas_limit,
        ))
    }

    /// Like [`L1Client::submit`] at a given nonce: re-sending an action at its first nonce, with
    /// fresh fees, can never have it included twice.
    /// `zk_posts` as for [`L1Client::gas_limit`].
    pub async fn submit_at(
        &self,
        key: &Keypair,
        action: Action,
        nonce: u64,
        zk_posts: bool,
    ) -> Result<Hash, L1Error> {
        let info = self.chain_info().await?;
        let tip = priority_tip(info.next_base_fee_per_gas);
        let gas_limit = self
            .gas_limit(key, &action, info.params.block_gas_limit, zk_posts)
            .await?;
        let tx = Transaction {
            chain_id: info.chain_id,
            nonce,
            max_fee_per_gas: info
                .next_base_fee_per_gas
                .saturating_mul(2)
                .saturating_add(tip),
            priority_fee_per_gas: tip,
            gas_limit,
            action,
        }
        .sign(key);
        let r = self.source.send_transaction(HexBytes(tx.to_bytes())).await;
        r.map_err(|e| self.fail("l1_sendTransaction", e))
    }
}

/// Checks that a page holds consecutive indices from `from`.
fn check_indices(
    method: &'static str,
    from: u64,
    indices: impl Iterator<Item = u64>,
) -> Result<(), L1Error> {
    for (i, index) in indices.enumerate() {
        if index != from + i as u64 {
            return Err(L1Error::Malformed {
                method,
                reason: format!("item {i} has index {index}, expected {}", from + i as u64),
            });
        }
    }
    Ok(())
}
