//! One-step re-execution: a transaction applied against a Merkle witness of the prior output only.
//!
//! This is what the L1 runs at the end of a dispute. The witness carries the preimage of the prior
//! output and a proof for every account the transaction touches (and for the next free withdrawal
//! slot); the same [`apply_tx`] then runs over those paths, and the new output comes from the
//! updated roots. A witness that does not hash to the agreed prior output, or that misses a path the
//! transaction needs, is rejected.

use crate::profile::Profile;
use crate::state::Commitment;
use crate::stf::{apply_tx, Access, Deposits, Outcome, SigCheck};
use crate::types::{Account, Config, L2Tx, Withdrawal};
use basalt_merkle::{MerkleProof, PartialError, PartialTree, TreeHasher};
use basalt_types::{Decode, DecodeError, Decoder, Encode};

/// Most accounts one transaction touches (sender, recipient, fee account).
pub const MAX_WITNESS_ACCOUNTS: usize = 3;

/// Why a witness cannot decide a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// The witness's preimage does not hash to the agreed prior output.
    #[error("witness does not open the agreed prior output")]
    WrongPrior,
    /// A proof is invalid, or the witness lacks a path the transaction touches.
    #[error("witness: {0}")]
    Path(#[from] PartialError),
    /// An allocated account is missing from its leaf, or an unallocated one is present.
    #[error("witness account {0} disagrees with the account count")]
    BadAccount(u32),
}

/// A touched account as the prior tree holds it (none if the index is free), with its proof.
pub type AccountWitness<P> = (Option<Account<P>>, MerkleProof<<P as Profile>::Digest>);

/// The Merkle witness of one transaction against the output before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepWitness<P: Profile> {
    /// The preimage of the prior output.
    pub prior: Commitment<P>,
    /// Each touched account (none if the index is free) with its proof, in first-touch order.
    pub accounts: Vec<AccountWitness<P>>,
    /// Proof that the next withdrawal slot is empty, if the transaction withdraws.
    pub withdrawal_slot: Option<MerkleProof<P::Digest>>,
}

impl<P: Profile> StepWitness<P> {
    /// Whether the witness opens `prior_output`: the cheap first check of [`execute_step`], which a
    /// verifier may run before any costlier work.
    pub fn check_prior(&self, prior_output: &P::Digest) -> Result<(), WitnessError> {
        if self.prior.output() != *prior_output {
            return Err(WitnessError::WrongPrior);
        }
        Ok(())
    }
}

/// Re-executes `tx` from the agreed `prior_output` using only `witness`; returns what the transaction
/// did and the output after it.
pub fn execute_step<P: Profile>(
    config: &Config,
    prior_output: &P::Digest,
    witness: &StepWitness<P>,
    deposits: &impl Deposits<P>,
    tx: &L2Tx<P>,
) -> Result<(Outcome, P::Digest), WitnessError> {
    witness.check_prior(prior_output)?;
    let prior = &witness.prior;
    let mut access = WitnessAccess {
        accounts: PartialTree::new(P::TREE_DEPTH, prior.accounts_root),
        known: Vec::new(),
        count: prior.account_count,
        next_deposit: prior.next_deposit,
        withdrawals: PartialTree::new(P::TREE_DEPTH, prior.withdrawals_tree_root),
        withdrawal_count: prior.withdrawal_count,
    };
    for (account, proof) in &witness.accounts {
        let allocated = proof.index < prior.account_count;
        if allocated != account.is_some() {
            return Err(WitnessError::BadAccount(proof.index));
        }
        let leaf = account.map_or_else(<P::Hasher as TreeHasher>::empty_leaf, |a| a.leaf());
        access.accounts.add_proof(leaf, proof)?;
        if let Some(a) = account {
            access.known.push((proof.index, *a));
        }
    }
    if let Some(slot) = &witness.withdrawal_slot {
        if slot.index as u64 != prior.withdrawal_count {
            return Err(WitnessError::Path(PartialError::BadProof(slot.index)));
        }
        access
            .withdrawals
            .add_proof(<P::Hasher as TreeHasher>::empty_leaf(), slot)?;
    }
    let outcome = apply_tx(config, &mut access, deposits, tx, SigCheck::Verify)?;
    let after = Commitment::<P> {
        accounts_root: access.accounts.root(),
        account_count: access.count,
        next_deposit: access.next_deposit,
        withdrawals_tree_root: access.withdrawals.root(),
        withdrawal_count: access.withdrawal_count,
    };
    Ok((outcome, after.output()))
}

/// The state as far as a witness reveals it.
struct WitnessAccess<P: Profile> {
    accounts: PartialTree<P::Hasher>,
    known: Vec<(u32, Account<P>)>,
    count: u32,
    next_deposit: u64,
    withdrawals: PartialTree<P::Hasher>,
    withdrawal_count: u64,
}

impl<P: Profile> Access<P> for WitnessAccess<P> {
    fn account_count(&self) -> u32 {
        self.count
    }

    fn account(&mut self, index: u32) -> Result<Account<P>, PartialError> {
        self.known
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, a)| *a)
            .ok_or(PartialError::Unknown(index))
    }

    fn set_account(&mut self, index: u32, account: Account<P>) -> Result<(), PartialError> {
        self.accounts.set(index, account.leaf())?;
        match self.known.iter_mut().find(|(i, _)| *i == index) {
            Some(slot) => slot.1 = account,
            None => self.known.push((index, account)),
        }
        if index == self.count {
            self.count += 1;
        }
        Ok(())
    }

    fn next_deposit(&self) -> u64 {
        self.next_deposit
    }

    fn set_next_deposit(&mut self, next: u64) {
        self.next_deposit = next;
    }

    fn withdrawal_count(&self) -> u64 {
        self.withdrawal_count
    }

    fn push_withdrawal(&mut self, withdrawal: Withdrawal) -> Result<(), PartialError> {
        let index =
            u32::try_from(self.withdrawal_count).map_err(|_| PartialError::Unknown(u32::MAX))?;
        self.withdrawals.set(index, withdrawal.leaf::<P>())?;
        self.withdrawal_count += 1;
        Ok(())
    }
}

fn encode_proof<D: Encode>(proof: &MerkleProof<D>, out: &mut Vec<u8>) {
    out.extend_from_slice(&proof.index.to_le_bytes());
    for s in &proof.siblings {
        s.encode_to(out);
    }
}

fn decode_proof<P: Profile>(d: &mut Decoder<'_>) -> Result<MerkleProof<P::Digest>, DecodeError> {
    let index = d.u32()?;
    let count = P::TREE_DEPTH as u64 * (<P::Hasher as TreeHasher>::ARITY - 1);
    let siblings = (0..count)
        .map(|_| P::Digest::decode_from(d))
        .collect::<Result<_, _>>()?;
    Ok(MerkleProof { index, siblings })
}

impl<P: Profile> Encode for StepWitness<P> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.prior.encode_to(out);
        out.push(self.accounts.len() as u8);
        for (account, proof) in &self.accounts {
            match account {
                None => out.push(0),
                Some(a) => {
                    out.push(1);
                    a.encode_to(out);
                }
            }
            encode_proof(proof, out);
        }
        match &self.withdrawal_slot {
            None => out.push(0),
            Some(p) => {
                out.push(1);
                encode_proof(p, out);
            }
        }
    }
}

impl<P: Profile> Decode for StepWitness<P> {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let prior = Commitment::decode_from(d)?;
        let n = d.u8()? as usize;
        if n > MAX_WITNESS_ACCOUNTS {
            return Err(DecodeError::TooLong {
                what: "witness accounts",
                len: n as u64,
                max: MAX_WITNESS_ACCOUNTS as u64,
            });
        }
        let mut accounts = Vec::with_capacity(n);
        for _ in 0..n {
            let account = match d.u8()? {
                0 => None,
                1 => Some(Account::decode_from(d)?),
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "witness account",
                        tag: tag as u64,
                    })
                }
            };
            accounts.push((account, decode_proof::<P>(d)?));
        }
        let withdrawal_slot = match d.u8()? {
            0 => None,
            1 => Some(decode_proof::<P>(d)?),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "witness withdrawal slot",
                    tag: tag as u64,
                })
            }
        };
        Ok(StepWitness {
            prior,
            accounts,
            withdrawal_slot,
        })
    }
}
