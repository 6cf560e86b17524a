//! Deterministic parallel execution of a proposed block: the parallel-execution lever.
//!
//! Transactions that touch disjoint accounts cannot see each other's effects, so they may run at
//! the same time. A block whose actions are all transfers is split into groups by the accounts
//! each transaction touches (its signer and its recipient, joined with a union-find), each group
//! keeping block order; the groups are shared out among the threads, each share runs on its own
//! builder over the parent's view, and the shares are merged in block order: the block's limits
//! (transaction count, gas, blob space) checked before each transaction as sequential execution
//! checks them, and the accounts the block creates numbered in the order sequential execution
//! creates them. The result is the same block, state diff and verdict whatever the thread count
//! (`tests/parallel.rs` holds it equal to [`super::verify_block_with`]). A block with any other
//! action runs sequentially: those touch shared state (the rollup registry, the committee).
//! The signatures, most of a block's cost, are checked in parallel shares by signer first
//! ([`crate::verify_all_threads`]), whatever the block holds.

use super::builder::Share;
use super::{BlockBuilder, BlockError, ExecutedBlock, TxError};
use crate::block::{Block, Header};
use crate::tx::{verify_all_threads, Action, VerifiedTx};
use crate::view::{StateRead, StateView};
use basalt_types::PublicKey;
use std::collections::{BTreeMap, HashMap};

/// Fewer transactions than this per thread are not worth a thread.
const MIN_TXS_PER_THREAD: usize = 64;

/// As [`super::verify_block`], on `threads` threads: signatures checked in parallel shares, and
/// the transactions run in parallel groups of disjoint accounts. Same result whatever `threads`.
pub fn verify_block_threads(
    view: &StateView<'_>,
    block: &Block,
    threads: usize,
) -> Result<ExecutedBlock, BlockError> {
    let threads = worth(threads, block.txs.len());
    let verified = verify_all_threads(block.txs.clone(), threads)
        .map_err(|(index, err)| BlockError::BadSignature { index, err })?;
    verify_block_with_threads(view, &block.header, &verified, threads)
}

/// As [`super::verify_block_with`], on `threads` threads.
pub fn verify_block_with_threads(
    view: &StateView<'_>,
    header: &Header,
    txs: &[VerifiedTx],
    threads: usize,
) -> Result<ExecutedBlock, BlockError> {
    let threads = worth(threads, txs.len());
    let all_transfers = txs
        .iter()
        .all(|t| matches!(t.tx().tx.action, Action::Transfer { .. }));
    let groups = match all_transfers && threads > 1 {
        true => groups(txs),
        false => Vec::new(),
    };
    if groups.len() < 2 {
        return super::verify_block_with(view, header, txs);
    }
    super::verify::check_link(view, header)?;
    let shares = share_out(groups, threads);
    let results: Vec<ShareResult> = std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .iter()
            .map(|indices| s.spawn(move || run_share(view, txs, indices)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a share's execution does not panic"))
            .collect()
    });
    let mut builder = BlockBuilder::new(view);
    merge(&mut builder, &shares, results)
        .map_err(|(index, err)| BlockError::InvalidTx { index, err })?;
    super::verify::finish_as(builder, header, txs.len())
}

/// The threads worth using for `txs` transactions: at most `threads`, each with at least
/// [`MIN_TXS_PER_THREAD`].
pub fn worth(threads: usize, txs: usize) -> usize {
    threads.clamp(1, (txs / MIN_TXS_PER_THREAD).max(1))
}

/// The transactions' indices grouped by the accounts they touch, each group in block order,
/// groups ordered by their first transaction.
fn groups(txs: &[VerifiedTx]) -> Vec<Vec<usize>> {
    let mut ids: HashMap<PublicKey, usize> = HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut id = |k: PublicKey, parent: &mut Vec<usize>| {
        *ids.entry(k).or_insert_with(|| {
            parent.push(parent.len());
            parent.len() - 1
        })
    };
    let mut first_account = Vec::with_capacity(txs.len());
    for t in txs {
        let stx = t.tx();
        let a = id(stx.signer, &mut parent);
        if let Action::Transfer { to, .. } = stx.tx.action {
            let b = id(to, &mut parent);
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
        first_account.push(a);
    }
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut order: Vec<usize> = Vec::new();
    for (i, a) in first_account.into_iter().enumerate() {
        let root = find(&mut parent, a);
        let group = by_root.entry(root).or_insert_with(|| {
            order.push(root);
            Vec::new()
        });
        group.push(i);
    }
    order
        .into_iter()
        .map(|r| by_root.remove(&r).expect("each root has its group"))
        .collect()
}

/// The groups shared out among `threads`: largest first, each to the least loaded share; each
/// share's transactions in block order.
fn share_out(mut groups: Vec<Vec<usize>>, threads: usize) -> Vec<Vec<usize>> {
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let mut shares: Vec<Vec<usize>> = vec![Vec::new(); threads.min(groups.len())];
    for g in groups {
        let least = (0..shares.len())
            .min_by_key(|&k| shares[k].len())
            .expect("at least one share");
        shares[least].extend(g);
    }
    for s in &mut shares {
        s.sort_unstable();
    }
    shares
}

/// What a share's run leaves: its builder's work, and the first of its transactions (by index in
/// the block) that failed, with why.
struct ShareResult {
    share: Share,
    failed: Option<(usize, TxError)>,
}

/// Runs the transactions `indices` of `txs`, in order, on a builder of their own without the
/// block's limits, until one fails.
fn run_share(view: &StateView<'_>, txs: &[VerifiedTx], indices: &[usize]) -> ShareResult {
    let mut b = BlockBuilder::new(view);
    b.block_limits = false;
    let mut failed = None;
    for &i in indices {
        if let Err(e) = b.apply(&txs[i]) {
            failed = Some((i, e));
            break;
        }
    }
    ShareResult {
        share: b.into_share(),
        failed,
    }
}

/// Merges the shares' results into `builder` in block order: the first transaction that fails,
/// by index, fails the block, whether its share refused it or the block's limits do; the
/// accounts created are numbered in the order of the transactions that created them.
fn merge(
    builder: &mut BlockBuilder<'_>,
    shares: &[Vec<usize>],
    results: Vec<ShareResult>,
) -> Result<(), (usize, TxError)> {
    let first_failure = results
        .iter()
        .filter_map(|r| r.failed.as_ref().map(|(i, _)| *i))
        .min();
    // Every transaction before the first failure ran in its share: put them in block order.
    let mut slots: Vec<Option<(usize, usize)>> = vec![None; shares.iter().map(Vec::len).sum()];
    for (k, (indices, r)) in shares.iter().zip(&results).enumerate() {
        for (pos, &i) in indices.iter().take(r.share.txs.len()).enumerate() {
            slots[i] = Some((k, pos));
        }
    }
    let end = first_failure.unwrap_or(slots.len());
    let in_order = slots[..end].iter().map(|s| {
        let (k, pos) = s.expect("every transaction before the first failure ran");
        let share = &results[k].share;
        (
            share.txs[pos].clone(),
            share.tx_hashes[pos],
            share.receipts[pos].clone(),
        )
    });
    builder.append(in_order)?;
    if let Some(i) = first_failure {
        let (_, e) = results
            .into_iter()
            .find_map(|r| r.failed.filter(|(f, _)| *f == i))
            .expect("the first failure is some share's");
        return Err((i, e));
    }
    // The accounts each share created, by the transaction that created them.
    let first_new = builder.state().next_index();
    let mut created: Vec<(usize, PublicKey)> = Vec::new();
    for (indices, r) in shares.iter().zip(&results) {
        let mut seen = 0;
        for (pos, &i) in indices.iter().enumerate() {
            // A transfer creates at most its recipient; the share's list is in its own order.
            if let Action::Transfer { to, .. } = r.share.txs[pos].tx.action {
                if r.share.changes.new_accounts.get(seen) == Some(&to) {
                    created.push((i, to));
                    seen += 1;
                }
            }
        }
        debug_assert_eq!(seen, r.share.changes.new_accounts.len());
    }
    created.sort_unstable_by_key(|(i, _)| *i);
    let mut fees = (0, 0);
    for r in results {
        fees.0 += r.share.tips;
        fees.1 += r.share.burned;
        builder.changes.accounts.extend(r.share.changes.accounts);
    }
    builder.add_fees(fees.0, fees.1);
    for (n, (i, key)) in created.into_iter().enumerate() {
        let index = u32::try_from(first_new + n as u64).map_err(|_| (i, TxError::AccountsFull))?;
        builder
            .changes
            .accounts
            .get_mut(&key)
            .expect("a created account is written")
            .index = index;
        builder.changes.new_accounts.push(key);
    }
    Ok(())
}
