//! `basalt wallet`: keys, balances, transfers and blobs over JSON-RPC.

use crate::config::{read_key, write_key};
use crate::units::{format_tokens, parse_tokens};
use anyhow::{bail, Context, Result};
use basalt_l1::Action;
pub use basalt_lab::client::l1_http;
use basalt_node::devnet::{dev_account, DEV_ACCOUNTS};
use basalt_rollup::l1client::{L1Client, L1TxStatus, RollupRef};
use basalt_types::{Keypair, PublicKey};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jsonrpsee::http_client::HttpClient;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Wallet subcommands.
#[derive(Subcommand, Debug)]
pub enum WalletCommand {
    /// Create a new key file (unencrypted JSON, readable only by you).
    New {
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// List the devnet's dev accounts (DEVNET ONLY: their secrets are public).
    DevAccounts,
    /// Show an account's balance and nonce.
    Balance {
        /// Account public key (hex); defaults to the signer given by --dev or --key.
        account: Option<String>,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Send tokens.
    Transfer {
        /// Recipient public key (hex).
        #[arg(long)]
        to: String,
        /// Amount in tokens, e.g. 1.5.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Bond tokens as stake; the committee (top stakers) changes at the next epoch boundary.
    Stake {
        /// Amount in tokens, e.g. 1000.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Unbond stake; it returns to the balance at the next epoch boundary.
    Unstake {
        /// Amount in tokens.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Post a data-availability blob.
    SendBlob {
        /// File whose bytes to post.
        #[arg(long, conflicts_with = "hex")]
        file: Option<PathBuf>,
        /// Hex bytes to post.
        #[arg(long)]
        hex: Option<String>,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// List the rollups registered on the L1.
    Rollups {
        /// Node JSON-RPC URL.
        #[arg(long, default_value = "http://127.0.0.1:8545")]
        rpc: String,
    },
    /// Register an optimistic rollup on the L1; its id is printed once final.
    RegisterRollup {
        /// Unique name: 1 to 32 of a-z, 0-9 and -.
        #[arg(long)]
        name: String,
        /// The sequencer's public key (hex): the only account that may post its batches.
        #[arg(long)]
        sequencer: String,
        /// L1 blocks an output waits, unchallenged, before it settles.
        #[arg(long, default_value_t = 100)]
        challenge_window: u64,
        /// Bond (tokens) a proposer locks with each output until it settles.
        #[arg(long, default_value = "10")]
        bond: String,
        /// Least fee (tokens) an L2 transfer or withdrawal pays.
        #[arg(long, default_value = "0.000001")]
        min_fee: String,
        /// L1 blocks a side of a dispute is always left to answer a counter (the clock extension);
        /// below the challenge window, which is each side's whole clock along a path of the tree.
        #[arg(long, default_value_t = 10)]
        clock_extension: u64,
        /// Bond (tokens) each claim of a dispute locks (default: the proposer bond).
        #[arg(long)]
        dispute_bond: Option<String>,
        /// Percent of a slashed bond paid to the game's winner; the rest is burned.
        #[arg(long, default_value_t = 50)]
        slash_reward: u8,
        /// L1 blocks a queued deposit (or forced transaction) may wait: a later batch must
        /// consume it, and past it anyone may post the next batch.
        #[arg(long, default_value_t = 100)]
        force_inclusion_blocks: u64,
        /// L1 blocks the rollup may owe something with no batch settled before it freezes and
        /// every user exits on L1 (default: the least the other parameters allow, plus 100).
        #[arg(long)]
        escape_blocks: Option<u64>,
        /// How the sequencer prices execution and fills blocks: `fixed` (the minimum fee),
        /// `eip1559:TARGET` (an L2 base fee keeping blocks near TARGET transactions, at most
        /// twice that) or `auction:SIZE` (blocks of SIZE, highest fees first). Every model adds
        /// the L1 price of the transaction's data.
        #[arg(long, default_value = "fixed", value_parser = parse_fee_model)]
        fee_model: basalt_l1::FeeModel,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Propose any output for a batch by hand, locking the proposer bond (it is lost if the output
    /// is wrong and someone counters it: this is how a fraud attempt is staged). Proposals compete:
    /// each opens its own claim tree, and the batch settles with the first one upheld.
    ProposeOutput {
        /// The rollup, by name or id.
        #[arg(long)]
        rollup: String,
        /// The batch (posted, not settled).
        #[arg(long)]
        batch: u64,
        /// The output claimed (0x + 64 hex digits).
        #[arg(long)]
        output: String,
        /// The output it builds on (default: the settled output of the batch before, or the
        /// genesis output for batch 0).
        #[arg(long)]
        prior: Option<String>,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Counter one claim of a proposal's claim tree by hand, locking the dispute bond (low level:
    /// a rollup node with this key plays the whole game). Claim 0 is the proposed output; read a
    /// tree with `l1_getClaims`.
    Counter {
        /// The rollup, by name or id.
        #[arg(long)]
        rollup: String,
        /// The proposal whose tree is played.
        #[arg(long)]
        proposal: u64,
        /// The claim countered.
        #[arg(long, default_value_t = 0)]
        claim: u32,
        /// Defend (the claim's state is right, the fault lies after it) rather than attack.
        #[arg(long)]
        defend: bool,
        /// The state the new claim asserts (0x + 64 hex digits).
        #[arg(long)]
        value: String,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Deposit tokens into a rollup: they are escrowed on L1 and credited on L2 by the sequencer.
    Deposit {
        /// The rollup, by name or id.
        #[arg(long)]
        rollup: String,
        /// Amount in tokens.
        #[arg(long)]
        amount: String,
        /// L2 key (hex) that will own the funds; defaults to the signer's key (on a ZK rollup, the
        /// BabyJubJub key derived from it, packed as circomlib packs points).
        #[arg(long)]
        to: Option<String>,
        /// Credit this existing L2 account (it must belong to the key); otherwise a new one opens.
        #[arg(long)]
        account: Option<u32>,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Show an L2 account on a rollup (the signer's first by default).
    L2Balance {
        /// L2 account index or key (hex); defaults to the signer's.
        account: Option<String>,
        #[command(flatten)]
        rollup: crate::wallet_l2::RollupArgs,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Send tokens to another L2 account on a rollup; returns at the soft confirmation (~50 ms).
    L2Transfer {
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
    /// Withdraw tokens from a rollup to an L1 account; claim them with `claim` once settled.
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
    /// Have the L1 pay a withdrawal: waits for its batch to settle, then submits the Merkle proof.
    Claim {
        /// Withdrawal index, or the withdrawal's L2 transaction hash.
        #[arg(long)]
        withdrawal: String,
        #[command(flatten)]
        rollup: crate::wallet_l2::RollupArgs,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Force an L2 transfer or withdrawal in through the L1, past a sequencer that censors it:
    /// queued like a deposit, the first batch after its deadline must apply it (both kinds of
    /// rollup; a ZK batch proves it applied, or proves why it failed).
    #[command(subcommand)]
    ForceInclude(crate::wallet_exit::ForceCommand),
    /// Leave a frozen rollup: prove the signer's balance in its last settled state (rebuilt from
    /// L1 data alone, no L2 node needed) and have the L1 pay it, once.
    Exit {
        /// The rollup, by name or id.
        #[arg(long)]
        rollup: String,
        /// L1 account paid (hex); defaults to the signer's.
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Have a frozen rollup refund deposits its last settled state never applied, to the L1
    /// accounts that paid them.
    Refund {
        /// The rollup, by name or id.
        #[arg(long)]
        rollup: String,
        /// The deposit's queue index (anyone may refund any); defaults to every such deposit the
        /// signer paid.
        #[arg(long)]
        index: Option<u64>,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Show an L2 transaction's finality: pending, soft, posted, l1_final, settled, or failed.
    Status {
        /// The L2 transaction hash.
        hash: String,
        /// Keep watching until it settles or fails.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        rollup: crate::wallet_l2::RollupArgs,
        /// L1 JSON-RPC URL (to look the rollup up).
        #[arg(long, default_value = "http://127.0.0.1:8545")]
        rpc: String,
    },
}

/// Who signs and where to send.
#[derive(Args, Debug)]
pub struct SignerArgs {
    /// Node JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    pub rpc: String,
    /// Use dev account N (DEVNET ONLY).
    #[arg(long, conflicts_with = "key")]
    pub dev: Option<u64>,
    /// Use the key in this key file.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Return once the node accepts the transaction instead of waiting for finality.
    #[arg(long)]
    pub no_wait: bool,
}

impl SignerArgs {
    /// The signer's keypair.
    pub fn keypair(&self) -> Result<Keypair> {
        match (&self.dev, &self.key) {
            (Some(n), _) if *n >= DEV_ACCOUNTS => bail!("--dev must be below {DEV_ACCOUNTS}"),
            (Some(n), _) => Ok(dev_account(*n)),
            (None, Some(path)) => read_key(path),
            (None, None) => bail!("say who signs: --dev N for a dev account, or --key FILE"),
        }
    }

    /// A client of the L1 node.
    pub fn client(&self) -> Result<HttpClient> {
        l1_http(&self.rpc)
    }
}

/// Prints the dev accounts with their (public, DEVNET ONLY) secrets, one per line.
pub fn print_dev_accounts(indent: &str) {
    for i in 0..DEV_ACCOUNTS {
        let kp = dev_account(i);
        println!(
            "{indent}({i}) {}  secret 0x{}",
            kp.public(),
            hex::encode(kp.secret())
        );
    }
}

/// Runs a wallet subcommand.
pub fn run(cmd: WalletCommand) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(cmd))
}

async fn run_async(cmd: WalletCommand) -> Result<()> {
    match cmd {
        WalletCommand::New { out } => {
            let kp = Keypair::from_secret(rand::random());
            write_key(&out, &kp)?;
            println!("{}", kp.public());
            eprintln!("wrote {} (unencrypted: keep it private)", out.display());
            Ok(())
        }
        WalletCommand::DevAccounts => {
            println!("DEVNET ONLY: these keys are public.");
            print_dev_accounts("");
            Ok(())
        }
        WalletCommand::Balance { account, signer } => {
            let key = match account {
                Some(a) => PublicKey::from_hex(&a)
                    .map_err(|_| anyhow::anyhow!("account must be 32 bytes of hex"))?,
                None => signer.keypair()?.public(),
            };
            let acc = L1Client::new(&signer.rpc)?.account(&key).await?;
            println!("account  {key}");
            println!("balance  {} tokens", format_tokens(acc.balance));
            if acc.stake > 0 || acc.unbonding > 0 {
                println!(
                    "stake    {} tokens ({} unbonding)",
                    format_tokens(acc.stake),
                    format_tokens(acc.unbonding)
                );
            }
            println!("nonce    {}", acc.nonce);
            println!("as of finalized height {}", acc.height);
            Ok(())
        }
        WalletCommand::Transfer { to, amount, signer } => {
            let to = PublicKey::from_hex(&to)
                .map_err(|_| anyhow::anyhow!("--to must be 32 bytes of hex"))?;
            let amount = parse_tokens(&amount)?;
            send(&signer, Action::Transfer { to, amount }).await
        }
        WalletCommand::Stake { amount, signer } => {
            let amount = parse_tokens(&amount)?;
            send(&signer, Action::Stake { amount }).await
        }
        WalletCommand::Unstake { amount, signer } => {
            let amount = parse_tokens(&amount)?;
            send(&signer, Action::Unstake { amount }).await
        }
        WalletCommand::Rollups { rpc } => crate::wallet_rollups::list(&rpc).await,
        WalletCommand::RegisterRollup {
            name,
            sequencer,
            challenge_window,
            bond,
            min_fee,
            clock_extension,
            dispute_bond,
            slash_reward,
            force_inclusion_blocks,
            escape_blocks,
            fee_model,
            signer,
        } => {
            let proposer_bond = parse_tokens(&bond)?;
            let mut params = basalt_l1::RollupParams {
                name,
                kind: basalt_l1::RollupKind::Optimistic,
                sequencer: PublicKey::from_hex(&sequencer)
                    .map_err(|_| anyhow::anyhow!("--sequencer must be 32 bytes of hex"))?,
                challenge_window,
                proposer_bond,
                min_fee: parse_tokens(&min_fee)?,
                clock_extension,
                dispute_bond: match dispute_bond {
                    Some(b) => parse_tokens(&b)?,
                    None => proposer_bond,
                },
                slash_reward_percent: slash_reward,
                force_inclusion_blocks,
                escape_blocks: 0,
                fee_model,
            };
            params.escape_blocks = escape_blocks.unwrap_or(params.settle_bound() + 100);
            params.validate()?;
            send(&signer, Action::RegisterRollup { params }).await
        }
        WalletCommand::ProposeOutput {
            rollup,
            batch,
            output,
            prior,
            signer,
        } => {
            let output = basalt_types::Hash::from_hex(&output)
                .map_err(|_| anyhow::anyhow!("--output must be 0x + 64 hex digits"))?;
            let client = L1Client::new(&signer.rpc)?;
            let r = client.rollup(&RollupRef::parse(&rollup)).await?;
            let prior = match (prior, batch.checked_sub(1)) {
                (Some(p), _) => basalt_types::Hash::from_hex(&p)
                    .map_err(|_| anyhow::anyhow!("--prior must be 0x + 64 hex digits"))?,
                (None, None) => r.genesis_output,
                (None, Some(k)) => settled_output(&client, r.id, k).await?.with_context(|| {
                    format!("batch {k} has not settled: name the output to build on with --prior")
                })?,
            };
            println!(
                "proposing output {output} for batch {batch} of {} on prior {prior}",
                r.params.name
            );
            send(
                &signer,
                Action::ProposeOutput {
                    rollup: r.id,
                    batch,
                    prior,
                    output,
                },
            )
            .await
        }
        WalletCommand::Counter {
            rollup,
            proposal,
            claim,
            defend,
            value,
            signer,
        } => {
            let value = basalt_types::Hash::from_hex(&value)
                .map_err(|_| anyhow::anyhow!("--value must be 0x + 64 hex digits"))?;
            let client = L1Client::new(&signer.rpc)?;
            let r = client.rollup(&RollupRef::parse(&rollup)).await?;
            println!(
                "{} claim {claim} of proposal {proposal} of {} with {value} (bond {})",
                if defend { "defending" } else { "attacking" },
                r.params.name,
                format_tokens(r.params.dispute_bond),
            );
            send(
                &signer,
                Action::Counter {
                    rollup: r.id,
                    proposal,
                    parent: claim,
                    attack: !defend,
                    value,
                },
            )
            .await?;
            println!("the claim must now be defended against its counters: run a rollup node with this key, or follow the tree with l1_getClaims");
            Ok(())
        }
        WalletCommand::Deposit {
            rollup,
            amount,
            to,
            account,
            signer,
        } => {
            let amount = parse_tokens(&amount)?;
            let r = L1Client::new(&signer.rpc)?
                .rollup(&RollupRef::parse(&rollup))
                .await?;
            let id = r.id;
            // On a ZK rollup, the signer's BabyJubJub key derived from its L1 key.
            let zk = r.params.zk.is_some();
            let key = match to {
                Some(hex) => PublicKey::from_hex(&hex)
                    .map_err(|_| anyhow::anyhow!("--to must be 32 bytes of hex"))?,
                None => crate::devnet_rollups::l2_key(&signer.keypair()?, zk),
            };
            println!(
                "depositing {} into rollup {id} ({}) for L2 key {key}",
                format_tokens(amount),
                r.params.name
            );
            send(
                &signer,
                Action::Deposit {
                    rollup: id,
                    account,
                    key,
                    amount,
                },
            )
            .await
        }
        WalletCommand::L2Balance {
            account,
            rollup,
            signer,
        } => crate::wallet_l2::balance(account, &signer, &rollup).await,
        WalletCommand::L2Transfer {
            to,
            amount,
            tx,
            rollup,
            signer,
        } => crate::wallet_l2::transfer(&to, &amount, &tx, &signer, &rollup, false).await,
        WalletCommand::ForceInclude(crate::wallet_exit::ForceCommand::Transfer {
            to,
            amount,
            tx,
            rollup,
            signer,
        }) => crate::wallet_l2::transfer(&to, &amount, &tx, &signer, &rollup, true).await,
        WalletCommand::ForceInclude(crate::wallet_exit::ForceCommand::Withdraw {
            amount,
            to,
            tx,
            rollup,
            signer,
        }) => crate::wallet_l2::withdraw(&amount, to, &tx, &signer, &rollup, true).await,
        WalletCommand::Withdraw {
            amount,
            to,
            tx,
            rollup,
            signer,
        } => crate::wallet_l2::withdraw(&amount, to, &tx, &signer, &rollup, false).await,
        WalletCommand::Claim {
            withdrawal,
            rollup,
            signer,
        } => crate::wallet_l2::claim(&withdrawal, &signer, &rollup).await,
        WalletCommand::Status {
            hash,
            follow,
            rollup,
            rpc,
        } => crate::wallet_l2::status(&hash, follow, &rpc, &rollup).await,
        WalletCommand::Exit { rollup, to, signer } => {
            crate::wallet_exit::exit(&rollup, to, &signer).await
        }
        WalletCommand::Refund {
            rollup,
            index,
            signer,
        } => crate::wallet_exit::refund(&rollup, index, &signer).await,
        WalletCommand::SendBlob { file, hex, signer } => {
            let data = match (file, hex) {
                (Some(f), _) => {
                    std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?
                }
                (None, Some(h)) => basalt_types::codec::parse_hex(&h)
                    .map_err(|_| anyhow::anyhow!("--hex must be hex"))?,
                (None, None) => bail!("give the blob with --file PATH or --hex BYTES"),
            };
            let blob_fee = L1Client::new(&signer.rpc)?
                .chain_info()
                .await?
                .next_blob_base_fee;
            let h = basalt_l1::blob_hash(&data);
            println!("blob {h} ({} bytes)", data.len());
            send(
                &signer,
                Action::PostBlob {
                    data,
                    max_fee_per_blob_byte: blob_fee.saturating_mul(2),
                },
            )
            .await
        }
    }
}

/// The settled output of `batch` of rollup `id`, if it has settled.
async fn settled_output(
    client: &L1Client,
    id: u32,
    batch: u64,
) -> Result<Option<basalt_types::Hash>> {
    Ok(client
        .outputs(id, batch)
        .await?
        .into_iter()
        .next()
        .filter(|o| o.batch == batch)
        .map(|o| o.output))
}

/// Signs and submits a transaction, then follows it to finality unless told not to.
pub async fn send(signer: &SignerArgs, action: Action) -> Result<()> {
    let kp = signer.keypair()?;
    let client = L1Client::new(&signer.rpc)?;
    let hash = client.submit(&kp, action).await?;
    println!("transaction {hash}");
    if signer.no_wait {
        return Ok(());
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let started = Instant::now();
    loop {
        match client.tx_status(&hash).await? {
            L1TxStatus::Finalized { height, error, .. } => {
                bar.finish_and_clear();
                println!(
                    "finalized at height {height} in {:.2}s",
                    started.elapsed().as_secs_f64()
                );
                if let Some(e) = error {
                    bail!("the transaction was included but its action failed: {e}");
                }
                return Ok(());
            }
            L1TxStatus::Rejected { error } => {
                bar.finish_and_clear();
                bail!("rejected: {error}");
            }
            L1TxStatus::Included { height } => {
                bar.set_message(format!("included at height {height}, waiting for finality"))
            }
            L1TxStatus::Pending | L1TxStatus::Unknown => {
                bar.set_message("in the mempool, waiting for a block")
            }
        }
        if started.elapsed() > Duration::from_secs(120) {
            bar.finish_and_clear();
            bail!("not finalized after 120 s; check later with the hash above");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `--fee-model`: `fixed`, `eip1559:TARGET` or `auction:SIZE`.
fn parse_fee_model(s: &str) -> std::result::Result<basalt_l1::FeeModel, String> {
    s.parse()
}
