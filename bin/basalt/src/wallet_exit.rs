//! `basalt wallet exit` and `basalt wallet refund`: leaving a frozen rollup with nobody's help;
//! what `basalt wallet force-include` takes, and where a forced transaction waits.
//! The last settled state is rebuilt from L1 data alone ([`basalt_rollup::escape`]); no L2 node
//! is asked anything.

use crate::wallet::{send, SignerArgs};
use anyhow::{bail, Context, Result};
use basalt_l1::Action;
pub use basalt_lab::client::ForcedItem;
use basalt_rollup::escape::{settled_state, SettledL2};
use basalt_rollup::l1client::RollupInfo;
use basalt_rollup::{L1Client, RollupRef};
use basalt_types::PublicKey;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

/// The rollup, refused unless frozen, and its last settled state.
async fn frozen(client: &L1Client, rollup: &str) -> Result<(RollupInfo, SettledL2)> {
    let r = client.rollup(&RollupRef::parse(rollup)).await?;
    if !r.frozen {
        match r.frozen_from {
            Some(at) => bail!(
                "rollup {} is not frozen: it freezes at block {at} (now {}) unless a batch settles first; until then, withdraw or force-include",
                r.params.name,
                r.height
            ),
            None => bail!(
                "rollup {} is not frozen, and owes nothing that could freeze it: withdraw, or force-include a withdrawal",
                r.params.name
            ),
        }
    }
    let bar = ProgressBar::new(r.batches.max(1));
    bar.set_style(
        ProgressStyle::with_template(
            "rebuilding the settled state from L1 data {bar:30} {pos}/{len} batches",
        )
        .expect("valid template"),
    );
    let state = settled_state(client, &r, |done, total| {
        bar.set_length(total.max(1));
        bar.set_position(done + 1);
    })
    .await
    .context("rebuilding the last settled state from L1 data")?;
    bar.finish_and_clear();
    Ok((r, state))
}

/// Exits the signer's account of a frozen rollup: its whole settled balance, paid on L1 to `to`
/// (default: the signer).
pub async fn exit(rollup: &str, to: Option<String>, signer: &SignerArgs) -> Result<()> {
    let kp = signer.keypair()?;
    let client = L1Client::new(&signer.rpc)?;
    let (r, state) = frozen(&client, rollup).await?;
    let key = crate::devnet_rollups::l2_key(&kp, r.params.zk.is_some());
    let Some((index, balance)) = state.account_of(&key.0) else {
        bail!(
            "the signer has no account in rollup {}'s last settled state (batch {})",
            r.params.name,
            r.settled
        );
    };
    let recipient = match to {
        Some(h) => {
            PublicKey::from_hex(&h).map_err(|_| anyhow::anyhow!("--to must be 32 bytes of hex"))?
        }
        None => kp.public(),
    };
    let claim = state
        .exit(index, recipient, &kp)
        .context("the account is in the state")?;
    println!(
        "exiting account {index} of {}: {} to {recipient}",
        r.params.name,
        crate::units::format_tokens(balance)
    );
    send(signer, Action::Exit(claim)).await
}

/// Refunds the deposits of a frozen rollup its last settled state never applied: `index`, or every
/// such deposit the signer paid.
pub async fn refund(rollup: &str, index: Option<u64>, signer: &SignerArgs) -> Result<()> {
    let kp = signer.keypair()?;
    let client = L1Client::new(&signer.rpc)?;
    let (r, state) = frozen(&client, rollup).await?;
    let settled = state.settled_state();
    let deposits = client.all_deposits(r.id, r.deposits).await?;
    let owed: Vec<_> = deposits
        .iter()
        .filter(|d| d.index >= settled.next_deposit)
        .filter(|d| index.map_or(d.sender == kp.public(), |i| d.index == i))
        .collect();
    if owed.is_empty() {
        bail!(
            "no deposit to refund: the settled state applied the first {} of {} ({})",
            settled.next_deposit,
            r.deposits,
            match index {
                Some(i) => format!("deposit {i} is among them, or does not exist"),
                None => "none after them was paid by the signer".into(),
            }
        );
    }
    for d in owed {
        println!(
            "refunding deposit {} ({}) to {}",
            d.index,
            crate::units::format_tokens(d.amount),
            d.sender
        );
        send(
            signer,
            Action::RefundDeposit {
                rollup: r.id,
                index: d.index,
                state: settled,
            },
        )
        .await?;
    }
    Ok(())
}

/// What `force-include` forces in: the same arguments as `l2-transfer` and `withdraw`.
#[derive(Subcommand, Debug)]
pub enum ForceCommand {
    /// A transfer to another L2 account.
    Transfer {
        /// Recipient L2 account index, or key (hex; its first account).
        #[arg(long)]
        to: String,
        /// Amount in tokens.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        tx: crate::wallet_l2::L2TxArgs,
        #[command(flatten)]
        rollup: crate::wallet_l2::RollupArgs,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// A withdrawal to an L1 account.
    Withdraw {
        /// Amount in tokens.
        #[arg(long)]
        amount: String,
        /// L1 account paid (hex); defaults to the signer's.
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        tx: crate::wallet_l2::L2TxArgs,
        #[command(flatten)]
        rollup: crate::wallet_l2::RollupArgs,
        #[command(flatten)]
        signer: SignerArgs,
    },
}
