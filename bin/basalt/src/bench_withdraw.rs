//! `basalt bench withdrawals`: how long a withdrawal takes, from the L2 transaction to the funds on
//! L1, on each rollup of a running devnet (`basalt up`): optimistic ones wait for their challenge
//! window, a ZK one for its batch's proof. Each rollup is measured by its own dev account, all at
//! once, through the same RPCs a user's wallet calls. Prints a Markdown table.

use crate::devnet_rollups::{l2_key, wait_final};
use crate::wallet_l2::default_l2_url;
use anyhow::{bail, ensure, Context, Result};
use basalt_l1::{Action, ONE_TOKEN};
use basalt_l2::L2Tx;
use basalt_lab::client::signed;
use basalt_node::devnet::{dev_account, DEV_ACCOUNTS};
use basalt_rollup::l1client::L1Client;
use basalt_rollup::RollupRef;
use basalt_rpc::{AccountRef, HexBytes, L2ApiClient, WithdrawalRef};
use basalt_types::{Amount, Keypair, Signature};
use clap::Args;
use jsonrpsee::http_client::HttpClientBuilder;
use std::time::{Duration, Instant};

/// Options of `basalt bench withdrawals`.
#[derive(Args, Debug)]
pub struct WithdrawArgs {
    /// The devnet's L1 JSON-RPC URL (`basalt up` must be running).
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    pub rpc: String,
    /// The rollups to measure, by name, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "alpha,beta,gamma")]
    pub rollups: Vec<String>,
    /// Withdrawals per rollup, one after another.
    #[arg(long, default_value_t = 3)]
    pub samples: usize,
}

/// When each step of one withdrawal happened, in seconds from its L2 transaction's sending.
struct Sample {
    soft: f64,
    claimable: f64,
    paid: f64,
}

/// Most a withdrawal may take before the run gives up on it.
const GIVE_UP: Duration = Duration::from_secs(600);

/// Runs the benchmark.
pub fn run(args: WithdrawArgs) -> Result<()> {
    ensure!(!args.rollups.is_empty(), "--rollups names no rollup");
    ensure!(
        args.rollups.len() as u64 <= DEV_ACCOUNTS,
        "at most {DEV_ACCOUNTS} rollups"
    );
    ensure!(
        (1..=100).contains(&args.samples),
        "--samples must be 1 to 100"
    );
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let mut runs = Vec::new();
        for (i, name) in args.rollups.iter().enumerate() {
            // The last dev accounts, one per rollup, so that their L1 nonces never race.
            let who = dev_account(DEV_ACCOUNTS - 1 - i as u64);
            let (rpc, name, samples) = (args.rpc.clone(), name.clone(), args.samples);
            runs.push(tokio::spawn(async move {
                let r = measure(&rpc, &name, &who, samples).await;
                (name, r)
            }));
        }
        eprintln!(
            "measuring {} withdrawals on each of {} ...",
            args.samples,
            args.rollups.join(", ")
        );
        println!("| rollup | kind | settles by | soft confirm (ms) | claimable (s) | paid on L1 (s) |");
        println!("|---|---|---|---:|---:|---:|");
        for run in runs {
            let (name, r) = run.await?;
            let (kind, rule, samples) = r.with_context(|| format!("rollup {name}"))?;
            let median = |f: fn(&Sample) -> f64| {
                let mut v: Vec<f64> = samples.iter().map(f).collect();
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            println!(
                "| {name} | {kind} | {rule} | {:.0} | {:.1} | {:.1} |",
                median(|s| s.soft) * 1_000.0,
                median(|s| s.claimable),
                median(|s| s.paid),
            );
        }
        println!(
            "\nMedians of {} withdrawals each, from the L2 transaction's sending: soft = the sequencer's block, claimable = `l2_getWithdrawalProof` ready, paid = the claim final on L1.",
            args.samples
        );
        Ok(())
    })
}

/// `samples` withdrawals of `who` on rollup `name`: its kind, its settlement rule, the samples.
async fn measure(
    rpc: &str,
    name: &str,
    who: &Keypair,
    samples: usize,
) -> Result<(String, String, Vec<Sample>)> {
    let l1 = L1Client::new(rpc)?;
    let r = l1.rollup(&RollupRef::Name(name.into())).await?;
    let zk = r.params.kind == "zk";
    let url = default_l2_url(rpc, r.id)?;
    let l2 = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(&url)?;
    let block_ms = l1.chain_info().await?.params.block_time_ms;
    let rule = match zk {
        true => "its proof".to_string(),
        false => format!(
            "{}-block window (~{} s)",
            r.params.challenge_window,
            r.params.challenge_window * block_ms / 1_000
        ),
    };
    let key = AccountRef::from(l2_key(who, zk));
    let fee: Amount = basalt_lab::client::quote_fee(&l2, "withdraw").await?;
    let mut out = Vec::new();
    for _ in 0..samples {
        let a = l2.get_account(key.clone()).await;
        let a = a.context("l2_getAccount on the rollup node")?;
        let (from, nonce) = (a.index, a.nonce);
        let tx = L2Tx::Withdraw {
            from,
            recipient: who.public(),
            amount: ONE_TOKEN / 1_000,
            fee,
            nonce,
            signature: Signature([0; 64]),
        };
        let started = Instant::now();
        let (bytes, _) = signed(zk, r.id, &tx, who);
        let sent = l2.send_transaction(HexBytes(bytes), Some(true)).await;
        let sent = sent.context("l2_sendTransaction on the rollup node")?;
        let soft = started.elapsed().as_secs_f64();
        let index = sent
            .withdrawal_index
            .with_context(|| format!("the withdrawal was not applied: {sent:?}"))?;
        let claim = loop {
            let p = l2.get_withdrawal_proof(WithdrawalRef::Index(index)).await;
            let p = p.context("l2_getWithdrawalProof on the rollup node")?;
            if let Some(claim) = p.claim.filter(|_| p.ready) {
                break basalt_l1::WithdrawalClaim::from(claim);
            }
            if started.elapsed() > GIVE_UP {
                bail!(
                    "withdrawal {index} not claimable after {} s",
                    GIVE_UP.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let claimable = started.elapsed().as_secs_f64();
        let hash = l1.submit(who, Action::FinalizeWithdrawal(claim)).await?;
        wait_final(&l1, &[hash]).await?;
        out.push(Sample {
            soft,
            claimable,
            paid: started.elapsed().as_secs_f64(),
        });
        eprintln!(
            "{name}: withdrawal {index} paid after {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok((if zk { "ZK" } else { "optimistic" }.into(), rule, out))
}
