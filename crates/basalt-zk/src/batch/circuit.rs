//! The batch circuit's constraints. Each rule of the STF is named where it is enforced; the ones
//! that need no constraint of their own say why.

use super::witness::{BatchWitness, ForcedWitness, Leaf, SlotKind, SlotWitness, UpdateWitness};
use super::INDEX_BITS;
use crate::gadgets::{
    alloc_scalar_bits, poseidon_tagged_var, update_roots, verify_eddsa, Bit, FrVar, PathLevel,
    PointVar,
};
use ark_ff::{AdditiveGroup, BigInteger, PrimeField};
use ark_r1cs_std::{
    alloc::AllocVar, boolean::Boolean, eq::EqGadget, fields::FieldVar, select::CondSelectGadget,
    GR1CSVar,
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use basalt_l2::{zk_tags, Profile, Zk, DATA_SEED_TAG, DATA_TAG, FORCED_KIND};
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
    let sends = &is_tr | &is_wd;
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

    // A forced transaction's place: a send whose signature the L1 checked, bound through the data
    // hash by its signing message, which applies only if every condition below holds. The fields
    // are range-checked so that the message's head has one decomposition.
    let f = w.forced.unwrap_or(ForcedWitness {
        from: 0,
        to: 0,
        nonce: 0,
        key: [Felt::ZERO; 2],
        from_in: false,
        to_in: false,
        enough: true,
    });
    let is_forced = bit(cs, w.forced.is_some())?;
    num(&is_forced).mul_equals(&(FrVar::one() - &is_send), &FrVar::zero())?;
    let f_from = felt(cs, Felt::from_u128(f.from as u128))?;
    let f_to = felt(cs, Felt::from_u128(f.to as u128))?;
    let f_nonce = felt(cs, Felt::from_u128(f.nonce as u128))?;
    range_bits(cs, &f_from, 32)?;
    range_bits(cs, &f_to, 32)?;
    range_bits(cs, &f_nonce, 64)?;
    let [kx, ky] = [felt(cs, f.key[0])?, felt(cs, f.key[1])?];
    let from_in = bit(cs, f.from_in)?;
    let to_in = bit(cs, f.to_in)?;
    let enough = bit(cs, f.enough)?;
    // Anything but a forced place must cover its debit.
    enough.conditional_enforce_equal(&Boolean::TRUE, &!&is_forced)?;

    // Update A: the sender (or, for a deposit, the account its hint names; otherwise a read).
    // UnknownAccount needs no check: the old leaf is a preimage, so the index is allocated (every
    // leaf at or past the account count is empty, and no preimage hashes to zero).
    let a = UpdateVar::alloc(cs, &w.a, false)?;
    let a_zero = a.index.is_zero()?;
    let taken = &FrVar::from(a_zero) * &state.register;
    // A forced sender: read at its index if allocated, else shown to be at or past the count
    // (by the shared range check below).
    let forced_in = &is_forced & &from_in;
    (&a.index - &f_from).conditional_enforce_equal(&FrVar::zero(), &forced_in)?;
    let forced_to_in = &(&forced_in & &is_tr) & &to_in;
    let key_eq = a.old.x.is_eq(&kx)? & a.old.y.is_eq(&ky)?;
    let nonce_eq = a.old.nonce.is_eq(&f_nonce)?;
    let nonce_max = a.old.nonce.is_eq(&constant(u64::MAX as u128))?;
    let withdrawals_full = state
        .withdrawal_count
        .is_eq(&constant(Zk::tree_capacity() as u128))?;
    let room = (&is_wd & !&withdrawals_full) | (&is_tr & &to_in);
    let ok = &(&(&(&from_in & &key_eq) & &nonce_eq) & !&nonce_max) & &(&enough & &room);
    // Whether the send takes effect: always unless it is a forced one that fails.
    let go = !&is_forced | &ok;
    let (eff_tr, eff_wd) = (&is_tr & &go, &is_wd & &go);
    let eff_send = num(&eff_tr) + num(&eff_wd);
    // InsufficientBalance and Overflow of amount + fee: what is left must be a 128-bit balance
    // (and, for a forced send claimed short, what is missing is; the L1 checked that amount and
    // fee add up below 2^128).
    let cost = &amount + &fee;
    let left = &a.old.balance + &is_send * (&taken - &cost);
    let short = &cost - &a.old.balance - &taken - FrVar::one();
    range_bits(
        cs,
        &FrVar::conditionally_select(&enough, &left, &short)?,
        128,
    )?;
    let flushed = &eff_send * &taken;
    let a_balance = &a.old.balance + &eff_send * (&taken - &cost);
    let a_nonce = &a.old.nonce + &eff_send;
    // A nonce never passes 2^64 - 1.
    nonce_max.conditional_enforce_equal(&Boolean::FALSE, &(&eff_tr | &eff_wd))?;
    let a_old = a.old.hash(&a.old.balance, &a.old.nonce)?;
    let a_new = a.old.hash(&a_balance, &a_nonce)?;
    let (old_root, accounts_root) = update_roots(&a_old, &a_new, &a.path)?;
    old_root.enforce_equal(&state.accounts_root)?;
    let register = &state.register - &flushed;

    // BadSignature and BadNonce: the message is signed over the account's own nonce (a forced
    // one over its own fields, which the conditions above compare with the account's).
    let b = UpdateVar::alloc(cs, &w.b, false)?;
    let to = num(&is_tr) * &b.index;
    let kind = num(&is_tr) + num(&is_wd) * Fr::from(2u8);
    let select = |forced: &FrVar, own: &FrVar| FrVar::conditionally_select(&is_forced, forced, own);
    let head = &kind
        + &rules.rollup_id * pow2(8)
        + select(&f_from, &a.index)? * pow2(40)
        + select(&f_to, &to)? * pow2(72)
        + select(&f_nonce, &a.old.nonce)? * pow2(104);
    let message = poseidon_tagged_var(
        zk_tags::TX,
        &[head, amount.clone(), fee.clone(), x.clone(), y.clone()],
    )?;
    let r8 = PointVar::witness(cs.clone(), Some(w.r8))?;
    let s = alloc_scalar_bits(cs.clone(), Some(w.s))?;
    verify_eddsa(
        &(&sends & !&is_forced),
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
    // One range check shows whichever index is claimed unallocated to be at or past the count:
    // a deposit's hint, a forced sender, or (the sender allocated) a forced transfer's recipient.
    let from_past = &is_forced & !&from_in;
    let to_past = &(&forced_in & &is_tr) & !&to_in;
    let beyond = num(&past) * &hint_low + num(&from_past) * &f_from + num(&to_past) * &f_to;
    let claimed = num(&past) + num(&from_past) + num(&to_past);
    range_bits(cs, &(beyond - &claimed * &state.count), 32)?;
    let same_key = a.old.x.is_eq(&x)? & a.old.y.is_eq(&y)?;
    let existing = &dep_in & &same_key;
    let full = state.count.is_eq(&constant(Zk::tree_capacity() as u128))?;
    let opens = &(&is_dep & !&existing) & !&full;

    // Update B: the recipient, the credited or opened account, or the next withdrawal leaf.
    b.index
        .conditional_enforce_equal(&state.withdrawal_count, &eff_wd)?;
    b.index.conditional_enforce_equal(&state.count, &opens)?;
    b.index.conditional_enforce_equal(&hint_low, &existing)?;
    (&b.index - &f_to).conditional_enforce_equal(&FrVar::zero(), &forced_to_in)?;
    let credits_deposit = &existing | &opens;
    b.old.x.conditional_enforce_equal(&x, &credits_deposit)?;
    b.old.y.conditional_enforce_equal(&y, &credits_deposit)?;
    b.old
        .balance
        .conditional_enforce_equal(&FrVar::zero(), &opens)?;
    b.old
        .nonce
        .conditional_enforce_equal(&FrVar::zero(), &opens)?;
    let credited = num(&eff_tr) + num(&credits_deposit);
    let b_zero = b.index.is_zero()?;
    let taken = &FrVar::from(b_zero) * &register;
    let flushed = &credited * &taken;
    // Overflow of the recipient's balance.
    let b_balance = &b.old.balance + &flushed + &credited * &amount;
    range_bits(cs, &b_balance, 128)?;
    let b_account_old = b.old.hash(&b.old.balance, &b.old.nonce)?;
    let empty = &eff_wd | &opens;
    let b_old = FrVar::conditionally_select(&empty, &FrVar::zero(), &b_account_old)?;
    let b_account_new = b.old.hash(&b_balance, &b.old.nonce)?;
    let withdrawal =
        poseidon_tagged_var(zk_tags::WITHDRAWAL, &[x.clone(), y.clone(), amount.clone()])?;
    let b_new = FrVar::conditionally_select(&eff_wd, &withdrawal, &b_account_new)?;
    let tree = FrVar::conditionally_select(&eff_wd, &state.withdrawals_root, &accounts_root)?;
    let (old_root, new_root) = update_roots(&b_old, &b_new, &b.path)?;
    old_root.enforce_equal(&tree)?;
    state.accounts_root = FrVar::conditionally_select(&eff_wd, &accounts_root, &new_root)?;
    state.withdrawals_root =
        FrVar::conditionally_select(&eff_wd, &new_root, &state.withdrawals_root)?;
    state.count = &state.count + num(&opens);
    state.withdrawal_count = &state.withdrawal_count + num(&eff_wd);
    state.next_deposit = &state.next_deposit + num(&is_dep) + num(&is_forced);
    state.register = register - flushed + &eff_send * &fee;

    // The data hash: kind + 2^8·from + 2^41·to + 2^73·fee, amount, x, y; a forced place's is
    // FORCED_KIND, its signing message and its key (what the L1 hashes from its queue).
    let from = num(&is_dep) * &hint + &is_send * &a.index;
    let head = kind + from * pow2(8) + to * pow2(41) + &fee * pow2(73);
    let next = poseidon_tagged_var(
        DATA_TAG,
        &[
            state.data.clone(),
            select(&constant(FORCED_KIND), &head)?,
            select(&message, &amount)?,
            select(&kx, &x)?,
            select(&ky, &y)?,
        ],
    )?;
    let is_active = &sends | &is_dep;
    state.data = FrVar::conditionally_select(&is_active, &next, &state.data)?;
    Ok(())
}
