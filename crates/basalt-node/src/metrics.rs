//! Prometheus metrics of a validator, under `basalt_l1_`, labelled by validator (several run in one
//! `basalt up` process). The handles are no-ops until a binary installs an exporter.

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics::{Counter, Gauge, Histogram, Unit};

/// A validator's name in metrics, from its key's bytes: `0x` and the first 8 hex digits.
pub fn validator_name(key: &[u8]) -> String {
    let digits: String = hex::encode(key).chars().take(8).collect();
    format!("0x{digits}")
}

/// The metrics one validator's chain records.
#[derive(Clone)]
pub struct ChainMetrics {
    validator: String,
    finalized_height: Gauge,
    finality_latency: Histogram,
    verify_seconds: Histogram,
    propose_seconds: Histogram,
    mempool_txs: Gauge,
    mempool_bytes: Gauge,
    mempool_queued: Gauge,
}

impl ChainMetrics {
    /// Handles for the validator named `validator` (a key prefix).
    pub fn new(validator: &str) -> Self {
        let v = validator.to_string();
        ChainMetrics {
            finalized_height: gauge!("basalt_l1_finalized_height", "validator" => v.clone()),
            finality_latency: histogram!("basalt_l1_finality_latency_seconds", "validator" => v.clone()),
            verify_seconds: histogram!("basalt_l1_block_verify_seconds", "validator" => v.clone()),
            propose_seconds: histogram!("basalt_l1_block_propose_seconds", "validator" => v.clone()),
            mempool_txs: gauge!("basalt_l1_mempool_txs", "validator" => v.clone()),
            mempool_bytes: gauge!("basalt_l1_mempool_bytes", "validator" => v.clone()),
            mempool_queued: gauge!("basalt_l1_mempool_queued_txs", "validator" => v.clone()),
            validator: v,
        }
    }

    /// A finalized block at `height`, `latency_s` after its timestamp.
    pub fn finalized(&self, height: u64, latency_s: f64) {
        self.finalized_height.set(height as f64);
        self.finality_latency.record(latency_s);
    }

    /// Time spent verifying a peer's block.
    pub fn verified(&self, seconds: f64) {
        self.verify_seconds.record(seconds);
    }

    /// Time spent building a proposal.
    pub fn proposed(&self, seconds: f64) {
        self.propose_seconds.record(seconds);
    }

    /// The mempool's size now.
    pub fn mempool(&self, txs: usize, bytes: usize, queued: usize) {
        self.mempool_txs.set(txs as f64);
        self.mempool_bytes.set(bytes as f64);
        self.mempool_queued.set(queued as f64);
    }

    /// One submitted transaction's fate: `accepted` or the refusal's reason.
    pub fn admission(&self, result: &'static str) {
        counter!("basalt_l1_admissions_total", "validator" => self.validator.clone(), "result" => result)
            .increment(1);
    }
}

/// One validator's counts of the finalization certificates it learned and of each committee
/// member's votes in them.
#[derive(Clone)]
pub struct VoteMetrics {
    finalizations: Counter,
    signers: Vec<Counter>,
}

impl VoteMetrics {
    /// Handles for the validator named `validator`, whose committee's members (in participant
    /// order) are named `signers` (key prefixes).
    pub fn new(validator: &str, signers: &[String]) -> Self {
        VoteMetrics {
            finalizations: counter!("basalt_l1_finalizations_total", "validator" => validator.to_string()),
            signers: signers
                .iter()
                .map(|s| {
                    counter!("basalt_l1_certified_votes_total", "validator" => validator.to_string(), "signer" => s.clone())
                })
                .collect(),
        }
    }

    /// A finalization certificate learned, signed by the participants `signers`.
    pub fn finalization(&self, signers: impl Iterator<Item = usize>) {
        self.finalizations.increment(1);
        for s in signers {
            if let Some(c) = self.signers.get(s) {
                c.increment(1);
            }
        }
    }
}

/// Describes every L1 metric to the installed exporter (its HELP lines).
pub fn describe() {
    describe_gauge!(
        "basalt_l1_finalized_height",
        "Height of the last finalized block"
    );
    describe_histogram!(
        "basalt_l1_finality_latency_seconds",
        Unit::Seconds,
        "From a block's timestamp to its finalization at this validator"
    );
    describe_histogram!(
        "basalt_l1_block_verify_seconds",
        Unit::Seconds,
        "Verifying a peer's block"
    );
    describe_histogram!(
        "basalt_l1_block_propose_seconds",
        Unit::Seconds,
        "Building a proposal"
    );
    describe_gauge!("basalt_l1_mempool_txs", "Transactions in the mempool");
    describe_gauge!(
        "basalt_l1_mempool_bytes",
        Unit::Bytes,
        "Encoded bytes in the mempool"
    );
    describe_gauge!(
        "basalt_l1_mempool_queued_txs",
        "Mempool transactions behind a nonce gap"
    );
    describe_counter!(
        "basalt_l1_admissions_total",
        "Submitted transactions by result: accepted, or the reason they were refused"
    );
    describe_counter!(
        "basalt_l1_finalizations_total",
        "Finalization certificates this validator learned of while in the committee"
    );
    describe_counter!(
        "basalt_l1_certified_votes_total",
        "Finalize votes of each committee member (signer) in those certificates; a certificate \
         holds the first quorum of votes to arrive"
    );
    describe_gauge!(
        "basalt_l1_peers",
        "Peers this validator is connected to now (sampled every 2 s from its p2p network)"
    );
}
