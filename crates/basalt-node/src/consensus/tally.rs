//! Counts, on each validator, the finalization certificates it learns of and whose finalize votes
//! each one carries. A certificate holds the first quorum of votes to arrive, so a validator too
//! slow to vote in time is left out of the certificates its peers hold: the counts show a node
//! falling behind before its finalized height does.

use super::application::Scheme;
use super::block::Digest;
use crate::metrics::VoteMetrics;
use commonware_actor::Feedback;
use commonware_consensus::simplex::types::Activity;
use commonware_consensus::Reporter;

/// A reporter that counts finalizations and their signers, then hands every activity on to
/// `inner`.
#[derive(Clone)]
pub struct VoteTally<R> {
    inner: R,
    metrics: VoteMetrics,
}

impl<R> VoteTally<R> {
    /// Counts into `metrics`, whose signers are the epoch's committee in participant order.
    pub fn new(inner: R, metrics: VoteMetrics) -> Self {
        VoteTally { inner, metrics }
    }
}

impl<R: Reporter<Activity = Activity<Scheme, Digest>>> Reporter for VoteTally<R> {
    type Activity = Activity<Scheme, Digest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        if let Activity::Finalization(f) = &activity {
            self.metrics
                .finalization(f.certificate.signers.iter().map(|p| p.get() as usize));
        }
        self.inner.report(activity)
    }
}
