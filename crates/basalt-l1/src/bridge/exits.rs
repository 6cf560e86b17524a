//! The escape hatch: a rollup that owes something (a queued deposit or forced transaction, a posted
//! batch) and settles nothing for `escape_blocks` freezes. It takes no more deposits, batches,
//! outputs or proofs, and settles nothing more; every account of its last settled state exits on
//! L1 once, with a Merkle proof of its balance and its L2 key's signature, and every deposit that
//! state had not consumed is refunded to its L1 sender. Withdrawals of settled outputs stay
//! claimable. After all of it the escrow is exactly empty.
//!
//! A rollup with nothing owed does not freeze however long it idles, as zkSync Lite's exodus and
//! StarkEx's freeze only follow an unserved request: a user who wants out makes it owe, with a
//! deposit or a forced withdrawal, and the clock starts.

use super::{fold, hash_felt, RollupError, RollupHeader, CLAIMS_DOMAIN};
use crate::exec::BlockBuilder;
use crate::view::StateRead;
use basalt_l2::{Account, Commitment, L2Tx, Optimistic, Profile, Zk};
use basalt_merkle::MerkleProof;
use basalt_types::codec::{put_bytes, put_list, put_varint};
use basalt_types::{Amount, Decode, DecodeError, Decoder, Encode, Hash, PublicKey};

/// Top bits of an exit's key in a rollup's ledger of payments (the claims): below them, the
/// account index.
const EXIT_KEY_TAG: u64 = 1 << 62;
/// Top bit of a refund's key in the ledger: below it, the deposit index.
const REFUND_KEY_TAG: u64 = 1 << 63;

/// The ledger key of account `index`'s exit: withdrawals are keyed by their index (below
/// 2^32), so an exit never collides with one.
pub fn exit_key(index: u32) -> u64 {
    EXIT_KEY_TAG | index as u64
}

/// The ledger key of deposit `index`'s refund.
pub fn refund_key(index: u64) -> u64 {
    REFUND_KEY_TAG | index
}

/// Length of an L2 signature of either profile (ed25519; EdDSA-Poseidon's R8 and S).
pub const L2_SIGNATURE_BYTES: usize = 64;

/// The L2 commitment of a settled output, as the L1 carries it (field elements as 32 big-endian
/// bytes for a ZK rollup): what an exit or a refund is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettledState {
    /// Root of the accounts tree.
    pub accounts_root: Hash,
    /// Allocated accounts.
    pub account_count: u32,
    /// Queue index of the next deposit the state would apply: every deposit from it on is
    /// refunded.
    pub next_deposit: u64,
    /// Root of the withdrawals tree.
    pub withdrawals_tree_root: Hash,
    /// Withdrawals so far.
    pub withdrawal_count: u64,
}

impl SettledState {
    /// The commitment in a profile's digests.
    fn commitment<P: Profile>(
        &self,
        digest: impl Fn(&Hash) -> Result<P::Digest, RollupError>,
    ) -> Result<Commitment<P>, RollupError> {
        Ok(Commitment {
            accounts_root: digest(&self.accounts_root)?,
            account_count: self.account_count,
            next_deposit: self.next_deposit,
            withdrawals_tree_root: digest(&self.withdrawals_tree_root)?,
            withdrawal_count: self.withdrawal_count,
        })
    }
}

impl SettledState {
    /// The commitment of an L2 state, with `hash` writing the profile's digests as L1 hashes.
    pub fn of<P: Profile>(c: &Commitment<P>, hash: impl Fn(&P::Digest) -> Hash) -> Self {
        SettledState {
            accounts_root: hash(&c.accounts_root),
            account_count: c.account_count,
            next_deposit: c.next_deposit,
            withdrawals_tree_root: hash(&c.withdrawals_tree_root),
            withdrawal_count: c.withdrawal_count,
        }
    }
}

impl Encode for SettledState {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.accounts_root.encode_to(out);
        put_varint(out, self.account_count as u128);
        put_varint(out, self.next_deposit as u128);
        self.withdrawals_tree_root.encode_to(out);
        put_varint(out, self.withdrawal_count as u128);
    }
}

impl Decode for SettledState {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(SettledState {
            accounts_root: Hash::decode_from(d)?,
            account_count: u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)?,
            next_deposit: d.varint_u64()?,
            withdrawals_tree_root: Hash::decode_from(d)?,
            withdrawal_count: d.varint_u64()?,
        })
    }
}

/// An exit from a frozen rollup: account `index` of the last settled state holds `balance`, and
/// its L2 key signs paying it to `recipient`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitClaim {
    /// Rollup id.
    pub rollup: u32,
    /// The last settled state's commitment.
    pub state: SettledState,
    /// The account's index.
    pub index: u32,
    /// Its L2 key (a packed BabyJubJub point for a ZK rollup).
    pub key: PublicKey,
    /// Its balance.
    pub balance: Amount,
    /// Its nonce.
    pub nonce: u64,
    /// Sibling digests from the leaf up.
    pub proof: Vec<Hash>,
    /// The L1 account paid.
    pub recipient: PublicKey,
    /// The L2 key's signature of a withdrawal of the whole balance to `recipient` at the
    /// account's nonce with no fee ([`exit_message`]).
    pub signature: Vec<u8>,
}

/// The L2 transaction an exit's signature signs: a withdrawal of the whole balance to the
/// recipient at the account's nonce, with no fee, so a wallet signs an exit as it signs a
/// withdrawal. (No batch can carry it: the rollup is frozen, and its fee is below any minimum.)
pub fn exit_message<P: Profile>(
    index: u32,
    recipient: PublicKey,
    balance: Amount,
    nonce: u64,
    signature: P::Signature,
) -> L2Tx<P> {
    L2Tx::Withdraw {
        from: index,
        recipient,
        amount: balance,
        fee: 0,
        nonce,
        signature,
    }
}

impl ExitClaim {
    /// The exit of account `index` of `l2` (the rollup's last settled state) to `recipient`:
    /// `sign` signs its withdrawal ([`exit_message`], made with the `unsigned` placeholder) with
    /// the account's L2 key, and `hash` writes the profile's digests as L1 hashes. `None` if the
    /// state has no such account.
    pub fn build<P: Profile>(
        l2: &basalt_l2::L2State<P>,
        index: u32,
        recipient: PublicKey,
        unsigned: P::Signature,
        hash: impl Fn(&P::Digest) -> Hash,
        sign: impl FnOnce(L2Tx<P>) -> L2Tx<P>,
    ) -> Option<ExitClaim> {
        let (account, proof) = l2.account_proof(index)?;
        let tx = sign(exit_message::<P>(
            index,
            recipient,
            account.balance,
            account.nonce,
            unsigned,
        ));
        let L2Tx::Withdraw { signature, .. } = tx else {
            return None;
        };
        Some(ExitClaim {
            rollup: l2.config().rollup_id,
            state: SettledState::of(&l2.commitment(), &hash),
            index,
            key: PublicKey(account.key.to_bytes().try_into().ok()?),
            balance: account.balance,
            nonce: account.nonce,
            proof: proof.siblings.iter().map(&hash).collect(),
            recipient,
            signature: signature.to_bytes(),
        })
    }
}

impl Encode for ExitClaim {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.rollup as u128);
        self.state.encode_to(out);
        put_varint(out, self.index as u128);
        self.key.encode_to(out);
        put_varint(out, self.balance);
        put_varint(out, self.nonce as u128);
        put_list(out, &self.proof);
        self.recipient.encode_to(out);
        put_bytes(out, &self.signature);
    }
}

impl Decode for ExitClaim {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(ExitClaim {
            rollup: u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)?,
            state: SettledState::decode_from(d)?,
            index: u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)?,
            key: PublicKey::decode_from(d)?,
            balance: d.varint()?,
            nonce: d.varint_u64()?,
            proof: d.list("account proof", basalt_merkle::DEFAULT_DEPTH as usize)?,
            recipient: PublicKey::decode_from(d)?,
            signature: d.bytes("L2 signature", L2_SIGNATURE_BYTES)?.to_vec(),
        })
    }
}

/// The height from which rollup `h` is frozen, if it owes something: `escape_blocks` after the
/// later of its last settlement and the oldest thing it owes (its first unsettled batch, posted at
/// `batch_height`, or its first queued item no settled batch consumed, queued at `item_height`).
pub fn frozen_from(
    h: &RollupHeader,
    batch_height: Option<u64>,
    item_height: Option<u64>,
) -> Option<u64> {
    let oldest = match (batch_height, item_height) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some(
        oldest
            .max(h.settled_at)
            .saturating_add(h.params.escape_blocks),
    )
}

/// The queued items the settled batches of `h` consumed, given its last settled batch: the exact
/// range for a ZK rollup, and that batch's range end for an optimistic one (a batch applies every
/// item below it).
pub(crate) fn settled_items(h: &RollupHeader, last_settled: Option<&super::BatchRecord>) -> u64 {
    if h.params.kind.zk().is_some() {
        return h.settled_deposits;
    }
    last_settled.map_or(0, |b| b.deposits_end)
}

/// [`frozen_from`] of rollup `h` read from `state`.
pub(crate) fn freeze_height(state: &impl StateRead, h: &RollupHeader) -> Option<u64> {
    let batch = (h.batch_count > h.settled)
        .then(|| state.batch(h.id, h.settled).map(|b| b.height))
        .flatten();
    let last = h.settled.checked_sub(1).and_then(|b| state.batch(h.id, b));
    let item = state
        .deposit(h.id, settled_items(h, last.as_ref()))
        .map(|d| d.height);
    frozen_from(h, batch, item)
}

impl BlockBuilder<'_> {
    /// Whether rollup `h` is frozen at this block.
    pub(crate) fn frozen(&self, h: &RollupHeader) -> bool {
        freeze_height(&self.state(), h).is_some_and(|at| self.height >= at)
    }

    /// Refuses an action that changes a frozen rollup.
    pub(crate) fn refuse_frozen(&self, h: &RollupHeader) -> Result<(), RollupError> {
        match freeze_height(&self.state(), h) {
            Some(at) if self.height >= at => Err(RollupError::Frozen(at)),
            _ => Ok(()),
        }
    }

    /// A frozen rollup, and `state` checked against its last settled output (the genesis output
    /// when nothing settled).
    fn frozen_state(
        &mut self,
        rollup: u32,
        state: &SettledState,
    ) -> Result<RollupHeader, RollupError> {
        let h = self.rollup(rollup)?;
        if !self.frozen(&h) {
            return Err(RollupError::NotFrozen);
        }
        let settled = match h.settled.checked_sub(1) {
            Some(b) => {
                self.state()
                    .output(rollup, b)
                    .expect("settled outputs exist")
                    .1
                    .output
            }
            None => h.genesis_output,
        };
        let matches = if h.params.kind.zk().is_some() {
            self.charge(crate::gas::ZK_COMMITMENT_GAS)?;
            let c = state.commitment::<Zk>(felt)?;
            Some(c.output()) == hash_felt(&settled)
        } else {
            state.commitment::<Optimistic>(|h| Ok(*h))?.output() == settled
        };
        if !matches {
            return Err(RollupError::OutputMismatch(h.settled.saturating_sub(1)));
        }
        Ok(h)
    }

    /// Pays an exit: checks that the rollup is frozen, the claimed state is its last settled one,
    /// the account is in it with this balance, its key signed the exit, and it has not exited;
    /// then takes the balance out of the escrow. The caller credits the recipient.
    pub(crate) fn exit(&mut self, claim: &ExitClaim) -> Result<(), RollupError> {
        let h = self.frozen_state(claim.rollup, &claim.state)?;
        if claim.index >= claim.state.account_count {
            return Err(RollupError::AccountOutOfRange {
                index: claim.index,
                count: claim.state.account_count,
            });
        }
        if claim.balance == 0 {
            return Err(RollupError::ZeroAmount);
        }
        let key = exit_key(claim.index);
        if self.state().claimed(h.id, key) {
            return Err(RollupError::AlreadyExited(claim.index));
        }
        if h.params.kind.zk().is_some() {
            self.charge(crate::gas::ZK_EXIT_GAS)?;
            check_exit::<Zk>(claim, felt)?;
        } else {
            check_exit::<Optimistic>(claim, |h| Ok(*h))?;
        }
        self.pay_from_escrow(h, claim.balance, key)?
            .header
            .exit_count += 1;
        Ok(())
    }

    /// Refunds deposit `index` of a frozen rollup to its L1 sender, if the last settled state
    /// (`state`) had not consumed it. Returns who is paid and how much; the caller credits them.
    pub(crate) fn refund_deposit(
        &mut self,
        rollup: u32,
        index: u64,
        state: &SettledState,
    ) -> Result<(PublicKey, Amount), RollupError> {
        let h = self.frozen_state(rollup, state)?;
        let record = self
            .state()
            .deposit(rollup, index)
            .ok_or(RollupError::UnknownDeposit(index))?;
        if record.entry.amount == 0 {
            return Err(RollupError::ZeroAmount); // a forced transaction: nothing to refund
        }
        if index < state.next_deposit {
            return Err(RollupError::DepositApplied {
                index,
                next: state.next_deposit,
            });
        }
        let key = refund_key(index);
        if self.state().claimed(rollup, key) {
            return Err(RollupError::AlreadyRefunded(index));
        }
        self.pay_from_escrow(h, record.entry.amount, key)?
            .header
            .refund_count += 1;
        Ok((record.sender, record.entry.amount))
    }

    /// Takes `amount` out of the escrow of `h` and records payment `key` as made; returns the
    /// rollup's diff.
    pub(crate) fn pay_from_escrow(
        &mut self,
        h: RollupHeader,
        amount: Amount,
        key: u64,
    ) -> Result<&mut super::RollupDiff, RollupError> {
        let escrow = h
            .escrow
            .checked_sub(amount)
            .ok_or(RollupError::EscrowShort {
                escrow: h.escrow,
                amount,
            })?;
        let d = self.rollup_diff(h);
        d.header.escrow = escrow;
        d.header.claim_count += 1;
        d.header.claims_digest = fold(d.header.claims_digest, CLAIMS_DOMAIN, &key.to_le_bytes());
        d.claims.push(key);
        Ok(d)
    }
}

/// A ZK rollup's L1 hash as a field element.
fn felt(h: &Hash) -> Result<basalt_types::zk::Felt, RollupError> {
    hash_felt(h).ok_or(RollupError::NotAFieldElement)
}

/// Checks an exit's account proof against its state and its signature under the account's key, in
/// the profile's hashes and signatures.
fn check_exit<P: Profile>(
    claim: &ExitClaim,
    digest: impl Fn(&Hash) -> Result<P::Digest, RollupError>,
) -> Result<(), RollupError> {
    let per_level = <P::Hasher as basalt_merkle::TreeHasher>::ARITY as usize - 1;
    if claim.proof.len() != P::TREE_DEPTH as usize * per_level {
        return Err(RollupError::BadAccountProof);
    }
    let key = P::PublicKey::from_bytes(&claim.key.0).map_err(|_| RollupError::BadL2Key)?;
    let account = Account::<P> {
        key,
        balance: claim.balance,
        nonce: claim.nonce,
    };
    let proof = MerkleProof {
        index: claim.index,
        siblings: claim
            .proof
            .iter()
            .map(&digest)
            .collect::<Result<Vec<_>, _>>()?,
    };
    if !proof.verify::<P::Hasher>(&digest(&claim.state.accounts_root)?, account.leaf()) {
        return Err(RollupError::BadAccountProof);
    }
    let signature =
        P::Signature::from_bytes(&claim.signature).map_err(|_| RollupError::BadExitSignature)?;
    let tx = exit_message::<P>(
        claim.index,
        claim.recipient,
        claim.balance,
        claim.nonce,
        signature,
    );
    if !P::verify(&key, &tx.signing_message(claim.rollup), &signature) {
        return Err(RollupError::BadExitSignature);
    }
    Ok(())
}
