//! Prometheus metrics of a rollup node, under `basalt_l2_`, labelled by rollup name (both devnet
//! rollups run in one `basalt up` process). No-ops until a binary installs an exporter.

use metrics::{counter, describe_counter, describe_gauge, gauge, Counter, Gauge};

/// The metrics one rollup node records.
pub struct RollupMetrics {
    height: Gauge,
    txs: Counter,
    batches: Counter,
    batch_bytes: Counter,
    outputs: Counter,
    dispute_moves: Counter,
    l1_failed: Counter,
    l1_resent: Counter,
}

impl RollupMetrics {
    /// Handles for the rollup named `rollup`.
    pub fn new(rollup: &str) -> Self {
        let r = rollup.to_string();
        RollupMetrics {
            height: gauge!("basalt_l2_height", "rollup" => r.clone()),
            txs: counter!("basalt_l2_txs_total", "rollup" => r.clone()),
            batches: counter!("basalt_l2_batches_posted_total", "rollup" => r.clone()),
            batch_bytes: counter!("basalt_l2_batch_bytes_total", "rollup" => r.clone()),
            outputs: counter!("basalt_l2_outputs_proposed_total", "rollup" => r.clone()),
            dispute_moves: counter!("basalt_l2_dispute_moves_total", "rollup" => r.clone()),
            l1_failed: counter!("basalt_l2_l1_txs_failed_total", "rollup" => r.clone()),
            l1_resent: counter!("basalt_l2_l1_txs_resent_total", "rollup" => r),
        }
    }

    /// A sequenced block at `height` with `txs` transactions.
    pub fn block(&self, height: u64, txs: usize) {
        self.height.set(height as f64);
        self.txs.increment(txs as u64);
    }

    /// A batch of `bytes` sent to the L1.
    pub fn batch_posted(&self, bytes: usize) {
        self.batches.increment(1);
        self.batch_bytes.increment(bytes as u64);
    }

    /// An output proposal, or a ZK batch's validity proof, sent to the L1.
    pub fn output_proposed(&self) {
        self.outputs.increment(1);
    }

    /// A dispute move (a counter or a one-step proof) sent to the L1.
    pub fn dispute_move(&self) {
        self.dispute_moves.increment(1);
    }

    /// An own L1 transaction final but failed.
    pub fn l1_failed(&self) {
        self.l1_failed.increment(1);
    }

    /// An own L1 transaction dropped or lost, sent again.
    pub fn l1_resent(&self) {
        self.l1_resent.increment(1);
    }
}

/// Describes every L2 metric to the installed exporter (its HELP lines).
pub fn describe() {
    describe_gauge!(
        "basalt_l2_height",
        "Height of the last L2 block this sequencer made"
    );
    describe_counter!(
        "basalt_l2_txs_total",
        "L2 transactions sequenced (deposits included)"
    );
    describe_counter!("basalt_l2_batches_posted_total", "Batches sent to the L1");
    describe_counter!(
        "basalt_l2_batch_bytes_total",
        "Compressed batch bytes sent to the L1"
    );
    describe_counter!(
        "basalt_l2_outputs_proposed_total",
        "Output proposals sent to the L1"
    );
    describe_counter!(
        "basalt_l2_dispute_moves_total",
        "Dispute moves sent to the L1"
    );
    describe_counter!(
        "basalt_l2_l1_txs_failed_total",
        "Own L1 transactions final but failed"
    );
    describe_counter!(
        "basalt_l2_l1_txs_resent_total",
        "Own L1 transactions dropped or lost and sent again"
    );
}
