//! `basalt wallet` on a rollup: L2 balances, transfers, withdrawals, their status, and the L1 claim
//! of a settled withdrawal. On a ZK rollup the signer's L2 key is the BabyJubJub key derived from
//! its L1 key ([`BabyKeypair::of_l1_key`]); the commands are the same.

use crate::units::{format_tokens, parse_tokens};
use crate::wallet::{l1_http, send, SignerArgs};
use anyhow::{bail, Context, Result};
use basalt_l1::Action;
use basalt_l2::{L2Tx, Optimistic};
use basalt_lab::client::{rpc_error, signed};
use basalt_rollup::{L1Client, RollupRef};
use basalt_rpc::l2::{FeeQuery, L2TxState, L2TxStatus};
use basalt_rpc::{AccountRef, HexBytes, L2ApiClient, WithdrawalRef};
use basalt_types::{Amount, Hash, Keypair, PublicKey, Signature};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use std::time::{Duration, Instant};

/// Which rollup, and where its node listens.
#[derive(Args, Debug)]
pub struct RollupArgs {
    /// The rollup, by name or id.
    #[arg(long)]
    pub rollup: String,
    /// The rollup node's L2 JSON-RPC URL; defaults to the `basalt up` port for this rollup (the L1
    /// port + 100 + rollup id, on the L1's host).
    #[arg(long)]
    pub l2_rpc: Option<String>,
}

/// A rollup resolved on L1, with a client of its node.
pub struct Rollup {
    /// Registry id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Whether it is a ZK rollup (BabyJubJub keys and signatures, final at its proofs).
    pub zk: bool,
    /// L2 node URL.
    pub url: String,
    /// Client of the L2 node.
    pub l2: HttpClient,
}

impl Rollup {
    /// Looks the rollup up on the L1 at `l1_rpc` and connects to its node.
    pub async fn resolve(args: &RollupArgs, l1: &HttpClient, l1_rpc: &str) -> Result<Self> {
        let r = basalt_rpc::L1ApiClient::get_rollup(l1, RollupRef::parse(&args.rollup))
            .await
            .map_err(|e| rpc_error("l1_getRollup", l1_rpc, e))?;
        let id = r.id;
        let url = match &args.l2_rpc {
            Some(u) => u.clone(),
            None => default_l2_url(l1_rpc, id)?,
        };
        let l2 = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(15))
            .build(&url)
            .with_context(|| format!("bad --l2-rpc URL {url:?}"))?;
        Ok(Rollup {
            id,
            zk: r.params.zk.is_some(),
            name: r.params.name,
            url,
            l2,
        })
    }

    /// What a failed call of `method` to the rollup's node says.
    fn fail(&self, method: &'static str) -> impl FnOnce(ClientError) -> anyhow::Error + '_ {
        move |e| {
            rpc_error(method, &self.url, e).context(format!(
                "rollup {} node at {} (another URL: --l2-rpc)",
                self.name, self.url
            ))
        }
    }

    /// The L2 key of the holder of L1 key `kp` on this rollup, in hex.
    pub fn key_of(&self, kp: &Keypair) -> String {
        crate::devnet_rollups::l2_key(kp, self.zk).to_hex()
    }

    /// The signer's L2 account (`index`, or its first): (index, nonce). The nonce counts the
    /// sender's transactions queued at the sequencer, unless `applied` asks for the state's own
    /// (a forced transaction follows the applied ones, not those a censor holds back).
    async fn my_account(
        &self,
        kp: &Keypair,
        index: Option<u32>,
        applied: bool,
    ) -> Result<(u32, u64)> {
        let key = HexBytes(crate::devnet_rollups::l2_key(kp, self.zk).0.to_vec());
        let which = match index {
            Some(i) => AccountRef::Index(i),
            None => AccountRef::Key(key.clone()),
        };
        let a = self
            .l2
            .get_account(which)
            .await
            .map_err(self.fail("l2_getAccount"))?;
        if a.key != key {
            bail!(
                "L2 account {} belongs to {}, not to the signer",
                a.index,
                a.key.to_hex()
            );
        }
        // A sequencer counts the sender's queued transactions; a verifier knows only its state.
        let nonce = a.pending_nonce.filter(|_| !applied).unwrap_or(a.nonce);
        Ok((a.index, nonce))
    }

    async fn min_fee(&self) -> Result<Amount> {
        let info = self.l2.chain_info().await;
        Ok(info.map_err(self.fail("l2_chainInfo"))?.min_fee)
    }

    /// The fee to sign `tx` with, and how it is made up: `--fee`; for a transaction forced in
    /// through the L1, the rollup's floor (its sender pays the L1 itself); otherwise the
    /// sequencer's quote (`l2_estimateFee`).
    async fn fee_for(
        &self,
        tx: &L2Tx<Optimistic>,
        fee: Option<&str>,
        forced: bool,
    ) -> Result<(Amount, String)> {
        if let Some(f) = fee {
            return Ok((parse_tokens(f)?, "given with --fee".into()));
        }
        if forced {
            return Ok((self.min_fee().await?, "the rollup's minimum".into()));
        }
        let query = match *tx {
            L2Tx::Transfer {
                from,
                to,
                amount,
                nonce,
                ..
            } => FeeQuery {
                from: Some(from),
                to: Some(to),
                amount: Some(amount.to_string()),
                nonce: Some(nonce),
                ..FeeQuery::of("transfer")
            },
            L2Tx::Withdraw {
                from,
                recipient,
                amount,
                nonce,
                ..
            } => FeeQuery {
                from: Some(from),
                recipient: Some(recipient),
                amount: Some(amount.to_string()),
                nonce: Some(nonce),
                ..FeeQuery::of("withdraw")
            },
            L2Tx::Deposit { .. } => bail!("a deposit is not signed on L2"),
        };
        let q = self.l2.estimate_fee(query).await;
        let q = q.map_err(self.fail("l2_estimateFee"))?;
        let how = format!(
            "{} model: {} execution + {} for {} bytes of L1 data",
            q.model.name(),
            format_tokens(q.execution),
            format_tokens(q.l1_data),
            q.bytes
        );
        Ok((q.fee, how))
    }

    /// Signs `tx` (its signature a placeholder) with the L2 key of `kp` for this rollup's kind,
    /// sends it and waits for the sequencer's block.
    async fn send(&self, tx: L2Tx<Optimistic>, kp: &Keypair) -> Result<L2TxStatus> {
        let (bytes, _) = signed(self.zk, self.id, &tx, kp);
        let sent = self.l2.send_transaction(HexBytes(bytes), Some(true)).await;
        sent.map_err(self.fail("l2_sendTransaction"))
    }
}

/// `http://host:(port + 100 + id)` from the L1 URL `http://host:port`.
pub fn default_l2_url(l1_rpc: &str, id: u32) -> Result<String> {
    let (base, port) = l1_rpc
        .trim_end_matches('/')
        .rsplit_once(':')
        .context("cannot derive the L2 URL from --rpc: give --l2-rpc")?;
    let port: u16 = port
        .parse()
        .context("cannot derive the L2 URL from --rpc: give --l2-rpc")?;
    let l2 =
        crate::devnet_rollups::l2_port(port, id).context("port out of range: give --l2-rpc")?;
    Ok(format!("{base}:{l2}"))
}

/// An L2 account: an index, or a key (its first account).
fn account_param(s: &str) -> Result<AccountRef> {
    if let Ok(i) = s.parse::<u32>() {
        return Ok(AccountRef::Index(i));
    }
    let key = PublicKey::from_hex(s)
        .map_err(|_| anyhow::anyhow!("expected an L2 account index or a 32-byte hex key"))?;
    Ok(AccountRef::from(key))
}

/// `wallet l2-balance`.
pub async fn balance(account: Option<String>, signer: &SignerArgs, r: &RollupArgs) -> Result<()> {
    let l1 = signer.client()?;
    let rollup = Rollup::resolve(r, &l1, &signer.rpc).await?;
    let which = match account {
        Some(a) => account_param(&a)?,
        None => account_param(&rollup.key_of(&signer.keypair()?))?,
    };
    let a = rollup.l2.get_account(which).await;
    let a = a.map_err(rollup.fail("l2_getAccount"))?;
    println!("rollup   {} (id {})", rollup.name, rollup.id);
    println!("account  {}  key {}", a.index, a.key.to_hex());
    println!("balance  {} tokens", format_tokens(a.balance));
    println!("nonce    {}", a.nonce);
    if let Some(all) = a.indices.filter(|v| v.len() > 1) {
        println!("the key owns accounts {all:?}");
    }
    match a.at.as_str() {
        "soft" => println!("as of the sequencer's latest block (soft)"),
        _ => println!("as derived from finalized L1 data (l1_final)"),
    }
    Ok(())
}

/// Options shared by the signed L2 transactions.
#[derive(Args, Debug)]
pub struct L2TxArgs {
    /// Fee in tokens; defaults to the sequencer's quote (`l2_estimateFee`: its fee model's price
    /// and the L1 price of the transaction's data), or the rollup's minimum for a forced one.
    #[arg(long)]
    pub fee: Option<String>,
    /// Send from this L2 account of the signer (default: its first).
    #[arg(long)]
    pub from: Option<u32>,
}

async fn prepare(
    signer: &SignerArgs,
    r: &RollupArgs,
    opts: &L2TxArgs,
    force: bool,
) -> Result<(Keypair, Rollup, u32, u64)> {
    let kp = signer.keypair()?;
    let l1 = signer.client()?;
    let rollup = Rollup::resolve(r, &l1, &signer.rpc).await?;
    let (from, nonce) = rollup.my_account(&kp, opts.from, force).await?;
    Ok((kp, rollup, from, nonce))
}

fn print_soft(v: &L2TxStatus) {
    let block = v.block.map_or("?".to_string(), |b| b.to_string());
    println!(
        "transaction {} soft-confirmed in L2 block {block} (finality: {})",
        v.hash,
        state_name(v.status)
    );
}

/// How a status reads, as the API names it.
fn state_name(s: L2TxState) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Queues `tx`, signed with the L2 key of `kp`, in the rollup's L1 queue: the batches must apply
/// it by its force-inclusion deadline, whatever the sequencer wants.
async fn force(
    rollup: &Rollup,
    tx: L2Tx<Optimistic>,
    kp: &Keypair,
    signer: &SignerArgs,
) -> Result<()> {
    let l1 = L1Client::new(&signer.rpc)?;
    let which = RollupRef::Id(rollup.id);
    let r = l1.rollup(&which).await?;
    let (bytes, l2_hash) = signed(rollup.zk, rollup.id, &tx, kp);
    let wait = r.params.force_inclusion_blocks;
    println!(
        "forcing it in through the L1: the first batch posted {wait} blocks after it is queued must apply it, and anyone may post that batch"
    );
    send(
        signer,
        Action::ForceInclude {
            rollup: rollup.id,
            key: crate::devnet_rollups::l2_key(kp, rollup.zk),
            tx: bytes,
        },
    )
    .await?;
    let index = l1.rollup(&which).await?.deposits.saturating_sub(1);
    let item = l1.deposits(rollup.id, index).await?;
    if let Some(h) = item.first().map(|d| d.height) {
        println!(
            "queued as item {index} at L1 block {h}: deadline block {} (the first batch at or after it carries it)",
            h + wait
        );
    }
    println!(
        "follow it with\n  basalt wallet status --rollup {} {l2_hash} --follow",
        rollup.name
    );
    if matches!(tx, L2Tx::Withdraw { .. }) {
        println!(
            "and claim it once settled with\n  basalt wallet claim --rollup {} --withdrawal {l2_hash} --dev N|--key FILE",
            rollup.name
        );
    }
    Ok(())
}

/// `wallet l2-transfer` (`force`: `wallet force-include transfer`).
pub async fn transfer(
    to: &str,
    amount_s: &str,
    opts: &L2TxArgs,
    signer: &SignerArgs,
    r: &RollupArgs,
    force_in: bool,
) -> Result<()> {
    let amount = parse_tokens(amount_s)?;
    let (kp, rollup, from, nonce) = prepare(signer, r, opts, force_in).await?;
    let to_v = rollup.l2.get_account(account_param(to)?).await;
    let to_index = to_v.map_err(rollup.fail("l2_getAccount"))?.index;
    let tx = L2Tx::Transfer {
        from,
        to: to_index,
        amount,
        fee: 0,
        nonce,
        signature: Signature([0; 64]),
    };
    let (fee, how) = rollup.fee_for(&tx, opts.fee.as_deref(), force_in).await?;
    let tx = tx.with_fee(fee);
    println!(
        "transferring {} from L2 account {from} to {to_index} on {} (fee {}: {how})",
        format_tokens(amount),
        rollup.name,
        format_tokens(fee)
    );
    if force_in {
        return force(&rollup, tx, &kp, signer).await;
    }
    print_soft(&rollup.send(tx, &kp).await?);
    Ok(())
}

/// `wallet withdraw` (`force`: `wallet force-include withdraw`).
pub async fn withdraw(
    amount_s: &str,
    to: Option<String>,
    opts: &L2TxArgs,
    signer: &SignerArgs,
    r: &RollupArgs,
    force_in: bool,
) -> Result<()> {
    let amount = parse_tokens(amount_s)?;
    let (kp, rollup, from, nonce) = prepare(signer, r, opts, force_in).await?;
    let recipient = match to {
        Some(h) => {
            PublicKey::from_hex(&h).map_err(|_| anyhow::anyhow!("--to must be 32 bytes of hex"))?
        }
        None => kp.public(),
    };
    let tx = L2Tx::Withdraw {
        from,
        recipient,
        amount,
        fee: 0,
        nonce,
        signature: Signature([0; 64]),
    };
    let (fee, how) = rollup.fee_for(&tx, opts.fee.as_deref(), force_in).await?;
    let tx = tx.with_fee(fee);
    println!(
        "withdrawing {} from L2 account {from} on {} to L1 account {recipient} (fee {}: {how})",
        format_tokens(amount),
        rollup.name,
        format_tokens(fee)
    );
    if force_in {
        return force(&rollup, tx, &kp, signer).await;
    }
    let v = rollup.send(tx, &kp).await?;
    print_soft(&v);
    let when = match rollup.zk {
        true => "once its batch is proven on L1",
        false => "once its batch settles on L1",
    };
    let index = v
        .withdrawal_index
        .map_or("?".to_string(), |i| i.to_string());
    println!(
        "withdrawal {index}: {when}, claim it with\n  basalt wallet claim --rollup {} --withdrawal {index} --dev N|--key FILE",
        rollup.name
    );
    Ok(())
}

/// `wallet status`.
pub async fn status(hash: &str, follow: bool, l1_rpc: &str, r: &RollupArgs) -> Result<()> {
    let h = Hash::from_hex(hash)
        .map_err(|_| anyhow::anyhow!("expected a transaction hash (0x + 64 hex digits)"))?;
    let rollup = Rollup::resolve(r, &l1_http(l1_rpc)?, l1_rpc).await?;
    let l1 = basalt_rollup::L1Client::new(l1_rpc)?;
    let which = basalt_rollup::RollupRef::Id(rollup.id);
    let (mut last, mut last_forced, mut forced) = (String::new(), String::new(), None);
    let mut searched = false;
    loop {
        let v = rollup.l2.get_transaction(h).await;
        let v = v.map_err(rollup.fail("l2_getTransaction"))?;
        let s = state_name(v.status);
        // Not in a block yet: it may wait in the L1 queue, forced in, with a deadline.
        let waiting = matches!(s.as_str(), "unknown" | "pending");
        if waiting && !searched {
            forced = crate::wallet_exit::ForcedItem::find(&l1, &which, &h)
                .await?
                .map(|(item, _)| item);
            searched = true;
        }
        if let (Some(item), true) = (&forced, waiting) {
            let line = item.describe(&l1.rollup(&which).await?);
            if line != last_forced {
                println!("{line}");
                last_forced = line;
            }
            if !follow {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        if s != last {
            let mut line = format!("{s:9}");
            for (n, label) in [
                (v.block, "L2 block"),
                (v.batch, "batch"),
                (v.l1_height, "L1 height"),
                (v.settles_by, "settles by L1 height"),
                (v.proven_at, "proven at L1 height"),
                (v.withdrawal_index, "withdrawal"),
            ] {
                if let Some(n) = n {
                    line.push_str(&format!("  {label} {n}"));
                }
            }
            if let Some(why) = &v.reason {
                line.push_str(&format!("  reason {why}"));
            }
            println!("{line}");
            last = s.clone();
        }
        if !follow || matches!(s.as_str(), "settled" | "proven" | "failed" | "unknown") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `wallet claim`: waits until the withdrawal's batch settles, then has the L1 pay it.
pub async fn claim(withdrawal: &str, signer: &SignerArgs, r: &RollupArgs) -> Result<()> {
    let which = match withdrawal.parse::<u64>() {
        Ok(i) => WithdrawalRef::Index(i),
        Err(_) => WithdrawalRef::Tx(Hash::from_hex(withdrawal).map_err(|_| {
            anyhow::anyhow!("--withdrawal takes a withdrawal index or its transaction hash")
        })?),
    };
    let l1 = signer.client()?;
    let rollup = Rollup::resolve(r, &l1, &signer.rpc).await?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let started = Instant::now();
    let claim = loop {
        let p = rollup.l2.get_withdrawal_proof(which).await;
        let p = p.map_err(rollup.fail("l2_getWithdrawalProof"))?;
        if let Some(claim) = p.claim.filter(|_| p.ready) {
            break basalt_l1::WithdrawalClaim::from(claim);
        }
        let mut msg = format!(
            "withdrawal {}: {}",
            p.index,
            p.reason.as_deref().unwrap_or("waiting")
        );
        if let (Some(at), Some(now)) = (p.settles_by, p.l1_height) {
            msg.push_str(&format!(" (settles by L1 height {at}, now {now})"));
        }
        bar.set_message(msg);
        if started.elapsed() > Duration::from_secs(600) {
            bar.finish_and_clear();
            bail!("not settled after 10 minutes; run the claim again later");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    bar.finish_and_clear();
    let claimed = L1Client::new(&signer.rpc)?
        .withdrawal_claimed(claim.rollup, claim.index)
        .await?;
    if claimed {
        bail!(
            "withdrawal {} of {} was already claimed",
            claim.index,
            rollup.name
        );
    }
    println!(
        "claiming withdrawal {} ({} tokens to {}) against the {} output of batch {}",
        claim.index,
        format_tokens(claim.amount),
        claim.recipient,
        if rollup.zk { "proven" } else { "settled" },
        claim.batch
    );
    send(signer, Action::FinalizeWithdrawal(claim)).await
}
