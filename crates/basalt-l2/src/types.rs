//! Accounts, withdrawals, deposits and transactions of a rollup, with their canonical encodings.

use crate::profile::Profile;
use basalt_types::codec::put_varint;
use basalt_types::{Amount, Decode, DecodeError, Decoder, Encode};

/// Version byte of an encoded L2 transaction.
pub const L2_TX_VERSION: u8 = 1;
/// Largest encoded L2 transaction accepted from outside.
pub const MAX_L2_TX_BYTES: usize = 512;

/// The rules a rollup fixed when it registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The rollup's id in the L1 registry; signatures commit to it, so they never replay elsewhere.
    pub rollup_id: u32,
    /// Least fee a transfer or withdrawal pays.
    pub min_fee: Amount,
}

/// Index of the account that collects fees: the sequencer's, created at the rollup's genesis.
pub const FEE_ACCOUNT: u32 = 0;

/// An L2 account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account<P: Profile> {
    /// The key that signs for it.
    pub key: P::PublicKey,
    /// Spendable balance.
    pub balance: Amount,
    /// Transactions it has sent.
    pub nonce: u64,
}

impl<P: Profile> Account<P> {
    /// A new empty account for `key`.
    pub fn new(key: P::PublicKey) -> Self {
        Account {
            key,
            balance: 0,
            nonce: 0,
        }
    }

    /// The tree leaf of this account.
    pub fn leaf(&self) -> P::Digest {
        P::account_leaf(self)
    }
}

impl<P: Profile> Encode for Account<P> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.key.encode_to(out);
        out.extend_from_slice(&self.balance.to_le_bytes());
        out.extend_from_slice(&self.nonce.to_le_bytes());
    }
}

impl<P: Profile> Decode for Account<P> {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Account {
            key: P::PublicKey::decode_from(d)?,
            balance: d.u128()?,
            nonce: d.u64()?,
        })
    }
}

/// A withdrawal owed on L1, once the output that contains it settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Withdrawal {
    /// L1 account paid.
    pub recipient: basalt_types::PublicKey,
    /// Amount paid.
    pub amount: Amount,
}

impl Withdrawal {
    /// The tree leaf of this withdrawal.
    pub fn leaf<P: Profile>(&self) -> P::Digest {
        P::withdrawal_leaf(self)
    }
}

impl Encode for Withdrawal {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.recipient.encode_to(out);
        out.extend_from_slice(&self.amount.to_le_bytes());
    }
}

impl Decode for Withdrawal {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Withdrawal {
            recipient: basalt_types::PublicKey::decode_from(d)?,
            amount: d.u128()?,
        })
    }
}

/// A deposit as the L1 queued it: funds escrowed on L1 for an L2 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositEntry<P: Profile> {
    /// Credit this existing account if it belongs to `key`; otherwise a new account is created.
    pub account: Option<u32>,
    /// The L2 key the funds belong to.
    pub key: P::PublicKey,
    /// Amount escrowed.
    pub amount: Amount,
    /// A transfer or withdrawal forced in through the L1 in place of a deposit (its amount is
    /// zero, and `key` is the L2 key the L1 checked its signature under): applied when its place
    /// in the queue is consumed if its sender holds `key`, and consumed either way.
    pub forced: Option<L2Tx<P>>,
}

impl<P: Profile> Encode for DepositEntry<P> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self.account {
            None => out.push(0),
            Some(i) => {
                out.push(1);
                out.extend_from_slice(&i.to_le_bytes());
            }
        }
        self.key.encode_to(out);
        out.extend_from_slice(&self.amount.to_le_bytes());
        match &self.forced {
            None => out.push(0),
            Some(tx) => {
                out.push(1);
                tx.encode_to(out);
            }
        }
    }
}

impl<P: Profile> Decode for DepositEntry<P> {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let account = match d.u8()? {
            0 => None,
            1 => Some(d.u32()?),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "deposit account",
                    tag: tag as u64,
                })
            }
        };
        let key = P::PublicKey::decode_from(d)?;
        let amount = d.u128()?;
        let forced = match d.u8()? {
            0 => None,
            1 => Some(L2Tx::decode_from(d)?),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "forced transaction",
                    tag: tag as u64,
                })
            }
        };
        Ok(DepositEntry {
            account,
            key,
            amount,
            forced,
        })
    }
}

/// An L2 transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L2Tx<P: Profile> {
    /// Applies L1 deposit number `index` (deposits apply in queue order).
    Deposit {
        /// Position in the rollup's L1 deposit queue.
        index: u64,
    },
    /// Moves value between two L2 accounts.
    Transfer {
        /// Sender account.
        from: u32,
        /// Recipient account.
        to: u32,
        /// Value moved.
        amount: Amount,
        /// Fee paid to the sequencer.
        fee: Amount,
        /// Sender's nonce.
        nonce: u64,
        /// Sender's signature over [`L2Tx::signing_message`].
        signature: P::Signature,
    },
    /// Burns value on L2 and owes it to an L1 account once the output settles.
    Withdraw {
        /// Sender account.
        from: u32,
        /// L1 account paid.
        recipient: basalt_types::PublicKey,
        /// Value withdrawn.
        amount: Amount,
        /// Fee paid to the sequencer.
        fee: Amount,
        /// Sender's nonce.
        nonce: u64,
        /// Sender's signature over [`L2Tx::signing_message`].
        signature: P::Signature,
    },
}

impl<P: Profile> L2Tx<P> {
    /// The canonical bytes of every field but the signature.
    pub(crate) fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        match self {
            L2Tx::Deposit { index } => {
                out.push(0);
                put_varint(&mut out, *index as u128);
            }
            L2Tx::Transfer {
                from,
                to,
                amount,
                fee,
                nonce,
                ..
            } => {
                out.push(1);
                put_varint(&mut out, *from as u128);
                put_varint(&mut out, *to as u128);
                put_varint(&mut out, *amount);
                put_varint(&mut out, *fee);
                put_varint(&mut out, *nonce as u128);
            }
            L2Tx::Withdraw {
                from,
                recipient,
                amount,
                fee,
                nonce,
                ..
            } => {
                out.push(2);
                put_varint(&mut out, *from as u128);
                recipient.encode_to(&mut out);
                put_varint(&mut out, *amount);
                put_varint(&mut out, *fee);
                put_varint(&mut out, *nonce as u128);
            }
        }
        out
    }

    /// The digest a sender signs: the transaction without its signature, bound to one rollup.
    pub fn signing_message(&self, rollup_id: u32) -> P::Digest {
        P::signing_message(rollup_id, self)
    }

    /// The transaction forced in at the queue place this deposit step consumes in `queue`, if
    /// the place holds one: what the step runs, and the hash it is known by.
    pub fn forced_in(&self, queue: &[DepositEntry<P>]) -> Option<L2Tx<P>> {
        match self {
            L2Tx::Deposit { index } => queue.get(usize::try_from(*index).ok()?)?.forced,
            _ => None,
        }
    }

    /// The same transaction paying `to` (a deposit pays none and stays as it is).
    pub fn with_fee(mut self, to: Amount) -> Self {
        if let L2Tx::Transfer { fee, .. } | L2Tx::Withdraw { fee, .. } = &mut self {
            *fee = to;
        }
        self
    }

    /// The same transaction at nonce `to` (a deposit has none and stays as it is).
    pub fn with_nonce(mut self, to: u64) -> Self {
        if let L2Tx::Transfer { nonce, .. } | L2Tx::Withdraw { nonce, .. } = &mut self {
            *nonce = to;
        }
        self
    }

    /// The signature and signed fields, for transactions a user signs.
    pub fn signer(&self) -> Option<(u32, &P::Signature)> {
        match self {
            L2Tx::Deposit { .. } => None,
            L2Tx::Transfer {
                from, signature, ..
            }
            | L2Tx::Withdraw {
                from, signature, ..
            } => Some((*from, signature)),
        }
    }

    /// The transaction id: a blake3 digest of its encoding, whatever the profile.
    pub fn hash(&self) -> basalt_types::Hash {
        basalt_types::hash_parts("basalt/l2/tx-id", &[&self.to_bytes()])
    }

    /// Decodes a transaction from untrusted bytes, bounded by [`MAX_L2_TX_BYTES`].
    pub fn decode_untrusted(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_L2_TX_BYTES {
            return Err(DecodeError::TooLong {
                what: "L2 transaction",
                len: bytes.len() as u64,
                max: MAX_L2_TX_BYTES as u64,
            });
        }
        Self::from_bytes(bytes)
    }
}

impl L2Tx<crate::Optimistic> {
    /// Signs a transfer or withdrawal for rollup `rollup_id` with an ed25519 key (a deposit is
    /// returned unchanged: it carries no signature).
    pub fn signed(mut self, rollup_id: u32, keypair: &basalt_types::Keypair) -> Self {
        let sig = keypair.sign(&self.signing_message(rollup_id).0);
        match &mut self {
            L2Tx::Deposit { .. } => {}
            L2Tx::Transfer { signature, .. } | L2Tx::Withdraw { signature, .. } => *signature = sig,
        }
        self
    }
}

impl L2Tx<crate::Zk> {
    /// Signs a transfer or withdrawal for rollup `rollup_id` with a BabyJubJub key (a deposit is
    /// returned unchanged).
    pub fn signed_zk(mut self, rollup_id: u32, keypair: &basalt_types::zk::BabyKeypair) -> Self {
        let sig = keypair.sign(&self.signing_message(rollup_id));
        match &mut self {
            L2Tx::Deposit { .. } => {}
            L2Tx::Transfer { signature, .. } | L2Tx::Withdraw { signature, .. } => *signature = sig,
        }
        self
    }
}

impl<P: Profile> L2Tx<P> {
    /// The encoding without the version byte, as transactions sit inside a batch.
    pub fn encode_compact(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.body());
        if let Some((_, signature)) = self.signer() {
            signature.encode_to(out);
        }
    }

    /// Reads one transaction in the batch encoding ([`L2Tx::encode_compact`]).
    pub fn decode_compact(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let u32_field = |d: &mut Decoder<'_>| -> Result<u32, DecodeError> {
            u32::try_from(d.varint()?).map_err(|_| DecodeError::BadVarint)
        };
        match d.u8()? {
            0 => Ok(L2Tx::Deposit {
                index: d.varint_u64()?,
            }),
            1 => Ok(L2Tx::Transfer {
                from: u32_field(d)?,
                to: u32_field(d)?,
                amount: d.varint()?,
                fee: d.varint()?,
                nonce: d.varint_u64()?,
                signature: P::Signature::decode_from(d)?,
            }),
            2 => Ok(L2Tx::Withdraw {
                from: u32_field(d)?,
                recipient: basalt_types::PublicKey::decode_from(d)?,
                amount: d.varint()?,
                fee: d.varint()?,
                nonce: d.varint_u64()?,
                signature: P::Signature::decode_from(d)?,
            }),
            tag => Err(DecodeError::UnknownTag {
                what: "L2 transaction",
                tag: tag as u64,
            }),
        }
    }
}

impl<P: Profile> Encode for L2Tx<P> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(L2_TX_VERSION);
        self.encode_compact(out);
    }
}

impl<P: Profile> Decode for L2Tx<P> {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let version = d.u8()?;
        if version != L2_TX_VERSION {
            return Err(DecodeError::UnknownTag {
                what: "L2 transaction version",
                tag: version as u64,
            });
        }
        Self::decode_compact(d)
    }
}
