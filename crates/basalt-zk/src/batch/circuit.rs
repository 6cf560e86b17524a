//! The batch circuit's constraints. Each rule of the STF is named where it is enforced; the ones
//! that need no constraint of their own say why.

use super::witness::{BatchWitness, Leaf, SlotKind, SlotWitness, UpdateWitness};
use super::INDEX_BITS;
use crate::gadgets::{
    alloc_scalar_bits, poseidon_tagged_var, update_roots, verify_eddsa, Bit, FrVar, PathLevel,
    PointVar,
};
use ark_ff::{AdditiveGroup, BigInteger, Field, PrimeField};
use ark_r1cs_std::{
    alloc::AllocVar, boolean::Boolean, eq::EqGadget, fields::FieldVar, select::CondSelectGadget,
    GR1CSVar,
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use basalt_l2::{zk_tags, Profile, Zk, DATA_SEED_TAG, DATA_TAG};
use basalt_types::zk::{Felt, Fr};

/// The batch circuit over one witness; its slot count is the witness's.
#[derive(Debug, Clone)]
pub struct BatchCircuit {
    /// The witness (for key generation, any witness of the right slot count).
    pub witness: BatchWitness,
}

impl BatchCircuit {
    /// The circuit of `slots` padding slots on a fresh rollup: what key generation needs (its
    /// shape, not its values).
    pub fn blank(slots: usize) -> BatchCircuit {
        let state = basalt_l2::L2State::<Zk>::genesis(
            basalt_l2::Config {
                rollup_id: 0,
                min_fee: 0,
            },
            basalt_types::zk::BabyKeypair::dev(b"basalt-zk-blank").public(),
        );
        let window = basalt_l2::DepositWindow {
            first: 0,
            entries: &[],
        };
        let witness = BatchWitness::build(&state, &window, &[], slots)
            .expect("an empty batch always has a witness");
        BatchCircuit { witness }
    }
}

fn constant(v: u128) -> FrVar {
    FrVar::constant(Felt::from_u128(v).0)
}

fn pow2(n: u32) -> Fr {
    let mut p = Fr::from(1u8);
    for _ in 0..n {
        p.double_in_place();
    }
    p
}

/// `n` little-endian bits of `v`, enforced to encode it: `v` is below 2^n.
fn range_bits(
    cs: &ConstraintSystemRef<Fr>,
    v: &FrVar,
    n: usize,
) -> Result<Vec<Bit>, SynthesisError> {
    let value = v.value().ok().map(|f| f.into_bigint().to_bits_le());
    let bits = (0..n)
        .map(|i| {
            Boolean::new_witness(cs.clone(), || {
                value
                    .as_ref()
                    .map(|b| b[i])
                    .ok_or(SynthesisError::AssignmentMissing)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Boolean::le_bits_to_fp(&bits)?.enforce_equal(v)?;
    Ok(bits)
}

fn bit(cs: &ConstraintSystemRef<Fr>, b: bool) -> Result<Bit, SynthesisError> {
    Boolean::new_witness(cs.clone(), || Ok(b))
}

fn felt(cs: &ConstraintSystemRef<Fr>, f: Felt) -> Result<FrVar, SynthesisError> {
    FrVar::new_witness(cs.clone(), || Ok(f.0))
}

fn num(b: &Bit) -> FrVar {
    FrVar::from(b.clone())
}

/// An account leaf's preimage in the circuit.
#[derive(Clone)]
struct LeafVar {
    x: FrVar,
    y: FrVar,
    balance: FrVar,
    nonce: FrVar,
}

impl LeafVar {
    fn alloc(cs: &ConstraintSystemRef<Fr>, leaf: &Leaf) -> Result<LeafVar, SynthesisError> {
        Ok(LeafVar {
            x: felt(cs, leaf.x)?,
            y: felt(cs, leaf.y)?,
            balance: felt(cs, leaf.balance)?,
            nonce: felt(cs, leaf.nonce)?,
        })
    }

    fn hash(&self, balance: &FrVar, nonce: &FrVar) -> Result<FrVar, SynthesisError> {
        poseidon_tagged_var(
            zk_tags::ACCOUNT,
            &[
                self.x.clone(),
                self.y.clone(),
                balance.clone(),
                nonce.clone(),
            ],
        )
    }
}

/// An update's index (as bits and as a number), path and the account it reads.
struct UpdateVar {
    index: FrVar,
    path: Vec<PathLevel>,
    old: LeafVar,
}

impl UpdateVar {
    /// `fixed`: the index is the constant of the witness (the fee write at account 0).
    fn alloc(
        cs: &ConstraintSystemRef<Fr>,
        w: &UpdateWitness,
        fixed: bool,
    ) -> Result<UpdateVar, SynthesisError> {
        let bits = (0..INDEX_BITS)
            .map(|i| {
                let b = w.index >> i & 1 == 1;
                if fixed {
                    Ok(Boolean::constant(b))
                } else {
                    bit(cs, b)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let path = w
            .siblings
            .iter()
            .zip(bits.chunks(2))
            .map(|(s, b)| {
                Ok(PathLevel {
                    bits: [b[0].clone(), b[1].clone()],
                    siblings: [felt(cs, s[0])?, felt(cs, s[1])?, felt(cs, s[2])?],
                })
            })
            .collect::<Result<Vec<_>, SynthesisError>>()?;
        Ok(UpdateVar {
            index: Boolean::le_bits_to_fp(&bits)?,
            path,
            old: LeafVar::alloc(cs, &w.old)?,
        })
    }
}

/// The state between slots.
struct StateVar {
    accounts_root: FrVar,
    count: FrVar,
    next_deposit: FrVar,
    withdrawals_root: FrVar,
    withdrawal_count: FrVar,
    /// Fees not yet written to account 0.
    register: FrVar,
    /// The data hash so far.
    data: FrVar,
}

impl StateVar {
    fn output(&self) -> Result<FrVar, SynthesisError> {
        let counters = &self.count + &self.next_deposit * pow2(32);
        let state = poseidon_tagged_var(zk_tags::STATE, &[self.accounts_root.clone(), counters])?;
        let withdrawals = poseidon_tagged_var(
            zk_tags::WITHDRAWALS,
            &[self.withdrawals_root.clone(), self.withdrawal_count.clone()],
        )?;
        poseidon_tagged_var(zk_tags::OUTPUT, &[state, withdrawals])
    }
}

/// The rules every slot shares.
struct Rules {
    rollup_id: FrVar,
    min_fee: FrVar,
}

impl ConstraintSynthesizer<Fr> for BatchCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let w = &self.witness;
        let input = |f: Felt| FrVar::new_input(cs.clone(), || Ok(f.0));
        let (prior_output, new_output, data_hash) = (
            input(w.prior_output)?,
            input(w.new_output)?,
            input(w.data_hash)?,
        );
        let rules = Rules {
            rollup_id: felt(&cs, Felt::from_u128(w.config.rollup_id as u128))?,
            min_fee: felt(&cs, Felt::from_u128(w.config.min_fee))?,
        };
        let p = &w.prior;
        let next_deposit = felt(&cs, Felt::from_u128(p.next_deposit as u128))?;
        // The seed binds the rollup, its minimum fee and where in the deposit queue the batch
        // starts to what the L1 computes; the next deposit is then the state's own.
        let data = poseidon_tagged_var(
            DATA_SEED_TAG,
            &[
                next_deposit.clone(),
                rules.rollup_id.clone(),
                rules.min_fee.clone(),
            ],
        )?;
        let mut state = StateVar {
            accounts_root: felt(&cs, p.accounts_root)?,
            count: felt(&cs, Felt::from_u128(p.account_count as u128))?,
            next_deposit,
            withdrawals_root: felt(&cs, p.withdrawals_tree_root)?,
            withdrawal_count: felt(&cs, Felt::from_u128(p.withdrawal_count as u128))?,
            register: FrVar::zero(),
            data,
        };
        state.output()?.enforce_equal(&prior_output)?;
        for slot in &w.slots {
            apply_slot(&cs, &rules, &mut state, slot)?;
        }
        // The fee register's last write, into account 0.
        let fees = UpdateVar::alloc(&cs, &w.fees, true)?;
        let balance = &fees.old.balance + &state.register;
        range_bits(&cs, &balance, 128)?;
        let old = fees.old.hash(&fees.old.balance, &fees.old.nonce)?;
        let new = fees.old.hash(&balance, &fees.old.nonce)?;
        let (old_root, new_root) = update_roots(&old, &new, &fees.path)?;
        old_root.enforce_equal(&state.accounts_root)?;
        state.accounts_root = new_root;
        state.output()?.enforce_equal(&new_output)?;
        state.data.enforce_equal(&data_hash)
    }
}

/// One slot: updates A and B, the signature, the fee register and the data hash.
fn apply_slot(
    cs: &ConstraintSystemRef<Fr>,
    rules: &Rules,
    state: &mut StateVar,
    w: &SlotWitness,
) -> Result<(), SynthesisError> {
    let is_dep = bit(cs, w.kind == SlotKind::Deposit)?;
    let is_tr = bit(cs, w.kind == SlotKind::Transfer)?;
    let is_wd = bit(cs, w.kind == SlotKind::Withdraw)?;
    // At most one kind: their sum is a bit.
    let active = num(&is_dep) + num(&is_tr) + num(&is_wd);
    active.mul_equals(&(FrVar::one() - &active), &FrVar::zero())?;
    let is_send = num(&is_tr) + num(&is_wd);
    // Amount and fee need no range checks: the data hash binds them to the posted integers (below
    // 2^128); the same holds for the recipient halves and the deposit's key.
    let amount = felt(cs, w.amount)?;
    let fee = felt(cs, w.fee)?;
    let [x, y] = [felt(cs, w.xy[0])?, felt(cs, w.xy[1])?];
    let hint_bits = (0..33)
        .map(|i| bit(cs, w.hint >> i & 1 == 1))
        .collect::<Result<Vec<_>, _>>()?;
    let hint = Boolean::le_bits_to_fp(&hint_bits)?;
    let has_hint = hint_bits[32].clone();
    let hint_low = Boolean::le_bits_to_fp(&hint_bits[..32])?;
    let hint_in = bit(cs, w.hint_in)?;

    // Update A: the sender (or, for a deposit, the account its hint names; otherwise a read).
    // UnknownAccount needs no check: the old leaf is a preimage, so the index is allocated (every
    // leaf at or past the account count is empty, and no preimage hashes to zero).
    let a = UpdateVar::alloc(cs, &w.a, false)?;
    let a_zero = a.index.is_zero()?;
    let taken = &FrVar::from(a_zero) * &state.register;
    let flushed = &is_send * &taken;
    // InsufficientBalance and Overflow of amount + fee: what is left must be a 128-bit balance.
    let a_balance = &a.old.balance + &flushed - &is_send * (&amount + &fee);
    range_bits(cs, &a_balance, 128)?;
    let a_nonce = &a.old.nonce + &is_send;
    // A nonce never passes 2^64 - 1: (nonce - (2^64 - 1)) · inverse = is_send.
    let at_max = &a.old.nonce - constant(u64::MAX as u128);
    let inverse = FrVar::new_witness(cs.clone(), || {
        Ok(at_max.value()?.inverse().unwrap_or_default() * is_send.value()?)
    })?;
    at_max.mul_equals(&inverse, &is_send)?;
    let a_old = a.old.hash(&a.old.balance, &a.old.nonce)?;
    let a_new = a.old.hash(&a_balance, &a_nonce)?;
    let (old_root, accounts_root) = update_roots(&a_old, &a_new, &a.path)?;
    old_root.enforce_equal(&state.accounts_root)?;
    let register = &state.register - &flushed;

    // BadSignature and BadNonce: the message is signed over the account's own nonce.
    let b = UpdateVar::alloc(cs, &w.b, false)?;
    let to = num(&is_tr) * &b.index;
    let kind = num(&is_tr) + num(&is_wd) * Fr::from(2u8);
    let head = &kind
        + &rules.rollup_id * pow2(8)
        + &a.index * pow2(40)
        + &to * pow2(72)
        + &a.old.nonce * pow2(104);
    let message = poseidon_tagged_var(
        zk_tags::TX,
        &[head, amount.clone(), fee.clone(), x.clone(), y.clone()],
    )?;
    let r8 = PointVar::witness(cs.clone(), Some(w.r8))?;
    let s = alloc_scalar_bits(cs.clone(), Some(w.s))?;
    let sends = &is_tr | &is_wd;
    verify_eddsa(
        &sends,
        &PointVar {
            x: a.old.x.clone(),
            y: a.old.y.clone(),
        },
        &message,
        &r8,
        &s,
    )?;
    // FeeTooLow.
    range_bits(cs, &(&is_send * (&fee - &rules.min_fee)), 128)?;

    // Which account a deposit reaches: the hinted one if it is allocated and holds the deposit's
    // key, else a new one, else (every index taken) none. `hint_in` is the prover's claim that
    // the hint is allocated; both answers are checked, so the choice is forced.
    has_hint.conditional_enforce_equal(&Boolean::TRUE, &hint_in)?;
    let dep_in = &is_dep & &hint_in;
    (&a.index - &hint_low).conditional_enforce_equal(&FrVar::zero(), &dep_in)?;
    let past = &(&is_dep & &has_hint) & !&hint_in;
    range_bits(cs, &(num(&past) * (&hint_low - &state.count)), 32)?;
    let same_key = a.old.x.is_eq(&x)? & a.old.y.is_eq(&y)?;
    let existing = &dep_in & &same_key;
    let full = state.count.is_eq(&constant(Zk::tree_capacity() as u128))?;
    let opens = &(&is_dep & !&existing) & !&full;

    // Update B: the recipient, the credited or opened account, or the next withdrawal leaf.
    b.index
        .conditional_enforce_equal(&state.withdrawal_count, &is_wd)?;
    b.index.conditional_enforce_equal(&state.count, &opens)?;
    b.index.conditional_enforce_equal(&hint_low, &existing)?;
    let credits_deposit = &existing | &opens;
    b.old.x.conditional_enforce_equal(&x, &credits_deposit)?;
    b.old.y.conditional_enforce_equal(&y, &credits_deposit)?;
    b.old
        .balance
        .conditional_enforce_equal(&FrVar::zero(), &opens)?;
    b.old
        .nonce
        .conditional_enforce_equal(&FrVar::zero(), &opens)?;
    let credited = num(&is_tr) + num(&credits_deposit);
    let b_zero = b.index.is_zero()?;
    let taken = &FrVar::from(b_zero) * &register;
    let flushed = &credited * &taken;
    // Overflow of the recipient's balance.
    let b_balance = &b.old.balance + &flushed + &credited * &amount;
    range_bits(cs, &b_balance, 128)?;
    let b_account_old = b.old.hash(&b.old.balance, &b.old.nonce)?;
    let empty = &is_wd | &opens;
    let b_old = FrVar::conditionally_select(&empty, &FrVar::zero(), &b_account_old)?;
    let b_account_new = b.old.hash(&b_balance, &b.old.nonce)?;
    let withdrawal =
        poseidon_tagged_var(zk_tags::WITHDRAWAL, &[x.clone(), y.clone(), amount.clone()])?;
    let b_new = FrVar::conditionally_select(&is_wd, &withdrawal, &b_account_new)?;
    let tree = FrVar::conditionally_select(&is_wd, &state.withdrawals_root, &accounts_root)?;
    let (old_root, new_root) = update_roots(&b_old, &b_new, &b.path)?;
    old_root.enforce_equal(&tree)?;
    state.accounts_root = FrVar::conditionally_select(&is_wd, &accounts_root, &new_root)?;
    state.withdrawals_root =
        FrVar::conditionally_select(&is_wd, &new_root, &state.withdrawals_root)?;
    state.count = &state.count + num(&opens);
    state.withdrawal_count = &state.withdrawal_count + num(&is_wd);
    state.next_deposit = &state.next_deposit + num(&is_dep);
    state.register = register - flushed + &is_send * &fee;

    // The data hash: kind + 2^8·from + 2^41·to + 2^73·fee, amount, x, y.
    let from = num(&is_dep) * &hint + &is_send * &a.index;
    let head = kind + from * pow2(8) + to * pow2(41) + &fee * pow2(73);
    let next = poseidon_tagged_var(DATA_TAG, &[state.data.clone(), head, amount, x, y])?;
    let is_active = &sends | &is_dep;
    state.data = FrVar::conditionally_select(&is_active, &next, &state.data)?;
    Ok(())
}
