//! What a posted ZK batch means without its signatures: how a verifier replays it from L1 data
//! alone, and the data hash that binds the posted transactions and the deposits they consume to the
//! batch's validity proof.

use crate::profile::{key_halves, Profile, Zk};
use crate::state::L2State;
use crate::stf::{Access, Deposits, Outcome, SigCheck, TxFailure};
use crate::types::{Config, DepositEntry, L2Tx};
use crate::zkbatch::PostedTx;
use basalt_types::zk::{poseidon_tagged, BabyPoint, BabySignature, Felt, SubScalar};

/// Domain tag of the data hash chain.
pub const DATA_TAG: u64 = 7;
/// Domain tag of the data hash chain's seed.
pub const DATA_SEED_TAG: u64 = 8;
/// The data hash's kind of a queue place holding a forced transaction (0 to 2 are the posted
/// kinds).
pub const FORCED_KIND: u128 = 3;

/// Why a posted ZK batch cannot be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PostedBatchError {
    /// A transaction would not apply: no proof can exist for the batch.
    #[error("transaction {index} of the batch fails: {failure}")]
    Fails {
        /// Position in the batch.
        index: usize,
        /// Why it fails.
        failure: TxFailure,
    },
    /// The batch consumes a deposit the L1 queue does not hold for it.
    #[error("the batch applies deposit {0}, which is not available to it")]
    MissingDeposit(u64),
}

/// A placeholder signature: the slot of a replayed transaction, never checked (the proof covers
/// signatures), and of a transaction before `signed_zk` signs it.
pub fn unchecked_signature() -> BabySignature {
    BabySignature {
        r8: BabyPoint::base8(),
        s: SubScalar::from(0u8),
    }
}

/// The full transaction a posted one stands for in `state`: a deposit is the next in the queue, a
/// nonce is the sender's next. (An unknown sender gets nonce 0 and fails as an unknown account.)
pub fn replayed_tx(state: &L2State<Zk>, posted: &PostedTx) -> L2Tx<Zk> {
    let nonce = |from: u32| state.get(from).map_or(0, |a| a.nonce);
    match *posted {
        // Mid-batch the state holds uncommitted writes: read the index, not the commitment.
        PostedTx::Deposit => L2Tx::Deposit {
            index: Access::next_deposit(state),
        },
        PostedTx::Transfer {
            from,
            to,
            amount,
            fee,
        } => L2Tx::Transfer {
            from,
            to,
            amount,
            fee,
            nonce: nonce(from),
            signature: unchecked_signature(),
        },
        PostedTx::Withdraw {
            from,
            recipient,
            amount,
            fee,
        } => L2Tx::Withdraw {
            from,
            recipient,
            amount,
            fee,
            nonce: nonce(from),
            signature: unchecked_signature(),
        },
    }
}

/// Replays a posted ZK batch on `state` as a verifier does, trusting the signatures to the proof,
/// and commits. Every transaction must apply (a deposit meeting a full tree, and a forced
/// transaction, are the failures a valid batch may hold); otherwise the batch is unprovable and
/// `state` must be discarded.
pub fn apply_posted(
    state: &mut L2State<Zk>,
    deposits: &impl Deposits<Zk>,
    posted: &[PostedTx],
) -> Result<(), PostedBatchError> {
    for (index, p) in posted.iter().enumerate() {
        let tx = replayed_tx(state, p);
        let forced = match tx {
            L2Tx::Deposit { index } => deposits.get(index).is_some_and(|e| e.forced.is_some()),
            _ => false,
        };
        match state.apply(deposits, &tx, SigCheck::Known(true)) {
            Outcome::Applied | Outcome::Failed(TxFailure::AccountsFull) => {}
            // A forced transaction's place is consumed whatever it does: the circuit proves its
            // failure as it proves its application.
            Outcome::Failed(_) if forced => {}
            Outcome::Failed(failure) => {
                state.commit();
                return Err(PostedBatchError::Fails { index, failure });
            }
        }
    }
    state.commit();
    Ok(())
}

/// The data hash of a ZK batch: a Poseidon chain seeded with
/// P_8(first deposit, rollup id, min fee), then each transaction as
/// P_7(h, kind + 2^8·from + 2^41·to + 2^73·fee, amount, x, y) with (x, y) a withdrawal's recipient
/// halves or a deposit's key (its `account` hint as `from`, plus 2^32 when present). A queue place
/// holding a forced transaction is P_7(h, 3, its signing message, its key's x, y) instead: the
/// message binds every field the L1 checked the signature over. The L1 computes
/// it from the posted blob, the rollup's rules and its deposit queue; the circuit computes the same
/// chain, so the seed binds the proof to the rollup and to where in the queue the batch starts.
pub fn data_hash(
    config: &Config,
    posted: &[PostedTx],
    deposits: &impl Deposits<Zk>,
    first_deposit: u64,
) -> Result<Felt, PostedBatchError> {
    let mut h = poseidon_tagged(
        DATA_SEED_TAG,
        &[
            Felt::from_u128(first_deposit as u128),
            Felt::from_u128(config.rollup_id as u128),
            Felt::from_u128(config.min_fee),
        ],
    );
    let mut next = first_deposit;
    let two73 = Felt::from_u128(1 << 73).0;
    for p in posted {
        let (kind, from, to, amount, fee, xy) = match *p {
            PostedTx::Deposit => {
                let entry: DepositEntry<Zk> = deposits
                    .get(next)
                    .ok_or(PostedBatchError::MissingDeposit(next))?;
                next += 1;
                let key = entry.key.point();
                if let Some(tx) = entry.forced {
                    let message = Zk::signing_message(config.rollup_id, &tx);
                    h = poseidon_tagged(
                        DATA_TAG,
                        &[h, Felt::from_u128(FORCED_KIND), message, key.x, key.y],
                    );
                    continue;
                }
                let hint = entry.account.map_or(0, |a| a as u64 | 1 << 32);
                (0u8, hint, 0u32, entry.amount, 0, [key.x, key.y])
            }
            PostedTx::Transfer {
                from,
                to,
                amount,
                fee,
            } => (1, from as u64, to, amount, fee, [Felt::ZERO; 2]),
            PostedTx::Withdraw {
                from,
                recipient,
                amount,
                fee,
            } => (2, from as u64, 0, amount, fee, key_halves(&recipient)),
        };
        let head = kind as u128 | (from as u128) << 8 | (to as u128) << 41;
        let head = Felt(Felt::from_u128(head).0 + Felt::from_u128(fee).0 * two73);
        h = poseidon_tagged(DATA_TAG, &[h, head, Felt::from_u128(amount), xy[0], xy[1]]);
    }
    Ok(h)
}
