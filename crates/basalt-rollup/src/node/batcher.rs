//! The batcher actor (sequencer only): posts the confirmed transactions not yet posted, a blob
//! at a time, pipelined: the next batch starts where the last one in flight ends, so many are in
//! flight at once and throughput to L1 finality is bounded by the L1's blob capacity, not by one
//! post per finality round. Each post names the number it takes, so if one fails the later ones
//! fail too (the L1 refuses a post out of order) and nothing is skipped: the batcher waits for
//! the failed ones to be released, then posts again from the last batch the L1 holds.

use super::*;
use crate::batcher::{batch_candidates, plan_txs};
use basalt_l1::blob_hash;

/// Most batches in flight at once: a few blocks' worth of blob slots (six per block by default).
pub(super) const MAX_BATCHES_IN_FLIGHT: usize = 32;

/// The batcher.
pub(super) struct Batcher<S> {
    shared: Arc<Shared>,
    client: L1Client<S>,
    config: BatcherConfig,
    data_dir: String,
    /// The fault whose data this sequencer posts, and whether it did already.
    #[cfg(feature = "faults")]
    fault: Option<(crate::Fault, bool)>,
    fee_wait_logged: bool,
}

/// Where the next batch starts: its number, its first transaction, the deposit range end
/// before it, and how many batches are in flight.
pub(super) struct Cursor {
    pub index: u64,
    pub from: u64,
    pub deposits_end: u64,
    pub in_flight: usize,
}

impl<S: L1Source> Batcher<S> {
    /// A batcher posting what the node's sequencer confirms.
    pub(super) fn new(
        shared: Arc<Shared>,
        client: L1Client<S>,
        config: BatcherConfig,
        data_dir: String,
    ) -> Self {
        #[cfg(feature = "faults")]
        let fault = lock(&shared.view)
            .derivation
            .fault()
            .filter(|f| f.needs_sequencer())
            .map(|f| (f, false));
        Batcher {
            shared,
            client,
            config,
            data_dir,
            #[cfg(feature = "faults")]
            fault,
            fee_wait_logged: false,
        }
    }

    /// FAULT INJECTION: replaces the first batch the fault can misread by the data it misreads.
    #[cfg(feature = "faults")]
    fn mislead(&mut self, data: &mut Vec<u8>) {
        let Some((fault, false)) = self.fault else {
            return;
        };
        if let Some(misleading) = crate::faults::misleading_batch(fault, data) {
            warn!(
                fault = fault.name(),
                "FAULT INJECTION: posting a batch the proposer will misread"
            );
            *data = misleading;
            self.fault = Some((fault, true));
        }
    }

    /// Where the next batch starts, past the batches in flight; `None` while a failed post
    /// waits to be released.
    fn cursor(&self) -> Option<Cursor> {
        let view = lock(&self.shared.view);
        let first = Cursor {
            index: view.rollup.batches,
            from: view.derivation.txs_in_first(view.rollup.batches),
            deposits_end: view.rollup.deposits_end,
            in_flight: 0,
        };
        first.past(&view.in_flight)
    }

    /// Whether transactions from `from` on are due to be posted: enough to fill a batch, or the
    /// oldest waiting long enough.
    fn due(&self, from: u64) -> Result<bool, NodeError> {
        let seq = lock(self.shared.seq.as_ref().expect("a sequencer"));
        due(
            &seq,
            from,
            self.config.max_batch_bytes.div_ceil(EST_TX_BYTES),
            self.config.max_delay_ms,
            &self.data_dir,
        )
    }
}

impl Cursor {
    /// Where the next batch starts past the batches in `in_flight`, from where the L1's batches
    /// end (`self`); `None` while a failed post waits to be released.
    pub(super) fn past(mut self, in_flight: &[Pending]) -> Option<Cursor> {
        for p in in_flight {
            if let Posting::Batch {
                index,
                to,
                deposits_end,
                ..
            } = p.what
            {
                if p.failed {
                    return None;
                }
                // A batch final but not yet read by the follower is still listed here.
                if index >= self.index {
                    self = Cursor {
                        index: index + 1,
                        from: to,
                        deposits_end,
                        in_flight: self.in_flight + 1,
                    };
                }
            }
        }
        Some(self)
    }
}

/// Whether the sequencer's transactions from `from` on are due to be posted: `full` of them
/// waiting, or the oldest waiting `max_delay_ms`. A log behind what the L1 holds is an error:
/// the sequencer lost blocks it posted (`data_dir` names where its log is).
pub(super) fn due<Q: Profile>(
    seq: &Sequencer<Q>,
    from: u64,
    full: u64,
    max_delay_ms: u64,
    data_dir: &str,
) -> Result<bool, NodeError> {
    let logged = seq.next_sequence();
    if from > logged {
        return Err(NodeError::LogBehindL1 {
            posted: from,
            logged,
            dir: data_dir.to_string(),
        });
    }
    let waiting = logged - from;
    if waiting == 0 {
        return Ok(false);
    }
    let oldest = seq.block_at_sequence(from).map_or(0, |b| b.timestamp_ms);
    Ok(waiting >= full.max(1) || now_ms().saturating_sub(oldest) >= max_delay_ms)
}

/// Whether the next blob base fee `fee` is within the batcher's `cap`; says so once while it is
/// not (`logged` remembers), and again after it has been.
pub(super) fn blob_fee_within(fee: u64, cap: u64, logged: &mut bool) -> bool {
    if fee > cap {
        if !*logged {
            info!(
                blob_fee = fee,
                cap, "blob fee above the batcher's cap: waiting"
            );
            *logged = true;
        }
        return false;
    }
    *logged = false;
    true
}

impl<S: L1Source> Planner for Batcher<S> {
    const ROLE: &'static str = "batcher";

    /// The batches due now, each starting where the one before it ends.
    async fn plan(&mut self) -> Result<Vec<(Action, Posting)>, NodeError> {
        let Some(mut c) = self.cursor() else {
            return Ok(Vec::new());
        };
        if c.in_flight >= MAX_BATCHES_IN_FLIGHT || !self.due(c.from)? {
            return Ok(Vec::new());
        }
        let chain = self.client.chain_info().await?;
        let cap = self.config.max_blob_fee;
        if !blob_fee_within(chain.next_blob_base_fee, cap, &mut self.fee_wait_logged) {
            return Ok(Vec::new());
        }
        let max_blob = self.config.max_batch_bytes.min(chain.params.max_blob_bytes) as usize;
        let mut posts = Vec::new();
        while c.in_flight + posts.len() < MAX_BATCHES_IN_FLIGHT && self.due(c.from)? {
            // Compressing a blob takes tens of milliseconds: off the async threads.
            let shared = self.shared.clone();
            let (from, end, compression) = (c.from, c.deposits_end, self.config.compression);
            let plan = tokio::task::spawn_blocking(move || {
                let (txs, waiting) = {
                    let seq = lock(shared.seq.as_ref().expect("a sequencer"));
                    batch_candidates(&seq, from)
                };
                plan_txs(from, txs, waiting, end, max_blob, compression)
            })
            .await
            .map_err(|e| NodeError::Config(format!("batch planning task failed: {e}")))?;
            #[cfg_attr(not(feature = "faults"), allow(unused_mut))]
            let Some(mut plan) = plan
            else {
                break;
            };
            #[cfg(feature = "faults")]
            self.mislead(&mut plan.data);
            self.shared.note_batch(plan.from, plan.to);
            let what = Posting::Batch {
                index: c.index,
                from: plan.from,
                to: plan.to,
                deposits_end: plan.deposits_end,
            };
            posts.push((
                Action::PostBatch {
                    rollup: self.shared.id,
                    index: c.index,
                    data_hash: blob_hash(&plan.data),
                    data: plan.data,
                    deposits_end: plan.deposits_end,
                    max_fee_per_blob_byte: self.config.max_blob_fee,
                },
                what,
            ));
            c.index += 1;
            c.from = plan.to;
            c.deposits_end = plan.deposits_end;
        }
        Ok(posts)
    }
}
