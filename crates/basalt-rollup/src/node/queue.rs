//! The sequencer's queue of transactions waiting for a block, and the rule that admits one.
//!
//! A transaction refused inside a block pays no fee, yet costs the sequencer its checks (for a ZK
//! rollup one EdDSA-Poseidon verification each). So nothing enters the queue that its block could
//! refuse: the signature is verified at the door, and a sender's queued transactions must carry
//! its next nonces in order and together fit its balance. A sender's balance only falls by its own
//! transactions, so every admitted transaction applies and pays its fee, unless the sender's own
//! transaction forced in through the L1 takes its nonce first: then its queued ones are refused in
//! the block, at most [`MAX_PENDING_PER_SENDER`] for the price of one L1 `ForceInclude`. Each
//! sender holds at most that many places, so that no one account crowds the others out.
//!
//! A transaction pays at least what the fee model and the L1 ask now ([`super::pricing`]). A
//! block takes what the model lets it: every queued transaction (fixed price), the oldest up to
//! twice the target (EIP-1559), or the highest fees first up to the block's size (auction; each
//! sender's in nonce order). Under an auction a full queue takes a higher bid in place of the
//! lowest one waiting (the last of its sender's, so that nonces stay in order): whoever floods the
//! queue at the floor is outbid, not waited behind. Each sender's last transaction is kept
//! ordered by fee, so finding the one to outbid costs a logarithm, not a scan of the queue.

use super::pricing::Asked;
use super::{lock, Core};
use basalt_l2::{FeeModel, L2State, L2Tx, Profile, TxFailure};
use basalt_types::{Amount, Hash};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};

/// Most transactions waiting for the next block; more are refused until it is made.
pub const MAX_PENDING_TXS: usize = 65_536;
/// Most transactions of one sender waiting for a block.
pub const MAX_PENDING_PER_SENDER: u64 = 256;
/// Refused transactions remembered for `l2_getTransaction`.
const REMEMBERED_REFUSALS: usize = 100_000;

/// What one sender's queued transactions commit it to.
#[derive(Debug, Clone, Copy, Default)]
struct Owed {
    count: u64,
    spend: Amount,
}

/// Transactions waiting for the next block (or taken by the block being made), and recent
/// refusals.
pub(crate) struct Queue<Q: Profile> {
    /// The transactions waiting, by arrival number.
    waiting: BTreeMap<u64, L2Tx<Q>>,
    next_arrival: u64,
    /// By sender, the arrival numbers of its waiting transactions, in nonce order.
    chains: HashMap<u32, VecDeque<u64>>,
    /// Each sender's last waiting transaction by fee, the newest first among equal fees: the one
    /// an auction's full queue gives up for a higher bid.
    tails: BTreeSet<(Amount, Reverse<u64>)>,
    pub hashes: HashSet<Hash>,
    pub refused: HashMap<Hash, TxFailure>,
    refused_order: VecDeque<Hash>,
    /// By sender, the transactions admitted and not yet decided by a block.
    owed: HashMap<u32, Owed>,
    /// How blocks take transactions.
    model: FeeModel,
    /// Under an auction, the least fee that would have made the last block with what still
    /// waits after it (0 when everything waiting fits the next block).
    pub clearing: Amount,
}

impl<Q: Profile> Queue<Q> {
    /// An empty queue whose blocks take transactions as `model` says.
    pub fn new(model: FeeModel) -> Self {
        Queue {
            waiting: BTreeMap::new(),
            next_arrival: 0,
            chains: HashMap::new(),
            tails: BTreeSet::new(),
            hashes: HashSet::new(),
            refused: HashMap::new(),
            refused_order: VecDeque::new(),
            owed: HashMap::new(),
            model,
            clearing: 0,
        }
    }

    /// Transactions waiting for a block.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// The fee of waiting transaction `arrival`.
    fn fee_at(&self, arrival: u64) -> Amount {
        self.waiting
            .get(&arrival)
            .and_then(spend_of)
            .map_or(0, |s| s.fee)
    }

    /// Adds `tx` behind its sender's waiting transactions.
    fn push(&mut self, tx: L2Tx<Q>) {
        let Some(s) = spend_of(&tx) else { return };
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        if let Some(&last) = self.chains.get(&s.from).and_then(|c| c.back()) {
            self.tails.remove(&(self.fee_at(last), Reverse(last)));
        }
        self.waiting.insert(arrival, tx);
        self.chains.entry(s.from).or_default().push_back(arrival);
        self.tails.insert((s.fee, Reverse(arrival)));
    }

    /// Takes sender `from`'s first waiting transaction.
    fn pop_front(&mut self, from: u32) -> Option<L2Tx<Q>> {
        let chain = self.chains.get_mut(&from)?;
        let first = chain.pop_front()?;
        let empty = chain.is_empty();
        let fee = self.fee_at(first);
        let tx = self.waiting.remove(&first)?;
        if empty {
            self.chains.remove(&from);
            self.tails.remove(&(fee, Reverse(first)));
        }
        Some(tx)
    }

    /// Takes sender `from`'s last waiting transaction.
    fn pop_back(&mut self, from: u32) -> Option<L2Tx<Q>> {
        let chain = self.chains.get_mut(&from)?;
        let last = chain.pop_back()?;
        let before = chain.back().copied();
        let fee = self.fee_at(last);
        let tx = self.waiting.remove(&last)?;
        self.tails.remove(&(fee, Reverse(last)));
        match before {
            Some(b) => {
                self.tails.insert((self.fee_at(b), Reverse(b)));
            }
            None => {
                self.chains.remove(&from);
            }
        }
        Some(tx)
    }

    /// The waiting transactions, in arrival order.
    #[cfg(test)]
    fn waiting(&self) -> Vec<L2Tx<Q>> {
        self.waiting.values().copied().collect()
    }
}

/// A transaction that passed every check but its signature: what the signature must verify.
pub(crate) struct Ticket<Q: Profile> {
    key: Q::PublicKey,
    message: Q::Digest,
    signature: Q::Signature,
}

impl<Q: Profile> Ticket<Q> {
    /// What `tx`'s signature must verify on rollup `rollup_id` under the sender's `key`.
    pub fn new(key: Q::PublicKey, tx: &L2Tx<Q>, rollup_id: u32) -> Option<Ticket<Q>> {
        let (_, signature) = tx.signer()?;
        Some(Ticket {
            key,
            message: tx.signing_message(rollup_id),
            signature: *signature,
        })
    }

    /// Whether the signature verifies (the costly check: run it off the async threads).
    pub fn verify(&self) -> bool {
        Q::verify(&self.key, &self.message, &self.signature)
    }
}

/// The parts of a user's transaction the queue checks.
struct Spend {
    from: u32,
    amount: Amount,
    fee: Amount,
    nonce: u64,
    to: Option<u32>,
}

fn spend_of<Q: Profile>(tx: &L2Tx<Q>) -> Option<Spend> {
    let to = match *tx {
        L2Tx::Transfer { to, .. } => Some(to),
        _ => None,
    };
    match *tx {
        L2Tx::Transfer {
            from,
            amount,
            fee,
            nonce,
            ..
        }
        | L2Tx::Withdraw {
            from,
            amount,
            fee,
            nonce,
            ..
        } => Some(Spend {
            from,
            amount,
            fee,
            nonce,
            to,
        }),
        L2Tx::Deposit { .. } => None,
    }
}

impl<Q: Profile> Queue<Q> {
    /// The nonce account `from`'s next transaction must carry, counting those queued.
    pub fn next_nonce(&self, from: u32, state: &L2State<Q>) -> Option<u64> {
        let queued = self.owed.get(&from).map_or(0, |o| o.count);
        state.get(from).map(|a| a.nonce + queued)
    }

    /// Checks everything but the signature of `tx` against the soft `state` and what the queue
    /// already holds, cheapest first, and gives the sender's key; the error says why it is refused.
    pub fn check(
        &self,
        state: &L2State<Q>,
        asked: &Asked,
        tx: &L2Tx<Q>,
    ) -> Result<Q::PublicKey, String> {
        let Some(s) = spend_of(tx) else {
            return Err("a deposit is not a user's transaction: it comes from the L1 queue".into());
        };
        if s.fee < asked.total() {
            return Err(format!(
                "fee {} below the {} the rollup asks now ({} execution + {} for its {} bytes \
                 of L1 data): quote one with l2_estimateFee",
                s.fee,
                asked.total(),
                asked.execution,
                asked.l1_data,
                asked.bytes
            ));
        }
        if self.len() >= MAX_PENDING_TXS {
            match self.outbid(s.fee) {
                Some(_) => {}
                None if matches!(self.model, FeeModel::Auction { .. }) => {
                    return Err(format!(
                        "the sequencer's queue is full and its lowest bid is {}: bid more, or \
                         retry shortly",
                        self.tails.first().map_or(0, |&(fee, _)| fee)
                    ))
                }
                None => return Err("the sequencer's queue is full: retry shortly".into()),
            }
        }
        let Some(account) = state.get(s.from) else {
            return Err(format!("account {} does not exist", s.from));
        };
        let owed = self.owed.get(&s.from).copied().unwrap_or_default();
        let next = account.nonce + owed.count;
        if s.nonce < account.nonce {
            return Err(format!(
                "nonce {} already used (account {} is at {}): a replay",
                s.nonce, s.from, account.nonce
            ));
        }
        if s.nonce < next {
            return Err(format!(
                "nonce {} is already queued: account {}'s next is {next}",
                s.nonce, s.from
            ));
        }
        if s.nonce > next {
            return Err(format!(
                "nonce {} is ahead of account {}'s next, {next}: send that one first",
                s.nonce, s.from
            ));
        }
        if owed.count >= MAX_PENDING_PER_SENDER {
            return Err(format!(
                "account {} has {} transactions waiting, the most one sender may: retry after \
                 the next block",
                s.from, owed.count
            ));
        }
        let total = s
            .amount
            .checked_add(s.fee)
            .and_then(|t| t.checked_add(owed.spend));
        if total.is_none_or(|total| total > account.balance) {
            return Err(format!(
                "insufficient balance: account {} holds {}, {} of it committed by queued \
                 transactions",
                s.from, account.balance, owed.spend
            ));
        }
        if let Some(to) = s.to {
            if state.get(to).is_none() {
                return Err(format!(
                    "recipient account {to} does not exist (a deposit opens one)"
                ));
            }
        }
        Ok(account.key)
    }

    /// Under an auction, the sender whose last waiting transaction a bid of `fee` would take
    /// the place of: the lowest such fee, if below `fee`.
    fn outbid(&self, fee: Amount) -> Option<u32> {
        if !matches!(self.model, FeeModel::Auction { .. }) {
            return None;
        }
        let &(lowest, Reverse(arrival)) = self.tails.first()?;
        if lowest >= fee {
            return None;
        }
        self.waiting
            .get(&arrival)
            .and_then(spend_of)
            .map(|s| s.from)
    }

    /// The transactions the next block takes, in the order it applies them; the rest wait.
    pub fn take_block(&mut self) -> Vec<L2Tx<Q>> {
        let cap = self.model.block_capacity().unwrap_or(usize::MAX);
        if self.len() <= cap {
            self.clearing = 0;
            self.chains.clear();
            self.tails.clear();
            return std::mem::take(&mut self.waiting).into_values().collect();
        }
        let mut block = Vec::with_capacity(cap);
        if let FeeModel::Eip1559 { .. } = self.model {
            // The oldest: each is the first waiting of its sender.
            let senders: Vec<u32> = self
                .waiting
                .values()
                .take(cap)
                .filter_map(|tx| spend_of(tx).map(|s| s.from))
                .collect();
            block.extend(senders.into_iter().filter_map(|from| self.pop_front(from)));
            return block;
        }
        // Highest fee first among each sender's next transaction; ties to the oldest.
        let mut heads: BinaryHeap<(Amount, Reverse<u64>, u32)> = self
            .chains
            .iter()
            .filter_map(|(&from, c)| c.front().map(|&a| (self.fee_at(a), Reverse(a), from)))
            .collect();
        while block.len() < cap {
            let Some((_, _, from)) = heads.pop() else {
                break;
            };
            block.extend(self.pop_front(from));
            if let Some(&next) = self.chains.get(&from).and_then(|c| c.front()) {
                heads.push((self.fee_at(next), Reverse(next), from));
            }
        }
        // What would have made this block against what still waits: the cap-th highest fee.
        let mut fees: Vec<Amount> = self
            .waiting
            .values()
            .filter_map(spend_of)
            .map(|s| s.fee)
            .collect();
        self.clearing = match fees.len() >= cap {
            true => {
                let (_, kth, _) = fees.select_nth_unstable_by(cap - 1, |a, b| b.cmp(a));
                kth.saturating_add(1)
            }
            false => 0,
        };
        block
    }

    /// Queues `tx`, which [`Queue::check`] passed against the current state and whose signature
    /// verified; under an auction with a full queue, in place of the lowest bid it beats.
    fn admit(&mut self, tx: L2Tx<Q>) {
        let s = spend_of(&tx).expect("checked");
        if self.len() >= MAX_PENDING_TXS {
            if let Some(from) = self.outbid(s.fee) {
                if let Some(out) = self.pop_back(from) {
                    self.decided(&out, None);
                }
            }
        }
        let owed = self.owed.entry(s.from).or_default();
        owed.count += 1;
        owed.spend += s.amount + s.fee;
        let hash = tx.hash();
        self.refused.remove(&hash);
        self.hashes.insert(hash);
        self.push(tx);
    }

    /// Forgets `tx`, which a block just decided (in it, or refused for `refused`). Called under
    /// the sequencer's lock, so that no check sees the new state with the old commitments.
    pub fn decided(&mut self, tx: &L2Tx<Q>, refused: Option<TxFailure>) {
        let hash = tx.hash();
        self.hashes.remove(&hash);
        if let Some(s) = spend_of(tx) {
            if let Some(owed) = self.owed.get_mut(&s.from) {
                owed.count -= 1;
                owed.spend -= s.amount + s.fee;
                if owed.count == 0 {
                    self.owed.remove(&s.from);
                }
            }
        }
        if let Some(why) = refused {
            self.refuse(hash, why);
        }
    }

    fn refuse(&mut self, hash: Hash, why: TxFailure) {
        if self.refused.insert(hash, why).is_none() {
            self.refused_order.push_back(hash);
        }
        while self.refused_order.len() > REMEMBERED_REFUSALS {
            if let Some(old) = self.refused_order.pop_front() {
                self.refused.remove(&old);
            }
        }
    }
}

/// Admits `tx` to a sequencer's queue: the cheap checks, then the signature on a blocking thread
/// (at most one verification per two cores at a time, whoever sends), then the checks again against
/// whatever was queued meanwhile. The error says why it is refused; a refused transaction leaves
/// no trace.
pub(crate) async fn admit<Q: Profile>(core: &Core<Q>, tx: L2Tx<Q>) -> Result<(), String> {
    let seq = core.seq.as_ref().expect("only a sequencer queues");
    if core.is_frozen() {
        return Err(
            "the rollup is frozen: it takes no more transactions; exit on L1 with \
             `basalt wallet exit` (and `basalt wallet refund` for unapplied deposits)"
                .into(),
        );
    }
    let key = {
        let seq = lock(seq);
        let asked = core.asked(&seq, &tx);
        lock(&core.queue).check(seq.state(), &asked, &tx)?
    };
    #[cfg(feature = "faults")]
    if core.censor == Some(key) {
        return Err(format!(
            "refused: this sequencer censors the key of account {} (FAULT INJECTION, `censor`); \
             force it in through the L1 with `basalt wallet force-include`",
            tx.signer().map_or(0, |(from, _)| from)
        ));
    }
    let rollup_id = core.config.rollup_id;
    let verified = {
        let _permit = core
            .verifying
            .acquire()
            .await
            .map_err(|_| "the node is stopping".to_string())?;
        // The signing message is a Poseidon hash on a ZK rollup: off the async threads too.
        tokio::task::spawn_blocking(move || {
            Ticket::new(key, &tx, rollup_id).is_some_and(|t| t.verify())
        })
        .await
        .map_err(|e| format!("signature check failed: {e}"))?
    };
    if !verified {
        return Err(TxFailure::BadSignature.to_string());
    }
    let seq = lock(seq);
    let asked = core.asked(&seq, &tx);
    let mut q = lock(&core.queue);
    q.check(seq.state(), &asked, &tx)?;
    q.admit(tx);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_l2::{Config, DepositEntry, DepositWindow, Optimistic};
    use basalt_types::{dev_keypair, Keypair, Signature};

    type Q = Queue<Optimistic>;
    const CONFIG: Config = Config {
        rollup_id: 0,
        min_fee: 1,
    };

    /// What the tests' rollup asks: its floor of 1, no L1 data part.
    const FLOOR: Asked = Asked {
        execution: 1,
        l1_data: 0,
        bytes: 0,
    };

    fn key(n: u64) -> Keypair {
        dev_keypair("queue-test", n)
    }

    /// Accounts 1 and 2 (keys 1 and 2) holding `balance` each; account 0 is the fee account.
    fn state(balance: Amount) -> L2State<Optimistic> {
        let mut s = L2State::<Optimistic>::genesis(CONFIG, key(0).public());
        let queue: Vec<DepositEntry<Optimistic>> = (1..=2)
            .map(|n| DepositEntry {
                forced: None,
                account: None,
                key: key(n).public(),
                amount: balance,
            })
            .collect();
        let window = DepositWindow {
            first: 0,
            entries: &queue,
        };
        s.apply_batch(
            &window,
            &[L2Tx::Deposit { index: 0 }, L2Tx::Deposit { index: 1 }],
        );
        s
    }

    fn transfer(from: u32, amount: Amount, nonce: u64) -> L2Tx<Optimistic> {
        L2Tx::Transfer {
            from,
            to: 3 - from,
            amount,
            fee: 1,
            nonce,
            signature: Signature([0; 64]),
        }
        .signed(CONFIG.rollup_id, &key(from as u64))
    }

    /// An unsigned transfer of 1 from `from` paying `fee` (the queue's own rules never look at
    /// the signature: admission verifies it before).
    fn bid(from: u32, fee: Amount, nonce: u64) -> L2Tx<Optimistic> {
        L2Tx::Transfer {
            from,
            to: 3 - from,
            amount: 1,
            fee,
            nonce,
            signature: Signature([0; 64]),
        }
    }

    fn fees(txs: &[L2Tx<Optimistic>]) -> Vec<(u32, Amount, u64)> {
        txs.iter()
            .map(|tx| {
                let s = spend_of(tx).unwrap();
                (s.from, s.fee, s.nonce)
            })
            .collect()
    }

    fn check(q: &Q, s: &L2State<Optimistic>, tx: &L2Tx<Optimistic>) -> Result<(), String> {
        q.check(s, &FLOOR, tx).map(|_| ())
    }

    fn refused(r: Result<(), String>, want: &str) {
        let e = r.expect_err("must be refused");
        assert!(e.contains(want), "{e:?} should say {want:?}");
    }

    #[test]
    fn a_forged_signature_fails_at_the_door() {
        let (s, q) = (state(100), Q::new(FeeModel::Fixed));
        // Account 1's transaction, signed by account 2's key.
        let forged = transfer(1, 5, 0).signed(CONFIG.rollup_id, &key(2));
        let ticket = |tx: &L2Tx<Optimistic>| {
            let key = q
                .check(&s, &FLOOR, tx)
                .expect("only the signature is wrong");
            Ticket::new(key, tx, CONFIG.rollup_id).unwrap()
        };
        assert!(!ticket(&forged).verify());
        assert!(ticket(&transfer(1, 5, 0)).verify());
    }

    #[test]
    fn one_sender_cannot_hold_more_than_its_share_of_the_queue() {
        let (s, mut q) = (state(1_000_000), Q::new(FeeModel::Fixed));
        for nonce in 0..MAX_PENDING_PER_SENDER {
            let tx = transfer(1, 1, nonce);
            check(&q, &s, &tx).unwrap();
            q.admit(tx);
        }
        refused(
            check(&q, &s, &transfer(1, 1, MAX_PENDING_PER_SENDER)),
            "the most one sender may",
        );
        check(&q, &s, &transfer(2, 1, 0)).expect("another sender still has its places");
    }

    #[test]
    fn queued_transactions_cannot_together_spend_more_than_the_balance() {
        let (s, mut q) = (state(100), Q::new(FeeModel::Fixed));
        let first = transfer(1, 60, 0);
        check(&q, &s, &first).unwrap();
        q.admit(first);
        // Each alone fits the balance; with the first queued, the second would fail in its block.
        refused(check(&q, &s, &transfer(1, 60, 1)), "committed by queued");
        // 100 less 60 and a fee of 1: 38 and its fee of 1 fit, 39 does not.
        refused(check(&q, &s, &transfer(1, 39, 1)), "committed by queued");
        check(&q, &s, &transfer(1, 38, 1)).expect("what is left");
        refused(check(&q, &s, &transfer(1, Amount::MAX, 1)), "insufficient");
    }

    #[test]
    fn a_nonce_already_queued_or_ahead_is_refused() {
        let (s, mut q) = (state(100), Q::new(FeeModel::Fixed));
        let first = transfer(1, 1, 0);
        q.admit(first);
        refused(check(&q, &s, &transfer(1, 2, 0)), "already queued");
        refused(check(&q, &s, &transfer(1, 2, 2)), "ahead");
        assert_eq!(q.next_nonce(1, &s), Some(1));
        check(&q, &s, &transfer(1, 2, 1)).expect("the next one");
    }

    #[test]
    fn a_decided_transaction_frees_its_place_and_its_spend() {
        let (mut s, mut q) = (state(100), Q::new(FeeModel::Fixed));
        let first = transfer(1, 90, 0);
        q.admit(first);
        let window = DepositWindow {
            first: 2,
            entries: &[],
        };
        let outcomes = s.apply_batch(&window, &[first]);
        assert_eq!(outcomes, vec![basalt_l2::Outcome::Applied]);
        q.decided(&first, None);
        assert!(q.owed.is_empty() && q.hashes.is_empty());
        assert_eq!(q.next_nonce(1, &s), Some(1));
        // 9 left after the block: 8 and its fee fit, 9 does not.
        refused(check(&q, &s, &transfer(1, 9, 1)), "insufficient");
        check(&q, &s, &transfer(1, 8, 1)).expect("the balance left after the block");
    }

    #[test]
    fn a_fee_below_what_the_rollup_asks_now_is_refused_with_its_parts() {
        let (s, q) = (state(1_000), Q::new(FeeModel::Fixed));
        let asked = Asked {
            execution: 1,
            l1_data: 40,
            bytes: 100,
        };
        refused(
            q.check(&s, &asked, &bid(1, 40, 0)).map(|_| ()),
            "below the 41 the rollup asks now (1 execution + 40 for its 100 bytes",
        );
        q.check(&s, &asked, &bid(1, 41, 0))
            .expect("the whole price");
    }

    #[test]
    fn an_eip1559_block_takes_at_most_twice_the_target_oldest_first() {
        let (s, mut q) = (state(1_000), Q::new(FeeModel::Eip1559 { target_txs: 2 }));
        for nonce in 0..3 {
            q.admit(bid(1, 10 - nonce as Amount, nonce));
            q.admit(bid(2, 20, nonce));
        }
        let block = q.take_block();
        assert_eq!(
            fees(&block),
            vec![(1, 10, 0), (2, 20, 0), (1, 9, 1), (2, 20, 1)]
        );
        assert_eq!(q.len(), 2, "the rest wait for the next block");
        assert_eq!(q.next_nonce(1, &s), Some(3), "and keep their nonces");
    }

    #[test]
    fn an_auction_block_takes_the_highest_fees_first_each_senders_in_nonce_order() {
        let mut q = Q::new(FeeModel::Auction { block_txs: 3 });
        // Account 1 bids low then high: its high bid can only follow its low one.
        q.admit(bid(1, 5, 0));
        q.admit(bid(1, 100, 1));
        q.admit(bid(2, 50, 0));
        q.admit(bid(2, 40, 1));
        q.admit(bid(2, 30, 2));
        let block = q.take_block();
        assert_eq!(fees(&block), vec![(2, 50, 0), (2, 40, 1), (2, 30, 2)]);
        assert_eq!(fees(&q.waiting()), vec![(1, 5, 0), (1, 100, 1)]);
        assert_eq!(q.clearing, 0, "what waits fits the next block");
        let block = q.take_block();
        assert_eq!(fees(&block), vec![(1, 5, 0), (1, 100, 1)]);
    }

    #[test]
    fn an_auction_quotes_the_least_fee_that_would_have_made_the_block() {
        let mut q = Q::new(FeeModel::Auction { block_txs: 2 });
        for (from, fee) in [(1, 7), (2, 9)] {
            for nonce in 0..3 {
                q.admit(bid(from, fee, nonce));
            }
        }
        q.take_block();
        // Four wait (one of 9, three of 7): the next block's second place goes above 7.
        assert_eq!(q.clearing, 8);
    }

    #[test]
    fn a_flood_at_the_floor_is_outbid_in_a_full_auction_queue() {
        let (s, mut q) = (
            state(Amount::MAX / 4),
            Q::new(FeeModel::Auction { block_txs: 100 }),
        );
        // The attacker (account 1) fills the whole queue at the floor.
        for nonce in 0..MAX_PENDING_TXS as u64 {
            q.admit(bid(1, 1, nonce));
        }
        refused(check(&q, &s, &bid(2, 1, 0)), "lowest bid is 1");
        let honest = bid(2, 2, 0);
        check(&q, &s, &honest).expect("a higher bid takes a place");
        q.admit(honest);
        assert_eq!(q.len(), MAX_PENDING_TXS);
        assert_eq!(q.next_nonce(1, &s), Some(MAX_PENDING_TXS as u64 - 1));
        let block = q.take_block();
        assert_eq!(fees(&block)[0], (2, 2, 0), "the honest bid goes first");
    }

    #[test]
    fn a_full_fixed_price_queue_refuses_whatever_the_fee() {
        let (s, mut q) = (state(Amount::MAX / 4), Q::new(FeeModel::Fixed));
        for nonce in 0..MAX_PENDING_TXS as u64 {
            q.admit(bid(1, 1, nonce));
        }
        refused(check(&q, &s, &bid(2, 1_000, 0)), "queue is full");
    }

    #[test]
    fn an_outbid_senders_previous_transaction_becomes_the_one_to_outbid() {
        let mut q = Q::new(FeeModel::Auction { block_txs: 10 });
        q.admit(bid(1, 3, 0));
        q.admit(bid(1, 9, 1));
        q.admit(bid(2, 5, 0));
        // Account 1's last (9) and account 2's (5): the lowest tail is account 2's.
        assert_eq!(q.outbid(6), Some(2));
        assert_eq!(q.outbid(5), None, "a bid must beat it");
        q.pop_back(2);
        // Account 1's last is 9: its 3 cannot go before the 9 that follows it.
        assert_eq!(q.outbid(9), None);
        assert_eq!(q.outbid(10), Some(1));
        q.pop_back(1);
        assert_eq!(q.outbid(4), Some(1), "then its 3 is its last");
        assert_eq!(fees(&q.waiting()), vec![(1, 3, 0)]);
    }
}
