//! L1 transactions: encoding, signing and signature verification.

use crate::bridge::{ExitClaim, RollupParams, SettledState, WithdrawalClaim};
use crate::dispute::MAX_WITNESS_BYTES;
use crate::params::{MAX_BLOB_BYTES, MAX_TX_BYTES};
use basalt_types::codec::{put_bytes, put_varint};
use basalt_types::{
    hash_parts, Amount, Decode, DecodeError, Decoder, Encode, Hash, Keypair, PublicKey, Signature,
    SignatureError,
};

/// Encoding version of transactions.
pub const TX_VERSION: u8 = 1;

/// What a transaction does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Moves `amount` to `to`, creating the account if new.
    Transfer {
        /// Recipient.
        to: PublicKey,
        /// Amount moved.
        amount: Amount,
    },
    /// Bonds `amount` of the sender's balance as stake.
    Stake {
        /// Amount bonded.
        amount: Amount,
    },
    /// Starts unbonding `amount` of stake; it returns to the balance at the next epoch boundary.
    Unstake {
        /// Amount unbonded.
        amount: Amount,
    },
    /// Publishes opaque data for data availability; its bytes pay the blob fee.
    PostBlob {
        /// The blob.
        data: Vec<u8>,
        /// Most the sender will pay per blob byte.
        max_fee_per_blob_byte: u64,
    },
    /// Registers a rollup; its id is its position in the registry.
    RegisterRollup {
        /// Its parameters.
        params: RollupParams,
    },
    /// Escrows `amount` for the rollup and queues a deposit to the L2 key `key`.
    Deposit {
        /// Rollup id.
        rollup: u32,
        /// The existing L2 account to credit, if it belongs to `key`; otherwise a new one opens.
        account: Option<u32>,
        /// The L2 key that owns the funds.
        key: PublicKey,
        /// Amount escrowed.
        amount: Amount,
    },
    /// Posts a batch (sequencer only): the data is kept as a blob and pays the blob fee.
    PostBatch {
        /// Rollup id.
        rollup: u32,
        /// The number the batch takes: the rollup's batch count, else the post fails, so that a
        /// sequencer's pipelined posts never skip one that failed.
        index: u64,
        /// The encoded, compressed batch.
        data: Vec<u8>,
        /// Digest of `data` ([`crate::blob_hash`]); must match.
        data_hash: Hash,
        /// The batch may consume queued deposits below this index.
        deposits_end: u64,
        /// Most the sender will pay per blob byte.
        max_fee_per_blob_byte: u64,
    },
    /// Proposes the output after batch `batch`, locking the rollup's proposer bond.
    ProposeOutput {
        /// Rollup id.
        rollup: u32,
        /// The batch the output follows.
        batch: u64,
        /// The output it builds on: batch `batch - 1`'s, or the genesis output for batch 0.
        prior: Hash,
        /// The output, H(state root, withdrawals root).
        output: Hash,
    },
    /// Pays an L2 withdrawal on L1 against a proof into the withdrawals root of a settled output.
    FinalizeWithdrawal(WithdrawalClaim),
    /// Counters claim `parent` of proposal `proposal`'s claim tree with a claim of `value`,
    /// locking the rollup's dispute bond: at its left child by attack (the parent's state is
    /// wrong), at its right neighbour's left child by defence (it is right, the fault lies later).
    Counter {
        /// Rollup id.
        rollup: u32,
        /// The proposal whose tree is played.
        proposal: u64,
        /// The claim countered (0 is the proposed output).
        parent: u32,
        /// Attack rather than defend.
        attack: bool,
        /// The state the new claim asserts at its node's trace position.
        value: Hash,
    },
    /// Counters bottom claim `leaf` of proposal `proposal`'s tree with a one-step proof: the L1
    /// re-executes the one step that claim's position decides against the witness.
    Step {
        /// Rollup id.
        rollup: u32,
        /// The proposal whose tree is played.
        proposal: u64,
        /// The bottom claim countered.
        leaf: u32,
        /// Attack (the step into the leaf's position) rather than defend (the step out of it).
        attack: bool,
        /// The encoded [`basalt_l2::StepWitness`] of the step against the state before it
        /// (empty for a step past the batch's transactions, which changes nothing).
        witness: Vec<u8>,
    },
    /// Settles the next unproven batch of a ZK rollup with a validity proof: the L1 checks it
    /// against the registered verifying key and the public inputs it knows (the settled prior
    /// output, the batch's data hash) with the new output claimed here.
    ProveBatch {
        /// Rollup id.
        rollup: u32,
        /// The batch: the rollup's first unsettled one.
        batch: u64,
        /// The output after the batch, a BN254 field element (32 bytes, big-endian).
        output: Hash,
        /// The Groth16 proof, compressed ([`basalt_zk::PROOF_BYTES`]).
        proof: Vec<u8>,
    },
    /// Reverts every unproven batch of a ZK rollup (sequencer only), as zkSync Lite's
    /// `revertBlocks` did: each settles as a no-op on the last settled output, and the deposits
    /// they consumed return to the queue, so that a batch no proof can exist for freezes nothing.
    RevertBatches {
        /// Rollup id.
        rollup: u32,
        /// The first unsettled batch (must match, so that a revert meant for other batches fails).
        from: u64,
    },
    /// Queues a signed L2 transfer or withdrawal (encoded as `l2_sendTransaction` takes it) in the
    /// rollup's queue, as a deposit is queued: the batches must apply it by its force-inclusion
    /// deadline, whatever the sequencer wants. The L1 checks its signature under `key` first; it
    /// applies if its sender's account holds `key` when its place is consumed.
    ForceInclude {
        /// Rollup id.
        rollup: u32,
        /// The L2 key that signed `tx` (a ZK rollup's: a packed BabyJubJub point).
        key: PublicKey,
        /// The encoded L2 transaction (at most [`basalt_l2::MAX_L2_TX_BYTES`]).
        tx: Vec<u8>,
    },
    /// Pays an account of a frozen rollup its balance in the last settled state, once (anyone
    /// may send it; the account's L2 key signs where the funds go).
    Exit(ExitClaim),
    /// Refunds a deposit of a frozen rollup that its last settled state had not consumed, to the
    /// L1 account that paid it (anyone may send it).
    RefundDeposit {
        /// Rollup id.
        rollup: u32,
        /// The deposit's queue index.
        index: u64,
        /// The last settled state's commitment, which says which deposits it consumed.
        state: SettledState,
    },
}

impl Action {
    /// Tokens the action moves out of the sender's balance (beyond fees).
    /// (A proposer bond depends on the rollup; execution checks it.)
    pub fn value(&self) -> Amount {
        match self {
            Action::Transfer { amount, .. }
            | Action::Stake { amount }
            | Action::Deposit { amount, .. } => *amount,
            _ => 0,
        }
    }

    /// The blob the action posts and the most its sender pays per byte.
    pub fn blob(&self) -> Option<(&[u8], u64)> {
        match self {
            Action::PostBlob {
                data,
                max_fee_per_blob_byte,
            }
            | Action::PostBatch {
                data,
                max_fee_per_blob_byte,
                ..
            } => Some((data, *max_fee_per_blob_byte)),
            _ => None,
        }
    }

    /// Blob bytes the action posts.
    pub fn blob_bytes(&self) -> u64 {
        self.blob().map_or(0, |(data, _)| data.len() as u64)
    }

    /// Gas the action pays before it runs (see [`crate::gas::intrinsic`]).
    pub fn intrinsic_gas(&self) -> u64 {
        crate::gas::intrinsic(self)
    }
}

/// The signed content of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Chain this transaction is valid on.
    pub chain_id: u64,
    /// Sender's nonce: exactly the account's next nonce.
    pub nonce: u64,
    /// Most the sender pays per gas, base fee plus tip.
    pub max_fee_per_gas: u64,
    /// Tip per gas to the proposer, capped by `max_fee_per_gas - base_fee`.
    pub priority_fee_per_gas: u64,
    /// Most gas it may use; it pays only what it uses (see [`crate::gas`]).
    pub gas_limit: u64,
    /// What it does.
    pub action: Action,
}

/// A transaction with its sender and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// Sender, whose key signed.
    pub signer: PublicKey,
    /// Content.
    pub tx: Transaction,
    /// ed25519 signature over [`SignedTransaction::signing_hash`].
    pub signature: Signature,
}

impl Encode for Action {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Action::Transfer { to, amount } => {
                out.push(0);
                to.encode_to(out);
                put_varint(out, *amount);
            }
            Action::Stake { amount } => {
                out.push(1);
                put_varint(out, *amount);
            }
            Action::Unstake { amount } => {
                out.push(2);
                put_varint(out, *amount);
            }
            Action::PostBlob {
                data,
                max_fee_per_blob_byte,
            } => {
                out.push(3);
                put_varint(out, *max_fee_per_blob_byte as u128);
                put_bytes(out, data);
            }
            Action::RegisterRollup { params } => {
                out.push(4);
                params.encode_to(out);
            }
            Action::Deposit {
                rollup,
                account,
                key,
                amount,
            } => {
                out.push(5);
                put_varint(out, *rollup as u128);
                match account {
                    None => out.push(0),
                    Some(i) => {
                        out.push(1);
                        put_varint(out, *i as u128);
                    }
                }
                key.encode_to(out);
                put_varint(out, *amount);
            }
            Action::PostBatch {
                rollup,
                index,
                data,
                data_hash,
                deposits_end,
                max_fee_per_blob_byte,
            } => {
                out.push(6);
                put_varint(out, *rollup as u128);
                put_varint(out, *index as u128);
                data_hash.encode_to(out);
                put_varint(out, *deposits_end as u128);
                put_varint(out, *max_fee_per_blob_byte as u128);
                put_bytes(out, data);
            }
            Action::ProposeOutput {
                rollup,
                batch,
                prior,
                output,
            } => {
                out.push(7);
                put_varint(out, *rollup as u128);
                put_varint(out, *batch as u128);
                prior.encode_to(out);
                output.encode_to(out);
            }
            Action::FinalizeWithdrawal(claim) => {
                out.push(8);
                claim.encode_to(out);
            }
            Action::Counter {
                rollup,
                proposal,
                parent,
                attack,
                value,
            } => {
                out.push(9);
                put_varint(out, *rollup as u128);
                put_varint(out, *proposal as u128);
                put_varint(out, *parent as u128);
                out.push(*attack as u8);
                value.encode_to(out);
            }
            Action::Step {
                rollup,
                proposal,
                leaf,
                attack,
                witness,
            } => {
                out.push(10);
                put_varint(out, *rollup as u128);
                put_varint(out, *proposal as u128);
                put_varint(out, *leaf as u128);
                out.push(*attack as u8);
                put_bytes(out, witness);
            }
            Action::ProveBatch {
                rollup,
                batch,
                output,
                proof,
            } => {
                out.push(11);
                put_varint(out, *rollup as u128);
                put_varint(out, *batch as u128);
                output.encode_to(out);
                put_bytes(out, proof);
            }
            Action::RevertBatches { rollup, from } => {
                out.push(12);
                put_varint(out, *rollup as u128);
                put_varint(out, *from as u128);
            }
            Action::ForceInclude { rollup, key, tx } => {
                out.push(15);
                put_varint(out, *rollup as u128);
                key.encode_to(out);
                put_bytes(out, tx);
            }
            Action::Exit(claim) => {
                out.push(13);
                claim.encode_to(out);
            }
            Action::RefundDeposit {
                rollup,
                index,
                state,
            } => {
                out.push(14);
                put_varint(out, *rollup as u128);
                put_varint(out, *index as u128);
                state.encode_to(out);
            }
        }
    }
}

fn flag(d: &mut Decoder<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match d.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        tag => Err(DecodeError::UnknownTag {
            what,
            tag: tag as u64,
        }),
    }
}

fn varint_u32(d: &mut Decoder<'_>) -> Result<u32, DecodeError> {
    u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)
}

impl Decode for Action {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(match d.u8()? {
            0 => Action::Transfer {
                to: PublicKey::decode_from(d)?,
                amount: d.varint()?,
            },
            1 => Action::Stake {
                amount: d.varint()?,
            },
            2 => Action::Unstake {
                amount: d.varint()?,
            },
            3 => {
                let max_fee_per_blob_byte = d.varint_u64()?;
                let data = d.bytes("blob", MAX_BLOB_BYTES)?.to_vec();
                Action::PostBlob {
                    data,
                    max_fee_per_blob_byte,
                }
            }
            4 => Action::RegisterRollup {
                params: RollupParams::decode_from(d)?,
            },
            5 => Action::Deposit {
                rollup: varint_u32(d)?,
                account: match d.u8()? {
                    0 => None,
                    1 => Some(varint_u32(d)?),
                    tag => {
                        return Err(DecodeError::UnknownTag {
                            what: "deposit account",
                            tag: tag as u64,
                        })
                    }
                },
                key: PublicKey::decode_from(d)?,
                amount: d.varint()?,
            },
            6 => {
                let rollup = varint_u32(d)?;
                let index = d.varint_u64()?;
                let data_hash = Hash::decode_from(d)?;
                let deposits_end = d.varint_u64()?;
                let max_fee_per_blob_byte = d.varint_u64()?;
                let data = d.bytes("batch", MAX_BLOB_BYTES)?.to_vec();
                Action::PostBatch {
                    rollup,
                    index,
                    data,
                    data_hash,
                    deposits_end,
                    max_fee_per_blob_byte,
                }
            }
            7 => Action::ProposeOutput {
                rollup: varint_u32(d)?,
                batch: d.varint_u64()?,
                prior: Hash::decode_from(d)?,
                output: Hash::decode_from(d)?,
            },
            8 => Action::FinalizeWithdrawal(WithdrawalClaim::decode_from(d)?),
            9 => Action::Counter {
                rollup: varint_u32(d)?,
                proposal: d.varint_u64()?,
                parent: varint_u32(d)?,
                attack: flag(d, "counter direction")?,
                value: Hash::decode_from(d)?,
            },
            10 => Action::Step {
                rollup: varint_u32(d)?,
                proposal: d.varint_u64()?,
                leaf: varint_u32(d)?,
                attack: flag(d, "step direction")?,
                witness: d.bytes("witness", MAX_WITNESS_BYTES)?.to_vec(),
            },
            11 => Action::ProveBatch {
                rollup: varint_u32(d)?,
                batch: d.varint_u64()?,
                output: Hash::decode_from(d)?,
                proof: d.bytes("proof", basalt_zk::PROOF_BYTES)?.to_vec(),
            },
            12 => Action::RevertBatches {
                rollup: varint_u32(d)?,
                from: d.varint_u64()?,
            },
            13 => Action::Exit(ExitClaim::decode_from(d)?),
            15 => Action::ForceInclude {
                rollup: varint_u32(d)?,
                key: PublicKey::decode_from(d)?,
                tx: d
                    .bytes("forced L2 transaction", basalt_l2::MAX_L2_TX_BYTES)?
                    .to_vec(),
            },
            14 => Action::RefundDeposit {
                rollup: varint_u32(d)?,
                index: d.varint_u64()?,
                state: SettledState::decode_from(d)?,
            },
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "action",
                    tag: tag as u64,
                })
            }
        })
    }
}

impl Encode for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(TX_VERSION);
        put_varint(out, self.chain_id as u128);
        put_varint(out, self.nonce as u128);
        put_varint(out, self.max_fee_per_gas as u128);
        put_varint(out, self.priority_fee_per_gas as u128);
        put_varint(out, self.gas_limit as u128);
        self.action.encode_to(out);
    }
}

impl Decode for Transaction {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let version = d.u8()?;
        if version != TX_VERSION {
            return Err(DecodeError::UnknownTag {
                what: "transaction version",
                tag: version as u64,
            });
        }
        Ok(Transaction {
            chain_id: d.varint_u64()?,
            nonce: d.varint_u64()?,
            max_fee_per_gas: d.varint_u64()?,
            priority_fee_per_gas: d.varint_u64()?,
            gas_limit: d.varint_u64()?,
            action: Action::decode_from(d)?,
        })
    }
}

impl Encode for SignedTransaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.signer.encode_to(out);
        self.tx.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for SignedTransaction {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(SignedTransaction {
            signer: PublicKey::decode_from(d)?,
            tx: Transaction::decode_from(d)?,
            signature: Signature::decode_from(d)?,
        })
    }
}

impl Transaction {
    /// Signs the transaction as `keypair`.
    pub fn sign(self, keypair: &Keypair) -> SignedTransaction {
        let signer = keypair.public();
        let signature = keypair.sign(&signing_hash(&signer, &self).0);
        SignedTransaction {
            signer,
            tx: self,
            signature,
        }
    }
}

/// The digest a sender signs: domain, sender and the encoded content.
fn signing_hash(signer: &PublicKey, tx: &Transaction) -> Hash {
    hash_parts("basalt/l1/tx-sign", &[&signer.0, &tx.to_bytes()])
}

impl SignedTransaction {
    /// Decodes a transaction from untrusted bytes, bounded by [`MAX_TX_BYTES`].
    pub fn decode_untrusted(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(DecodeError::TooLong {
                what: "transaction",
                len: bytes.len() as u64,
                max: MAX_TX_BYTES as u64,
            });
        }
        Self::from_bytes(bytes)
    }

    /// The digest the signer signed.
    pub fn signing_hash(&self) -> Hash {
        signing_hash(&self.signer, &self.tx)
    }

    /// The transaction id: a digest of the full encoding.
    pub fn hash(&self) -> Hash {
        hash_parts("basalt/l1/tx", &[&self.to_bytes()])
    }

    /// Checks the signature, yielding a transaction the executor accepts.
    pub fn verify(self) -> Result<VerifiedTx, SignatureError> {
        let msg = self.signing_hash();
        self.signer.verify(&msg.0, &self.signature)?;
        Ok(VerifiedTx::new(self))
    }
}

/// A transaction whose signature has been checked. Only [`SignedTransaction::verify`] and
/// [`verify_all`] make one, so the executor never sees an unchecked signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTx {
    tx: SignedTransaction,
    hash: Hash,
    encoded_len: usize,
}

impl VerifiedTx {
    fn new(tx: SignedTransaction) -> Self {
        let bytes = tx.to_bytes();
        let hash = hash_parts("basalt/l1/tx", &[&bytes]);
        VerifiedTx {
            tx,
            hash,
            encoded_len: bytes.len(),
        }
    }

    /// The transaction.
    pub fn tx(&self) -> &SignedTransaction {
        &self.tx
    }

    /// Its id.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// Its encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        self.encoded_len
    }

    /// The transaction, dropping the proof of verification.
    pub fn into_inner(self) -> SignedTransaction {
        self.tx
    }
}

/// Verifies a list of signatures with one batch check; on failure, names the first bad one. The
/// verdict on each transaction is the one [`SignedTransaction::verify`] gives it alone, whatever
/// else is in the list (ZIP-215), so validators that batch different subsets of a block agree.
pub fn verify_all(txs: Vec<SignedTransaction>) -> Result<Vec<VerifiedTx>, (usize, SignatureError)> {
    let items: Vec<(PublicKey, [u8; 32], Signature)> = txs
        .iter()
        .map(|t| (t.signer, t.signing_hash().0, t.signature))
        .collect();
    if let Some((i, Err(e))) = basalt_types::verify_each(&items)
        .into_iter()
        .enumerate()
        .find(|(_, r)| r.is_err())
    {
        return Err((i, e));
    }
    Ok(txs.into_iter().map(VerifiedTx::new).collect())
}

/// A bad signature: its transaction's index, and why.
type BadSignature = (usize, SignatureError);

/// As [`verify_all`], on `threads` threads, with the same verdict (the lowest index of an invalid
/// signature, with its error). The transactions are shared out by signer, so that each key is
/// in one share: a batch check's cost grows with its distinct keys as well as its signatures.
pub fn verify_all_threads(
    txs: Vec<SignedTransaction>,
    threads: usize,
) -> Result<Vec<VerifiedTx>, (usize, SignatureError)> {
    let threads = threads.clamp(1, txs.len().max(1));
    if threads == 1 {
        return verify_all(txs);
    }
    let mut shares: Vec<Vec<usize>> = vec![Vec::new(); threads];
    for (i, t) in txs.iter().enumerate() {
        shares[t.signer.0[0] as usize % threads].push(i);
    }
    let txs = &txs;
    let checked: Vec<(Vec<VerifiedTx>, Option<BadSignature>)> = std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .iter()
            .map(|share| {
                s.spawn(move || {
                    let items: Vec<(PublicKey, [u8; 32], Signature)> = share
                        .iter()
                        .map(|&i| (txs[i].signer, txs[i].signing_hash().0, txs[i].signature))
                        .collect();
                    let failed = basalt_types::verify_each(&items)
                        .into_iter()
                        .zip(share)
                        .find_map(|(r, &i)| r.err().map(|e| (i, e)));
                    let verified = match failed {
                        Some(_) => Vec::new(),
                        None => share
                            .iter()
                            .map(|&i| VerifiedTx::new(txs[i].clone()))
                            .collect(),
                    };
                    (verified, failed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a signature check does not panic"))
            .collect()
    });
    if let Some(first) = checked
        .iter()
        .filter_map(|(_, f)| f.clone())
        .min_by_key(|(i, _)| *i)
    {
        return Err(first);
    }
    let mut out: Vec<Option<VerifiedTx>> = (0..txs.len()).map(|_| None).collect();
    for (share, (verified, _)) in shares.iter().zip(checked) {
        for (&i, v) in share.iter().zip(verified) {
            out[i] = Some(v);
        }
    }
    Ok(out
        .into_iter()
        .map(|v| v.expect("every transaction is in one share"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_types::dev_keypair;

    fn transfer(nonce: u64) -> Transaction {
        Transaction {
            chain_id: 7,
            nonce,
            max_fee_per_gas: 10,
            priority_fee_per_gas: 1,
            gas_limit: crate::gas::TRANSFER_GAS,
            action: Action::Transfer {
                to: dev_keypair("t", 9).public(),
                amount: 5,
            },
        }
    }

    #[test]
    fn signed_transaction_roundtrips_and_verifies() {
        let stx = transfer(3).sign(&dev_keypair("t", 1));
        let bytes = stx.to_bytes();
        let back = SignedTransaction::decode_untrusted(&bytes).unwrap();
        assert_eq!(back, stx);
        assert_eq!(back.clone().verify().unwrap().hash(), stx.hash());
    }

    #[test]
    fn changing_any_signed_field_breaks_the_signature() {
        let stx = transfer(3).sign(&dev_keypair("t", 1));
        let mut other = stx.clone();
        other.tx.nonce = 4;
        assert!(other.verify().is_err());
        let mut other = stx.clone();
        other.tx.chain_id = 8;
        assert!(other.verify().is_err());
        let mut other = stx;
        other.signer = dev_keypair("t", 2).public();
        assert!(other.verify().is_err());
    }

    #[test]
    fn batch_verification_names_the_bad_transaction() {
        let mut txs: Vec<_> = (0..5)
            .map(|i| transfer(i).sign(&dev_keypair("t", i)))
            .collect();
        txs[2].tx.nonce = 99;
        assert_eq!(verify_all(txs).unwrap_err().0, 2);
    }

    #[test]
    fn unknown_versions_tags_and_oversized_input_are_rejected() {
        let mut bytes = transfer(0).sign(&dev_keypair("t", 1)).to_bytes();
        bytes[32] = 9;
        assert!(matches!(
            SignedTransaction::decode_untrusted(&bytes),
            Err(DecodeError::UnknownTag { .. })
        ));
        let huge = vec![0u8; MAX_TX_BYTES + 1];
        assert!(matches!(
            SignedTransaction::decode_untrusted(&huge),
            Err(DecodeError::TooLong { .. })
        ));
    }
}
