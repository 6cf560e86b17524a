//! Where a dishonest view injects its fault, and how it applies the batches the fault touches.

use super::{Fault, FAULT_AMOUNT, P};
use crate::derive::{Derivation, StepHook};
use basalt_l2::{Access, Config, DepositWindow, L2State, L2Tx, Outcome, SigCheck, FEE_ACCOUNT};
use basalt_types::PublicKey;

/// A fault a derivation injects at the first step it fits at or after `from`, and where it did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FaultPlan {
    fault: Option<Fault>,
    /// (batch, step) from which the fault may be injected.
    from: (u64, u64),
    /// Where it was injected: (batch, step); step 0 of a batch that did not decode for
    /// [`Fault::Undecodable`].
    faulted: Option<(u64, u64)>,
}

impl FaultPlan {
    /// Notes that batch `index` did not decode: the undecodable fault injects there, if due.
    pub(crate) fn undecodable(&mut self, index: u64) {
        if self.fault == Some(Fault::Undecodable) && self.faulted.is_none() && index >= self.from.0
        {
            self.faulted = Some((index, 0));
        }
    }

    /// Records that the fault was injected at `step` of batch `batch`.
    pub(crate) fn injected(&mut self, batch: u64, step: u64) {
        self.faulted = Some((batch, step));
    }

    /// The fault's target in batch `batch`: the recorded step when replaying the batch it was
    /// injected in, any step that fits when injecting (`inject`), none otherwise.
    fn target(&self, batch: u64, inject: bool) -> Option<(Fault, Option<u64>)> {
        match (self.fault, self.faulted) {
            (Some(f), Some((b, s))) if b == batch => Some((f, Some(s))),
            (Some(f), None) if inject => Some((f, None)),
            _ => None,
        }
    }

    /// Whether the fault touches batch `batch` (so [`FaultPlan::run_batch`] must apply it).
    pub(crate) fn touches(&self, batch: u64, inject: bool) -> bool {
        self.target(batch, inject).is_some()
    }

    /// Applies batch `batch` to `state` with the fault where it hits, calling `each` with the
    /// committed state after every transaction if given. Returns the outcomes and the step the
    /// fault was injected at, if it was here.
    pub(crate) fn run_batch(
        &self,
        state: &mut L2State<P>,
        window: &DepositWindow<'_, P>,
        batch: u64,
        txs: &[L2Tx<P>],
        inject: bool,
        mut each: Option<&mut StepHook<'_>>,
    ) -> (Vec<Outcome>, Option<u64>) {
        if self.fault == Some(Fault::Undecodable) && self.faulted == Some((batch, 0)) {
            mint_for_undecodable(state);
        }
        let target = self.target(batch, inject);
        let mut injected = None;
        let mut outcomes = Vec::with_capacity(txs.len());
        for (i, tx) in txs.iter().enumerate() {
            let i = i as u64;
            let fault = match target {
                Some((f, Some(s))) if s == i => Some(f),
                Some((f, None)) if injected.is_none() && (batch, i) >= self.from => Some(f),
                _ => None,
            };
            let outcome = match fault {
                Some(f) => f.apply(state, window, tx).unwrap_or_else(|| {
                    injected = Some(i);
                    Outcome::Applied
                }),
                None => state.apply(window, tx, SigCheck::Verify),
            };
            outcomes.push(outcome);
            if let Some(f) = each.as_mut() {
                state.commit();
                f(state);
            }
        }
        state.commit();
        (outcomes, injected)
    }
}

/// How the undecodable fault misreads a batch that does not decode: as if it credited the fee
/// account.
fn mint_for_undecodable(state: &mut L2State<P>) {
    let mut a = *state.get(FEE_ACCOUNT).expect("the fee account exists");
    a.balance = a.balance.saturating_add(FAULT_AMOUNT);
    state
        .set_account(FEE_ACCOUNT, a)
        .expect("a full state covers every index");
    state.commit();
}

impl Derivation {
    /// A dishonest view: the derivation with `fault` injected at the first step it fits at or
    /// after `from` (batch, step).
    pub fn with_fault(
        config: Config,
        sequencer: PublicKey,
        fault: Fault,
        from: (u64, u64),
    ) -> Self {
        let mut d = Derivation::new(config, sequencer);
        d.plan = FaultPlan {
            fault: Some(fault),
            from,
            faulted: None,
        };
        d
    }

    /// Where this view's fault was injected, as (batch, step), once it was.
    pub fn faulted(&self) -> Option<(u64, u64)> {
        self.plan.faulted
    }

    /// The fault this view injects, if it is a dishonest one.
    pub fn fault(&self) -> Option<Fault> {
        self.plan.fault
    }
}
