//! The sequencer's block actor: makes a block of the queued transactions (as many as the fee
//! model's blocks hold) every `block_time_ms`,
//! while there is anything to apply, and logs it durably before anyone sees it confirmed.

use super::*;

/// Makes a block of the queued transactions every `every`, while there is anything to apply.
pub(crate) async fn run<
    Q: Profile,
    N: std::ops::Deref<Target = Core<Q>> + Send + Sync + 'static,
>(
    shared: Arc<N>,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if shared.is_frozen() {
            continue;
        }
        let txs = lock(&shared.queue).take_block();
        let s = shared.clone();
        let made = tokio::task::spawn_blocking(move || {
            let seq = s.seq.as_ref().expect("the block actor runs on a sequencer");
            let mut seq = lock(seq);
            let deposits_waiting = seq.deposits_due() > seq.state().commitment().next_deposit;
            if txs.is_empty() && !deposits_waiting {
                return Ok(None);
            }
            let (block, admissions) = seq.produce(now_ms(), &txs)?;
            s.metrics.block(block.number, block.txs.len());
            let summary = rpc::block_info(block);
            // Under the sequencer's lock: no admission sees the new state with the old queue.
            let mut q = lock(&s.queue);
            for (tx, a) in txs.iter().zip(&admissions) {
                q.decided(tx, a.err());
            }
            Ok::<_, SequencerError>(Some(summary))
        })
        .await;
        match made {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(summary))) => {
                let _ = shared.blocks.send(summary);
            }
            Ok(Err(e)) => {
                // Nothing unlogged was confirmed to anyone; a restart replays the log.
                error!("sequencer stopped: {e}");
                *lock(&shared.halted) = Some(e.to_string());
                return;
            }
            Err(e) => {
                error!("sequencer block task failed: {e}");
                *lock(&shared.halted) = Some(e.to_string());
                return;
            }
        }
    }
}
