//! The full L2 state, what it commits to, and the per-transaction trace and witnesses it produces.

use crate::profile::Profile;
use crate::stf::{apply_tx, Access, Deposits, Outcome, SigCheck};
use crate::types::{Account, Config, L2Tx, Withdrawal};
use crate::witness::StepWitness;
use basalt_merkle::{MerkleTree, PartialError};
use basalt_types::{Decode, DecodeError, Decoder, Encode};
use std::collections::BTreeMap;

/// Everything an output commits to. Its hash is the output; it is also the part of a one-step
/// witness that ties the witness to the output both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commitment<P: Profile> {
    /// Root of the accounts tree.
    pub accounts_root: P::Digest,
    /// Allocated accounts.
    pub account_count: u32,
    /// Queue index of the next L1 deposit to apply.
    pub next_deposit: u64,
    /// Root of the withdrawals tree.
    pub withdrawals_tree_root: P::Digest,
    /// Withdrawals so far.
    pub withdrawal_count: u64,
}

impl<P: Profile> Commitment<P> {
    /// The state root: accounts plus the deposit cursor.
    pub fn state_root(&self) -> P::Digest {
        P::state_root(&self.accounts_root, self.account_count, self.next_deposit)
    }

    /// The withdrawals root that L1 withdrawal proofs are checked against.
    pub fn withdrawals_root(&self) -> P::Digest {
        withdrawals_root::<P>(self.withdrawals_tree_root, self.withdrawal_count)
    }

    /// The output: H(state root, withdrawals root).
    pub fn output(&self) -> P::Digest {
        output::<P>(self.state_root(), self.withdrawals_root())
    }
}

/// The withdrawals root of a withdrawals tree holding `count` withdrawals.
pub fn withdrawals_root<P: Profile>(tree_root: P::Digest, count: u64) -> P::Digest {
    P::withdrawals_root(&tree_root, count)
}

/// An output from its two roots.
pub fn output<P: Profile>(state_root: P::Digest, withdrawals_root: P::Digest) -> P::Digest {
    P::output(&state_root, &withdrawals_root)
}

impl<P: Profile> Encode for Commitment<P> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.accounts_root.encode_to(out);
        out.extend_from_slice(&self.account_count.to_le_bytes());
        out.extend_from_slice(&self.next_deposit.to_le_bytes());
        self.withdrawals_tree_root.encode_to(out);
        out.extend_from_slice(&self.withdrawal_count.to_le_bytes());
    }
}

impl<P: Profile> Decode for Commitment<P> {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Commitment {
            accounts_root: P::Digest::decode_from(d)?,
            account_count: d.u32()?,
            next_deposit: d.u64()?,
            withdrawals_tree_root: P::Digest::decode_from(d)?,
            withdrawal_count: d.u64()?,
        })
    }
}

/// One step of a batch's trace: what the transaction did and the output after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceStep<P: Profile> {
    /// Applied or a no-op.
    pub outcome: Outcome,
    /// The output after this transaction.
    pub output: P::Digest,
}

/// The whole state of one rollup.
#[derive(Clone)]
pub struct L2State<P: Profile> {
    config: Config,
    accounts: Vec<Account<P>>,
    tree: MerkleTree<P::Hasher>,
    withdrawals: Vec<Withdrawal>,
    withdrawals_tree: MerkleTree<P::Hasher>,
    next_deposit: u64,
}

impl<P: Profile> L2State<P> {
    /// The genesis state: account 0 belongs to the sequencer and collects fees.
    pub fn genesis(config: Config, sequencer: P::PublicKey) -> Self {
        let mut s = L2State {
            config,
            accounts: Vec::new(),
            tree: MerkleTree::new(P::TREE_DEPTH),
            withdrawals: Vec::new(),
            withdrawals_tree: MerkleTree::new(P::TREE_DEPTH),
            next_deposit: 0,
        };
        s.set_account(0, Account::new(sequencer))
            .expect("a full state covers every account");
        s.commit();
        s
    }

    /// The rules of this rollup.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The account at `index`.
    pub fn get(&self, index: u32) -> Option<&Account<P>> {
        self.accounts.get(index as usize)
    }

    /// Every account, by index.
    pub fn accounts(&self) -> &[Account<P>] {
        &self.accounts
    }

    /// Every withdrawal, by index.
    pub fn withdrawals(&self) -> &[Withdrawal] {
        &self.withdrawals
    }

    /// The accounts tree (committed after [`L2State::commit`]).
    pub fn accounts_tree(&self) -> &MerkleTree<P::Hasher> {
        &self.tree
    }

    /// The withdrawals tree (committed after [`L2State::commit`]).
    pub fn withdrawals_tree(&self) -> &MerkleTree<P::Hasher> {
        &self.withdrawals_tree
    }

    /// Sum of all balances.
    pub fn total_balance(&self) -> u128 {
        self.accounts.iter().map(|a| a.balance).sum()
    }

    /// Rehashes the trees after writes; call before [`L2State::commitment`].
    pub fn commit(&mut self) {
        self.tree.commit();
        self.withdrawals_tree.commit();
    }

    /// What the state commits to. Panics if writes are uncommitted (a programming error).
    pub fn commitment(&self) -> Commitment<P> {
        Commitment {
            accounts_root: self.tree.root(),
            account_count: self.accounts.len() as u32,
            next_deposit: self.next_deposit,
            withdrawals_tree_root: self.withdrawals_tree.root(),
            withdrawal_count: self.withdrawals.len() as u64,
        }
    }

    /// The current output.
    pub fn output(&self) -> P::Digest {
        self.commitment().output()
    }

    /// A proof of withdrawal `index` against the committed withdrawals tree.
    pub fn withdrawal_proof(
        &self,
        index: u32,
    ) -> Option<(Withdrawal, basalt_merkle::MerkleProof<P::Digest>)> {
        let w = *self.withdrawals.get(index as usize)?;
        Some((w, self.withdrawals_tree.proof(index)))
    }

    /// A proof of account `index` against the committed accounts tree: what an exit from a frozen
    /// rollup proves.
    pub fn account_proof(
        &self,
        index: u32,
    ) -> Option<(Account<P>, basalt_merkle::MerkleProof<P::Digest>)> {
        let a = *self.accounts.get(index as usize)?;
        Some((a, self.tree.proof(index)))
    }

    /// A proof of withdrawal `index` against the withdrawals tree as it was when it held `count`
    /// withdrawals (an earlier output's tree: the tree only grows), with that tree's root.
    pub fn withdrawal_proof_at(
        &self,
        index: u64,
        count: u64,
    ) -> Option<(Withdrawal, basalt_merkle::MerkleProof<P::Digest>, P::Digest)> {
        if index >= count || count > self.withdrawals.len() as u64 {
            return None;
        }
        let index = u32::try_from(index).ok()?;
        let w = self.withdrawals[index as usize];
        // The tree is append-only: its first `count` leaves are the tree of that output.
        let (proof, root) = self.withdrawals_tree.prefix_proof(index, count);
        Some((w, proof, root))
    }

    /// Applies one transaction; roots are updated at the next [`L2State::commit`].
    pub fn apply(&mut self, deposits: &impl Deposits<P>, tx: &L2Tx<P>, sig: SigCheck) -> Outcome {
        let config = self.config;
        apply_tx(&config, self, deposits, tx, sig).expect("a full state covers every account")
    }

    /// Applies a block or batch of transactions in order and commits. Signatures from accounts that
    /// exist at the start are checked together ([`Profile::verify_many`]); the outcomes are exactly
    /// those of applying one by one.
    pub fn apply_batch(&mut self, deposits: &impl Deposits<P>, txs: &[L2Tx<P>]) -> Vec<Outcome> {
        let count = self.accounts.len() as u32;
        let mut items = Vec::new();
        let mut slots = Vec::with_capacity(txs.len());
        for tx in txs {
            match tx.signer() {
                Some((from, signature)) if from < count => {
                    slots.push(Some(items.len()));
                    items.push((
                        self.accounts[from as usize].key,
                        tx.signing_message(self.config.rollup_id),
                        *signature,
                    ));
                }
                _ => slots.push(None),
            }
        }
        let valid = P::verify_many(&items);
        let outcomes = txs
            .iter()
            .zip(slots)
            .map(|(tx, slot)| {
                let sig = slot.map_or(SigCheck::Verify, |i| SigCheck::Known(valid[i]));
                self.apply(deposits, tx, sig)
            })
            .collect();
        self.commit();
        outcomes
    }

    /// Applies transactions one by one, committing after each: the trace of outputs a dispute bisects.
    pub fn apply_traced(
        &mut self,
        deposits: &impl Deposits<P>,
        txs: &[L2Tx<P>],
    ) -> Vec<TraceStep<P>> {
        txs.iter()
            .map(|tx| {
                let outcome = self.apply(deposits, tx, SigCheck::Verify);
                self.commit();
                TraceStep {
                    outcome,
                    output: self.output(),
                }
            })
            .collect()
    }

    /// The witness that lets anyone re-execute `tx` against only the current (committed) output.
    pub fn witness(&self, deposits: &impl Deposits<P>, tx: &L2Tx<P>) -> StepWitness<P> {
        let mut recorder = Recorder {
            state: self,
            accounts: BTreeMap::new(),
            order: Vec::new(),
            count: self.accounts.len() as u32,
            next_deposit: self.next_deposit,
            withdrawals: 0,
        };
        apply_tx(&self.config, &mut recorder, deposits, tx, SigCheck::Verify)
            .expect("a full state covers every account");
        let accounts = recorder
            .order
            .iter()
            .map(|&i| (self.get(i).copied(), self.tree.proof(i)))
            .collect();
        let withdrawal_slot = (recorder.withdrawals > 0)
            .then(|| self.withdrawals_tree.proof(self.withdrawals.len() as u32));
        StepWitness {
            prior: self.commitment(),
            accounts,
            withdrawal_slot,
        }
    }
}

impl<P: Profile> Access<P> for L2State<P> {
    fn account_count(&self) -> u32 {
        self.accounts.len() as u32
    }

    fn account(&mut self, index: u32) -> Result<Account<P>, PartialError> {
        self.get(index).copied().ok_or(PartialError::Unknown(index))
    }

    fn set_account(&mut self, index: u32, account: Account<P>) -> Result<(), PartialError> {
        let i = index as usize;
        match i.cmp(&self.accounts.len()) {
            std::cmp::Ordering::Less => self.accounts[i] = account,
            std::cmp::Ordering::Equal => self.accounts.push(account),
            std::cmp::Ordering::Greater => return Err(PartialError::Unknown(index)),
        }
        self.tree.set(index, account.leaf());
        Ok(())
    }

    fn next_deposit(&self) -> u64 {
        self.next_deposit
    }

    fn set_next_deposit(&mut self, next: u64) {
        self.next_deposit = next;
    }

    fn withdrawal_count(&self) -> u64 {
        self.withdrawals.len() as u64
    }

    fn push_withdrawal(&mut self, withdrawal: Withdrawal) -> Result<(), PartialError> {
        let index = self.withdrawals.len() as u32;
        self.withdrawals_tree.set(index, withdrawal.leaf::<P>());
        self.withdrawals.push(withdrawal);
        Ok(())
    }
}

/// Runs a transaction over a read-only state, noting every account it touches, to build a witness.
struct Recorder<'a, P: Profile> {
    state: &'a L2State<P>,
    accounts: BTreeMap<u32, Account<P>>,
    order: Vec<u32>,
    count: u32,
    next_deposit: u64,
    withdrawals: u64,
}

impl<P: Profile> Recorder<'_, P> {
    fn touch(&mut self, index: u32) {
        if !self.order.contains(&index) {
            self.order.push(index);
        }
    }
}

impl<P: Profile> Access<P> for Recorder<'_, P> {
    fn account_count(&self) -> u32 {
        self.count
    }

    fn account(&mut self, index: u32) -> Result<Account<P>, PartialError> {
        self.touch(index);
        match self.accounts.get(&index) {
            Some(a) => Ok(*a),
            None => self
                .state
                .get(index)
                .copied()
                .ok_or(PartialError::Unknown(index)),
        }
    }

    fn set_account(&mut self, index: u32, account: Account<P>) -> Result<(), PartialError> {
        self.touch(index);
        if index == self.count {
            self.count += 1;
        }
        self.accounts.insert(index, account);
        Ok(())
    }

    fn next_deposit(&self) -> u64 {
        self.next_deposit
    }

    fn set_next_deposit(&mut self, next: u64) {
        self.next_deposit = next;
    }

    fn withdrawal_count(&self) -> u64 {
        self.state.withdrawals.len() as u64 + self.withdrawals
    }

    fn push_withdrawal(&mut self, _: Withdrawal) -> Result<(), PartialError> {
        self.withdrawals += 1;
        Ok(())
    }
}
