//! The prover (sequencer only): proves each posted batch in order from the sequencer's signed
//! transactions, in a blocking worker so that sequencing never waits for it, and settles it with a
//! `ProveBatch`. It pipelines: the next batch is proven on the state the last proof reached while
//! that proof is still on its way to L1. Every proof is saved under `proofs/` before it is sent,
//! so a restart sends the proofs it has instead of making them again; a proof lost or failed on
//! L1 sends the prover back to the settled state.

use super::*;
use crate::l1client::ZkParamsInfo;
use basalt_l1::felt_hash;
use basalt_l2::{DepositWindow, L2State, PostedTx};
use basalt_zk::batch::BatchWitness;

/// Bytes of a saved proof: the output it proves, then the proof.
const SAVED_BYTES: usize = 32 + basalt_zk::PROOF_BYTES;

/// Where the prover stands, for the log and `l2_chainInfo`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProverStatus {
    /// The next batch it proves.
    pub next: u64,
    /// The batch being proven, and since when.
    pub proving: Option<(u64, Instant)>,
    /// Batches this node proved since it started, and the seconds they took in all.
    pub proven: u64,
    pub seconds: f64,
    /// Proofs read back from disk instead of made again.
    pub reused: u64,
    /// Why proving stopped, if it did.
    pub error: Option<String>,
}

impl ProverStatus {
    /// Mean seconds per proof so far.
    pub fn mean_seconds(&self) -> Option<f64> {
        (self.proven > 0).then(|| self.seconds / self.proven as f64)
    }
}

/// The prover of the rollup's circuit: its keys from the cache (or the development setup, made and
/// cached now), checked against the key the rollup registered, and its constraint matrices.
pub(super) async fn load_prover(
    cfg: &NodeConfig,
    zk: &ZkParamsInfo,
) -> Result<Arc<basalt_zk::Prover>, NodeError> {
    let dir = cfg
        .zk_keys
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join("zk-keys"));
    let slots = zk.slots as usize;
    let registered = zk.verifying_key_hash;
    tokio::task::spawn_blocking(move || {
        let cache = basalt_zk::keys::KeyCache::new(&dir);
        let keys = cache
            .load_or_setup(slots, |path| {
                warn!(
                    slots,
                    path = %path.display(),
                    "no cached proving key: running the DEVELOPMENT setup (insecure, devnet only: its randomness is public, so anyone can forge proofs); this takes a while"
                )
            })
            .map_err(|e| NodeError::Prover(e.to_string()))?;
        basalt_zk::keys::check_registered(&keys, &registered)
            .map_err(|e| NodeError::Prover(e.to_string()))?;
        let prover = basalt_zk::batch::batch_prover(keys.proving, slots)
            .map_err(|e| NodeError::Prover(e.to_string()))?;
        Ok(Arc::new(prover))
    })
    .await
    .map_err(|e| NodeError::Prover(format!("key loading task failed: {e}")))?
}

/// The prover.
pub(super) struct Prover {
    shared: Arc<ZkShared>,
    prover: Arc<basalt_zk::Prover>,
    dir: PathBuf,
    /// The state before batch `next`: the settled state, advanced by every proof made since
    /// (`None` only while a proof is being made on it).
    state: Option<L2State<Zk>>,
    next: u64,
    /// Saved proofs below this batch are removed (their batches settled).
    cleaned: u64,
}

impl Prover {
    /// A prover saving its proofs in `dir`.
    pub(super) fn new(shared: Arc<ZkShared>, prover: Arc<basalt_zk::Prover>, dir: PathBuf) -> Self {
        let (state, next) = {
            let view = lock(&shared.view);
            let d = &view.derivation;
            (d.settled_state().clone(), d.settled_batches())
        };
        Prover {
            shared,
            prover,
            dir,
            state: Some(state),
            next,
            cleaned: 0,
        }
    }

    fn path(&self, batch: u64) -> PathBuf {
        self.dir.join(format!("batch-{batch}.proof"))
    }

    /// The saved proof of `batch`, if there is one for `output`.
    fn saved(&self, batch: u64, output: &Hash) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path(batch)).ok()?;
        (bytes.len() == SAVED_BYTES && bytes[..32] == output.0).then(|| bytes[32..].to_vec())
    }

    /// Saves the proof of `batch` atomically (a crash leaves no half-written proof).
    fn save(&self, batch: u64, output: &Hash, proof: &[u8]) -> Result<(), NodeError> {
        let io = |e: std::io::Error| {
            NodeError::Prover(format!("saving a proof in {}: {e}", self.dir.display()))
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let path = self.path(batch);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, [&output.0[..], proof].concat()).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    /// Removes the saved proofs of settled batches.
    fn clean(&mut self, settled: u64) {
        if self.cleaned == 0 && settled > 0 {
            // After a restart: whatever an earlier run left, in one pass over the directory.
            for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
                let name = entry.file_name();
                let batch = name.to_str().and_then(|n| {
                    n.strip_prefix("batch-")?
                        .strip_suffix(".proof")?
                        .parse()
                        .ok()
                });
                if batch.is_some_and(|b: u64| b < settled) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            self.cleaned = settled;
        }
        while self.cleaned < settled {
            let _ = std::fs::remove_file(self.path(self.cleaned));
            self.cleaned += 1;
        }
    }

    /// Sets `self.next` and `self.state` from what the L1 holds and what is in flight: back to
    /// the settled state if a proof sent since was lost or failed, or if the L1 settled past us.
    /// `None` while a failed proof waits to be released.
    fn position(&mut self) -> Option<()> {
        let view = lock(&self.shared.view);
        let d = &view.derivation;
        let settled = d.settled_batches();
        let mut sent = settled;
        for p in &view.in_flight {
            if let Posting::Proof { batch } = p.what {
                if p.failed {
                    // The L1 refused it: the saved copy is no good either.
                    let _ = std::fs::remove_file(self.path(batch));
                    return None;
                }
                if batch == sent {
                    sent += 1;
                }
            }
        }
        if self.state.is_none() || self.next < settled || self.next > sent {
            if self.next > sent {
                warn!(
                    batch = sent,
                    "a proof sent to L1 did not settle its batch: proving again from batch {settled}"
                );
                // Refused before inclusion, or lost: made again rather than trusted again.
                for batch in sent..self.next {
                    let _ = std::fs::remove_file(self.path(batch));
                }
            }
            self.state = Some(d.settled_state().clone());
            self.next = settled;
        }
        drop(view);
        self.clean(settled);
        Some(())
    }
}

/// What one proof needs, read from the view and the sequencer under their locks.
struct Job {
    batch: u64,
    output: Hash,
    txs: Vec<L2Tx<Zk>>,
    /// The deposit queue from its first index given.
    deposits: (u64, Vec<basalt_l2::DepositEntry<Zk>>),
    /// Batches posted and not settled.
    lag: u64,
}

impl Prover {
    /// The next batch to prove, if it is posted, applies, and the sequencer's log holds it.
    fn job(&mut self) -> Result<Option<Job>, NodeError> {
        let view = lock(&self.shared.view);
        let d = &view.derivation;
        let batch = self.next;
        // Not posted yet, or settled since the last round (by another prover): nothing to do.
        if batch >= d.batches() || batch < d.settled_batches() {
            return Ok(None);
        }
        if let Some((stuck, why)) = d.stuck().filter(|(stuck, _)| *stuck <= batch) {
            return Err(NodeError::Prover(format!(
                "batch {stuck} on L1 cannot apply ({why}): no proof exists; it must be reverted"
            )));
        }
        let Some(output) = d.output(batch).map(felt_hash) else {
            return Ok(None);
        };
        let (from, to) = (d.txs_in_first(batch), d.txs_in_first(batch + 1));
        let posted = d
            .posted(batch)
            .map(<[PostedTx]>::to_vec)
            .unwrap_or_default();
        // Only the deposits from the prover's state on: the batch cannot read older ones.
        let first = self
            .state
            .as_ref()
            .map_or(0, |s| s.commitment().next_deposit);
        let window = d.deposits_from(first);
        let deposits = (window.first, window.entries.to_vec());
        let lag = d.batches() - d.settled_batches();
        drop(view);
        let txs = lock(self.shared.seq.as_ref().expect("a sequencer")).txs_in(from, to);
        if txs.iter().map(PostedTx::from).ne(posted.iter().copied()) {
            return Err(NodeError::Prover(format!(
                "batch {batch} on L1 is not transactions {from}..{to} of the sequencer's log: wrong data_dir, or another sequencer posted it"
            )));
        }
        Ok(Some(Job {
            batch,
            output,
            txs,
            deposits,
            lag,
        }))
    }

    /// Proves `job` on the prover's state, off the async threads; the state after it comes back.
    async fn prove(&mut self, job: &Job) -> Result<Vec<u8>, NodeError> {
        let prover = self.prover.clone();
        let mut state = self
            .state
            .take()
            .expect("the prover's state is back after each proof");
        let (txs, deposits) = (job.txs.clone(), job.deposits.clone());
        let (slots, expected) = (self.shared.slots as usize, job.output);
        let started = Instant::now();
        lock(&self.shared.prover).proving = Some((job.batch, started));
        let (state, proof) = tokio::task::spawn_blocking(move || {
            let window = DepositWindow {
                first: deposits.0,
                entries: &deposits.1,
            };
            let proof = BatchWitness::build(&state, &window, &txs, slots)
                .map_err(|e| e.to_string())
                .and_then(|w| {
                    if felt_hash(w.new_output) != expected {
                        return Err(format!(
                            "the signed transactions lead to {}, the posted data to {expected}",
                            felt_hash(w.new_output)
                        ));
                    }
                    basalt_zk::batch::prove_batch(&prover, w).map_err(|e| e.to_string())
                });
            if proof.is_ok() {
                state.apply_batch(&window, &txs);
            }
            (state, proof)
        })
        .await
        .map_err(|e| NodeError::Prover(format!("proving task failed: {e}")))?;
        self.state = Some(state);
        let seconds = started.elapsed().as_secs_f64();
        let mut status = lock(&self.shared.prover);
        status.proving = None;
        let proof = proof.map_err(|e| NodeError::Prover(format!("batch {}: {e}", job.batch)))?;
        status.proven += 1;
        status.seconds += seconds;
        Ok(proof)
    }
}

impl Planner for Prover {
    const ROLE: &'static str = "prover";

    /// The proof of the next batch, made (or read back from disk) now.
    async fn plan(&mut self) -> Result<Vec<(Action, Posting)>, NodeError> {
        if self.position().is_none() {
            return Ok(Vec::new());
        }
        lock(&self.shared.prover).next = self.next;
        let job = match self.job() {
            Ok(Some(job)) => job,
            Ok(None) => return Ok(Vec::new()),
            Err(e) => {
                let message = e.to_string();
                lock(&self.shared.prover).error = Some(message);
                return Err(e);
            }
        };
        let proof = match self.saved(job.batch, &job.output) {
            Some(proof) => {
                // Its state after: the batch applied natively (the proof is not made again).
                let window = DepositWindow {
                    first: job.deposits.0,
                    entries: &job.deposits.1,
                };
                if let Some(state) = &mut self.state {
                    state.apply_batch(&window, &job.txs);
                }
                lock(&self.shared.prover).reused += 1;
                info!(batch = job.batch, "proof read back from disk");
                proof
            }
            None => {
                let started = Instant::now();
                let proof = self.prove(&job).await?;
                self.save(job.batch, &job.output, &proof)?;
                let status = lock(&self.shared.prover).clone();
                let mean = status.mean_seconds().unwrap_or(0.0);
                let behind = job.lag.saturating_sub(1);
                info!(
                    batch = job.batch,
                    txs = job.txs.len(),
                    seconds = format!("{:.2}", started.elapsed().as_secs_f64()),
                    behind,
                    eta_seconds = format!("{:.0}", mean * behind as f64),
                    "batch proven"
                );
                proof
            }
        };
        lock(&self.shared.prover).error = None;
        self.next += 1;
        lock(&self.shared.prover).next = self.next;
        Ok(vec![(
            Action::ProveBatch {
                rollup: self.shared.id,
                batch: job.batch,
                output: job.output,
                proof,
            },
            Posting::Proof { batch: job.batch },
        )])
    }
}
