//! The batch circuit's witness, built natively from the state before the batch, the deposit queue
//! and the signed transactions. The builder follows the circuit's own order of updates (the fee
//! register included) in field arithmetic, so a transaction that breaks a rule still gets a witness,
//! and that witness fails the circuit's constraints: the test that no witness proves a batch the STF
//! rejects runs on exactly these.

use super::INDEX_BITS;
use crate::gadgets::circuit_siblings;
use ark_ff::PrimeField;
use basalt_l2::{
    data_hash, zk_tags, Config, DepositEntry, Deposits, L2State, L2Tx, PostedTx, Profile, Zk,
};
use basalt_merkle::{MerkleTree, PoseidonHasher};
use basalt_types::zk::{poseidon_tagged, BabyPoint, Felt, Fr, SubScalar};
use std::collections::BTreeMap;

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// Nothing: both updates are reads and the data hash is unchanged.
    Pad,
    /// The next deposit of the L1 queue.
    Deposit,
    /// A transfer between accounts.
    Transfer,
    /// A withdrawal to an L1 key.
    Withdraw,
}

/// An account leaf's preimage: P_1(x, y, balance, nonce).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Leaf {
    /// The key's x coordinate.
    pub x: Felt,
    /// The key's y coordinate.
    pub y: Felt,
    /// The balance.
    pub balance: Felt,
    /// The nonce.
    pub nonce: Felt,
}

impl Leaf {
    /// The account leaf (`Zk::account_leaf` for a well-formed account).
    pub fn hash(&self) -> Felt {
        poseidon_tagged(
            zk_tags::ACCOUNT,
            &[self.x, self.y, self.balance, self.nonce],
        )
    }
}

/// One tree update: the leaf's index, the preimage of the account read there, and the path's
/// siblings per level, in the circuit's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateWitness {
    /// Leaf index.
    pub index: u32,
    /// The account read (zero for an empty leaf).
    pub old: Leaf,
    /// Siblings, leaf level first.
    pub siblings: Vec<[Felt; 3]>,
}

/// Everything the circuit needs for one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotWitness {
    /// What the slot holds.
    pub kind: SlotKind,
    /// Amount moved.
    pub amount: Felt,
    /// Fee paid.
    pub fee: Felt,
    /// A withdrawal's recipient halves or a deposit's key; zero otherwise.
    pub xy: [Felt; 2],
    /// A deposit's account hint: the index, plus 2^32 when present.
    pub hint: u64,
    /// Whether the hint names an allocated account (which update A then reads).
    pub hint_in: bool,
    /// Update A.
    pub a: UpdateWitness,
    /// Update B.
    pub b: UpdateWitness,
    /// The signature's R8 (`Base8` when there is none).
    pub r8: BabyPoint,
    /// The signature's S.
    pub s: SubScalar,
    /// A forced transaction's place in the queue: the kind is its transaction's, and it applies
    /// only if `ok` (its signature was checked by the L1 under `key`).
    pub forced: Option<ForcedWitness>,
}

/// What a forced transaction's slot proves: the fields the L1 checked its signature over, and
/// each condition of its application, true or false.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForcedWitness {
    /// The sender it names.
    pub from: u32,
    /// A transfer's recipient (zero for a withdrawal).
    pub to: u32,
    /// The nonce it was signed at.
    pub nonce: u64,
    /// The key the L1 checked its signature under.
    pub key: [Felt; 2],
    /// The sender is allocated (update A reads it; else `from` is at or past the count).
    pub from_in: bool,
    /// A transfer's recipient is allocated (update B reads it; else `to` is at or past the
    /// count). Unused by a withdrawal.
    pub to_in: bool,
    /// The sender's balance covers amount and fee.
    pub enough: bool,
}

/// The whole witness of one batch, with its public inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchWitness {
    /// The rollup's rules.
    pub config: Config,
    /// The state before the batch: accounts root, account count, next deposit, withdrawals tree
    /// root, withdrawal count.
    pub prior: basalt_l2::Commitment<Zk>,
    /// The slots.
    pub slots: Vec<SlotWitness>,
    /// The final write of the fee register into account 0.
    pub fees: UpdateWitness,
    /// Public: the prior output.
    pub prior_output: Felt,
    /// Public: the new output.
    pub new_output: Felt,
    /// Public: the data hash.
    pub data_hash: Felt,
}

impl BatchWitness {
    /// The public inputs in the circuit's order.
    pub fn public_inputs(&self) -> [Fr; 3] {
        [self.prior_output.0, self.new_output.0, self.data_hash.0]
    }

    /// The witness of `txs` applied to `state` in a circuit of `slots` slots. Fails only when no
    /// witness can even be laid out (too many transactions, an index outside the trees, a deposit
    /// out of order or not in the queue); a transaction that breaks a rule yields a witness the
    /// circuit refuses.
    pub fn build(
        state: &L2State<Zk>,
        deposits: &impl Deposits<Zk>,
        txs: &[L2Tx<Zk>],
        slots: usize,
    ) -> Result<BatchWitness, WitnessError> {
        if txs.len() > slots {
            return Err(WitnessError::TooManyTransactions {
                got: txs.len(),
                slots,
            });
        }
        let prior = state.commitment();
        let posted: Vec<PostedTx> = txs.iter().map(PostedTx::from).collect();
        let data_hash = data_hash(state.config(), &posted, deposits, prior.next_deposit)
            .map_err(|_| WitnessError::MissingDeposit)?;
        let mut sim = Sim::new(state);
        let mut witnesses = Vec::with_capacity(slots);
        for (i, tx) in txs
            .iter()
            .map(Some)
            .chain(std::iter::repeat(None))
            .take(slots)
            .enumerate()
        {
            let slot = sim.slot(tx, deposits).map_err(|e| e.at(i))?;
            witnesses.push(slot);
        }
        let fees = sim.flush_fees();
        let new_output = sim.output();
        Ok(BatchWitness {
            config: *state.config(),
            prior,
            slots: witnesses,
            fees,
            prior_output: state.output(),
            new_output,
            data_hash,
        })
    }
}

/// Why no witness could be laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// More transactions than slots.
    #[error("the batch holds {got} transactions; the circuit has {slots} slots")]
    TooManyTransactions {
        /// Transactions in the batch.
        got: usize,
        /// Slots of the circuit.
        slots: usize,
    },
    /// An index past the tree's capacity.
    #[error("transaction {tx} touches index {index}, outside the tree")]
    OutsideTree {
        /// Position in the batch.
        tx: usize,
        /// The index.
        index: u64,
    },
    /// A deposit out of queue order.
    #[error("transaction {tx} applies deposit {got}; the next is {expected}")]
    DepositOutOfOrder {
        /// Position in the batch.
        tx: usize,
        /// The next deposit.
        expected: u64,
        /// The one applied.
        got: u64,
    },
    /// A deposit the queue window does not hold.
    #[error("the batch applies a deposit that is not available to it")]
    MissingDeposit,
}

impl WitnessError {
    fn at(self, tx: usize) -> WitnessError {
        match self {
            WitnessError::OutsideTree { index, .. } => WitnessError::OutsideTree { tx, index },
            WitnessError::DepositOutOfOrder { expected, got, .. } => {
                WitnessError::DepositOutOfOrder { tx, expected, got }
            }
            other => other,
        }
    }
}

fn fr(v: u128) -> Fr {
    Felt::from_u128(v).0
}

/// A slot of `kind` with no signature, hint or forced transaction.
fn empty_slot(
    kind: SlotKind,
    amount: u128,
    fee: u128,
    xy: [Felt; 2],
    a: UpdateWitness,
    b: UpdateWitness,
) -> SlotWitness {
    SlotWitness {
        kind,
        amount: Felt::from_u128(amount),
        fee: Felt::from_u128(fee),
        xy,
        hint: 0,
        hint_in: false,
        a,
        b,
        r8: BabyPoint::base8(),
        s: SubScalar::from(0u8),
        forced: None,
    }
}

/// The batch replayed in the circuit's order of updates.
struct Sim<'a> {
    state: &'a L2State<Zk>,
    written: BTreeMap<u32, Leaf>,
    accounts: MerkleTree<PoseidonHasher>,
    withdrawals: MerkleTree<PoseidonHasher>,
    count: u64,
    next_deposit: u64,
    withdrawal_count: u64,
    /// Fees not yet written to account 0.
    register: Fr,
}

impl<'a> Sim<'a> {
    fn new(state: &'a L2State<Zk>) -> Sim<'a> {
        let c = state.commitment();
        Sim {
            state,
            written: BTreeMap::new(),
            accounts: state.accounts_tree().clone(),
            withdrawals: state.withdrawals_tree().clone(),
            count: c.account_count as u64,
            next_deposit: c.next_deposit,
            withdrawal_count: c.withdrawal_count,
            register: Fr::from(0u8),
        }
    }

    fn leaf(&self, index: u32) -> Leaf {
        self.written.get(&index).copied().unwrap_or_else(|| {
            self.state.get(index).map_or(Leaf::default(), |a| {
                let p = a.key.point();
                Leaf {
                    x: p.x,
                    y: p.y,
                    balance: Felt::from_u128(a.balance),
                    nonce: Felt::from_u128(a.nonce as u128),
                }
            })
        })
    }

    fn path(
        tree: &MerkleTree<PoseidonHasher>,
        index: u64,
    ) -> Result<(u32, Vec<[Felt; 3]>), WitnessError> {
        if index >= 1 << INDEX_BITS {
            return Err(WitnessError::OutsideTree { tx: 0, index });
        }
        let index = index as u32;
        let proof = tree.proof(index);
        let siblings = proof
            .siblings
            .chunks(3)
            .enumerate()
            .map(|(level, s)| circuit_siblings((index >> (2 * level)) & 3, s))
            .collect();
        Ok((index, siblings))
    }

    /// Reads account `index` for an update.
    fn read(&self, index: u64) -> Result<UpdateWitness, WitnessError> {
        let (index, siblings) = Sim::path(&self.accounts, index)?;
        Ok(UpdateWitness {
            index,
            old: self.leaf(index),
            siblings,
        })
    }

    fn write(&mut self, index: u32, leaf: Leaf) {
        self.written.insert(index, leaf);
        self.accounts.set(index, leaf.hash());
        self.accounts.commit();
    }

    /// What account `index` holds as the rules see it: the register belongs to account 0.
    fn seen(&mut self, update: &UpdateWitness) -> Fr {
        let mut balance = update.old.balance.0;
        if update.index == 0 {
            balance += self.register;
            self.register = Fr::from(0u8);
        }
        balance
    }

    fn slot(
        &mut self,
        tx: Option<&L2Tx<Zk>>,
        deposits: &impl Deposits<Zk>,
    ) -> Result<SlotWitness, WitnessError> {
        Ok(match tx {
            None => {
                let a = self.read(0)?;
                empty_slot(SlotKind::Pad, 0, 0, [Felt::ZERO; 2], a.clone(), a)
            }
            Some(L2Tx::Deposit { index }) => {
                if *index != self.next_deposit {
                    return Err(WitnessError::DepositOutOfOrder {
                        tx: 0,
                        expected: self.next_deposit,
                        got: *index,
                    });
                }
                let entry = deposits.get(*index).ok_or(WitnessError::MissingDeposit)?;
                self.next_deposit += 1;
                match entry.forced {
                    Some(tx) => self.forced(&entry, &tx)?,
                    None => self.deposit(&entry)?,
                }
            }
            Some(tx) => self.send(tx)?,
        })
    }

    /// A deposit's slot (the queue cursor already moved past it).
    fn deposit(&mut self, entry: &DepositEntry<Zk>) -> Result<SlotWitness, WitnessError> {
        let key = *entry.key.point();
        let hint_in = entry.account.is_some_and(|i| (i as u64) < self.count);
        let a = self.read(if hint_in {
            entry.account.unwrap_or(0) as u64
        } else {
            0
        })?;
        let existing = hint_in && a.old.x == key.x && a.old.y == key.y;
        let amount = fr(entry.amount);
        let b = if existing {
            let b = self.read(a.index as u64)?;
            let balance = self.seen(&b) + amount;
            self.write(
                b.index,
                Leaf {
                    balance: Felt(balance),
                    ..b.old
                },
            );
            b
        } else if self.count < Zk::tree_capacity() {
            let mut b = self.read(self.count)?;
            let opened = Leaf {
                x: key.x,
                y: key.y,
                balance: Felt::ZERO,
                nonce: Felt::ZERO,
            };
            b.old = opened;
            self.write(
                b.index,
                Leaf {
                    balance: Felt(amount),
                    ..opened
                },
            );
            self.count += 1;
            b
        } else {
            self.read(0)?
        };
        let mut s = empty_slot(SlotKind::Deposit, entry.amount, 0, [key.x, key.y], a, b);
        s.hint = entry.account.map_or(0, |i| i as u64 | 1 << 32);
        s.hint_in = hint_in;
        Ok(s)
    }

    /// The slot of a forced transaction in queue place `entry` (the cursor already moved past
    /// it): applied as a send if every condition holds, otherwise two reads that prove which one
    /// fails, in the rules' own terms (`basalt_l2`'s forced-place rule).
    fn forced(
        &mut self,
        entry: &DepositEntry<Zk>,
        tx: &L2Tx<Zk>,
    ) -> Result<SlotWitness, WitnessError> {
        let (kind, from, to, amount, fee, nonce, xy) = match *tx {
            L2Tx::Transfer {
                from,
                to,
                amount,
                fee,
                nonce,
                ..
            } => (
                SlotKind::Transfer,
                from,
                to,
                amount,
                fee,
                nonce,
                [Felt::ZERO; 2],
            ),
            L2Tx::Withdraw {
                from,
                recipient,
                amount,
                fee,
                nonce,
                ..
            } => {
                let xy = basalt_l2::key_halves(&recipient);
                (SlotKind::Withdraw, from, 0, amount, fee, nonce, xy)
            }
            // The L1 queues only transfers and withdrawals.
            L2Tx::Deposit { .. } => return Err(WitnessError::MissingDeposit),
        };
        let key = *entry.key.point();
        let from_in = (from as u64) < self.count;
        let a = self.read(if from_in { from as u64 } else { 0 })?;
        let register = if a.index == 0 {
            self.register
        } else {
            Fr::from(0u8)
        };
        let seen = a.old.balance.0 + register;
        let enough = seen.into_bigint() >= (fr(amount) + fr(fee)).into_bigint();
        let to_in = kind == SlotKind::Transfer && (to as u64) < self.count;
        let nonce_felt = Felt::from_u128(nonce as u128);
        let ok = from_in
            && [a.old.x, a.old.y] == [key.x, key.y]
            && a.old.nonce == nonce_felt
            && nonce != u64::MAX
            && enough
            && match kind {
                SlotKind::Withdraw => self.withdrawal_count < Zk::tree_capacity(),
                _ => to_in,
            };
        let mut slot = if ok {
            self.send(tx)?
        } else {
            let b = self.read(if to_in { to as u64 } else { 0 })?;
            empty_slot(kind, amount, fee, xy, a, b)
        };
        (slot.r8, slot.s) = (BabyPoint::base8(), SubScalar::from(0u8));
        slot.forced = Some(ForcedWitness {
            from,
            to,
            nonce,
            key: [key.x, key.y],
            from_in,
            to_in,
            enough,
        });
        Ok(slot)
    }

    /// A signed transfer's or withdrawal's slot, applied.
    fn send(&mut self, tx: &L2Tx<Zk>) -> Result<SlotWitness, WitnessError> {
        let (from, amount, fee, signature) = match tx {
            L2Tx::Transfer {
                from,
                amount,
                fee,
                signature,
                ..
            }
            | L2Tx::Withdraw {
                from,
                amount,
                fee,
                signature,
                ..
            } => (*from, *amount, *fee, signature),
            L2Tx::Deposit { .. } => unreachable!("a deposit is not sent"),
        };
        let a = self.read(from as u64)?;
        let balance = self.seen(&a) - fr(amount) - fr(fee);
        let nonce = a.old.nonce.0 + Fr::from(1u8);
        self.write(
            a.index,
            Leaf {
                balance: Felt(balance),
                nonce: Felt(nonce),
                ..a.old
            },
        );
        let (kind, xy, b) = match tx {
            L2Tx::Transfer { to, .. } => {
                let b = self.read(*to as u64)?;
                let balance = self.seen(&b) + fr(amount);
                self.write(
                    b.index,
                    Leaf {
                        balance: Felt(balance),
                        ..b.old
                    },
                );
                (SlotKind::Transfer, [Felt::ZERO; 2], b)
            }
            L2Tx::Withdraw { recipient, .. } => {
                let (index, siblings) = Sim::path(&self.withdrawals, self.withdrawal_count)?;
                let xy = basalt_l2::key_halves(recipient);
                let leaf = poseidon_tagged(zk_tags::WITHDRAWAL, &[xy[0], xy[1], Felt(fr(amount))]);
                self.withdrawals.set(index, leaf);
                self.withdrawals.commit();
                self.withdrawal_count += 1;
                (
                    SlotKind::Withdraw,
                    xy,
                    UpdateWitness {
                        index,
                        old: Leaf::default(),
                        siblings,
                    },
                )
            }
            L2Tx::Deposit { .. } => unreachable!("matched above"),
        };
        self.register += fr(fee);
        let mut s = empty_slot(kind, amount, fee, xy, a, b);
        (s.r8, s.s) = (signature.r8, signature.s);
        Ok(s)
    }

    /// Writes the fee register into account 0.
    fn flush_fees(&mut self) -> UpdateWitness {
        let update = self.read(0).expect("account 0 is in the tree");
        let balance = self.seen(&update);
        self.write(
            0,
            Leaf {
                balance: Felt(balance),
                ..update.old
            },
        );
        update
    }

    fn output(&self) -> Felt {
        let state = Zk::state_root(&self.accounts.root(), self.count as u32, self.next_deposit);
        let withdrawals = Zk::withdrawals_root(&self.withdrawals.root(), self.withdrawal_count);
        Zk::output(&state, &withdrawals)
    }
}
