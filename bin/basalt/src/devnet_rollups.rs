//! The three rollups of `basalt up`: two optimistic (`alpha`, `beta`) and one ZK (`gamma`),
//! registered by their sequencers on the first run, funded by L1 deposits from every dev account,
//! and run by sequencer nodes in the same process that follow the L1 through its JSON-RPC, exactly
//! as `basalt rollup` does from its own process.
//!
//! DEVNET ONLY: the sequencer keys are public, the challenge windows are seconds long so that a
//! withdrawal completes in under a minute (a real rollup waits days), and `gamma`'s proving keys
//! are the development setup, whose randomness is public: anyone can forge its proofs.

use crate::units::format_tokens;
use anyhow::{Context, Result};
use basalt_l1::{Action, FeeModel, RollupKind, RollupParams, ZkParams, ONE_TOKEN};
pub use basalt_lab::client::{dev_keys, l2_key, wait_final};
use basalt_node::devnet::{dev_account, dev_sequencer, DEV_ACCOUNTS};
use basalt_rollup::l1client::{L1Client, L1Error};
use basalt_rollup::{BatcherConfig, NodeConfig, Role, RollupNode, RollupRef};
use basalt_types::zk::BabyKeypair;
use basalt_types::Amount;
use std::net::SocketAddr;
use std::path::Path;

/// One devnet rollup's parameters.
struct DevRollup {
    name: &'static str,
    /// A ZK rollup's circuit slots (the most transactions per batch and proof); `None`: optimistic.
    zk_slots: Option<usize>,
    challenge_window: u64,
    clock_extension: u64,
    bond: Amount,
    min_fee: Amount,
    /// Blocks a queued item may wait before a batch must consume it.
    force_inclusion_blocks: u64,
    /// Blocks the rollup may owe something, settling nothing, before it freezes.
    escape_blocks: u64,
    /// How its sequencer prices execution and fills blocks.
    fee_model: FeeModel,
}

/// How many rollups `basalt up` runs.
pub const DEVNET_ROLLUP_COUNT: u32 = ROLLUPS.len() as u32;

/// Two optimistic rollups that differ in fees, fee model, challenge window and clock extension (DEVNET ONLY
/// windows and clocks: 200 ms blocks make the windows 10 s and 30 s, the extensions 2 s and 4 s),
/// and a ZK rollup with no window, whose batches of 6 transactions are final at their proof.
/// `alpha` charges a fixed execution price, `beta` an EIP-1559 L2 base fee aiming at 250
/// transactions a block, `gamma` auctions blocks of 24, highest fee first. Each
/// forces a queued item in after 150 blocks (30 s; OP Stack's window is 12 h) and freezes after
/// owing something unsettled for a little more than its settlement bound (100 s, 170 s, 50 s;
/// production escape hatches wait 7 to 15 days): DEVNET ONLY delays.
const ROLLUPS: [DevRollup; 3] = [
    DevRollup {
        name: "alpha",
        zk_slots: None,
        challenge_window: 50,
        clock_extension: 10,
        bond: 10 * ONE_TOKEN,
        min_fee: ONE_TOKEN / 1_000_000,
        force_inclusion_blocks: 150,
        escape_blocks: 500,
        fee_model: FeeModel::Fixed,
    },
    DevRollup {
        name: "beta",
        zk_slots: None,
        challenge_window: 150,
        clock_extension: 20,
        bond: 100 * ONE_TOKEN,
        min_fee: ONE_TOKEN / 100_000,
        force_inclusion_blocks: 150,
        escape_blocks: 850,
        fee_model: FeeModel::Eip1559 { target_txs: 250 },
    },
    // The window, clock and bonds are unused: a ZK rollup's batches are proven, not disputed.
    DevRollup {
        name: "gamma",
        zk_slots: Some(GAMMA_SLOTS),
        challenge_window: 50,
        clock_extension: 10,
        bond: 10 * ONE_TOKEN,
        min_fee: ONE_TOKEN / 1_000_000,
        force_inclusion_blocks: 150,
        escape_blocks: 250,
        fee_model: FeeModel::Auction { block_txs: 24 },
    },
];

/// Slots of `gamma`'s batch circuit: small, so that an idle devnet's withdrawal waits for one short
/// proof (under 3 s on 2 cores) rather than a long padded one; 6, because their constraints fill
/// 96% of the 2^17 evaluation domain (4 would leave a third of it, and of its work, unused).
const GAMMA_SLOTS: usize = 6;

/// What each dev account deposits into each rollup on the first run.
pub const DEV_DEPOSIT: Amount = 1_000 * ONE_TOKEN;

/// The port of rollup `id`'s L2 JSON-RPC under `basalt up`: the L1 port plus 100 plus the id.
pub fn l2_port(l1_port: u16, id: u32) -> Option<u16> {
    u16::try_from(u32::from(l1_port) + 100 + id).ok()
}

/// Registers the devnet rollups if needed, starts their sequencer nodes, and funds the dev
/// accounts on them on the first run.
pub async fn start(l1_url: &str, data_dir: &Path, l1_port: u16) -> Result<Vec<RollupNode>> {
    let client = L1Client::new(l1_url)?;
    let key_dir = data_dir.join(crate::preflight::ZK_KEYS_DIR);
    let mut specs = Vec::new();
    // One at a time, so that the ids follow the order above.
    for (i, spec) in ROLLUPS.iter().enumerate() {
        match client.rollup(&RollupRef::Name(spec.name.into())).await {
            Ok(_) => {}
            Err(L1Error::Refused { .. }) => {
                let sequencer = dev_sequencer(i as u64);
                if client.account(&sequencer.public()).await?.balance == 0 {
                    println!(
                        "rollup {} not started: this devnet's genesis predates it (its sequencer has no funds); `basalt up --fresh` starts a chain with it",
                        spec.name
                    );
                    continue;
                }
                let kind = match spec.zk_slots {
                    None => RollupKind::Optimistic,
                    Some(slots) => {
                        let keys = dev_keys(&key_dir, slots).await?;
                        RollupKind::Zk(ZkParams {
                            fee_key: BabyKeypair::of_l1_key(&sequencer).public(),
                            slots: slots as u32,
                            verifying_key: basalt_zk::verifying_key_bytes(&keys.verifying),
                        })
                    }
                };
                let params = RollupParams {
                    name: spec.name.into(),
                    kind,
                    sequencer: sequencer.public(),
                    challenge_window: spec.challenge_window,
                    proposer_bond: spec.bond,
                    min_fee: spec.min_fee,
                    clock_extension: spec.clock_extension,
                    dispute_bond: spec.bond,
                    slash_reward_percent: 50,
                    force_inclusion_blocks: spec.force_inclusion_blocks,
                    escape_blocks: spec.escape_blocks,
                    fee_model: spec.fee_model,
                };
                let hash = client
                    .submit(&sequencer, Action::RegisterRollup { params })
                    .await
                    .with_context(|| format!("registering rollup {}", spec.name))?;
                println!("registering rollup {} on L1 ...", spec.name);
                wait_final(&client, &[hash]).await?;
            }
            Err(e) => return Err(e.into()),
        }
        specs.push((i, spec));
    }
    let block_time = client.chain_info().await?.params.block_time_ms;
    let mut nodes = Vec::new();
    let mut funding = Vec::new();
    for (i, spec) in specs {
        let r = client.rollup(&RollupRef::Name(spec.name.into())).await?;
        let port = l2_port(l1_port, r.id).context("--rpc-port too high for the rollup ports")?;
        let cfg = NodeConfig {
            l1_rpc: l1_url.to_string(),
            rollup: spec.name.into(),
            role: Role::Sequencer,
            data_dir: data_dir.join(format!("rollup-{}", spec.name)),
            rpc: SocketAddr::from(([127, 0, 0, 1], port)),
            key: None,
            propose: Some(true),
            challenge: None,
            fault: None,
            censor: None,
            block_time_ms: 50,
            l1_poll_ms: block_time,
            zk_keys: Some(key_dir.clone()),
            batcher: BatcherConfig::default(),
        };
        let node = basalt_rollup::start(cfg, Some(dev_sequencer(i as u64)))
            .await
            .with_context(|| format!("rollup {}", spec.name))?;
        match spec.zk_slots {
            None => println!(
                "Rollup {} (id {}, optimistic): L2 JSON-RPC http://{}  min fee {}, challenge window {} blocks (~{} s, DEVNET ONLY)",
                spec.name,
                r.id,
                node.rpc_addr,
                format_tokens(spec.min_fee),
                spec.challenge_window,
                spec.challenge_window * block_time / 1_000,
            ),
            Some(slots) => println!(
                "Rollup {} (id {}, ZK): L2 JSON-RPC http://{}  min fee {}, final at each batch's validity proof ({slots} transactions per batch; DEVELOPMENT keys, DEVNET ONLY)",
                spec.name,
                r.id,
                node.rpc_addr,
                format_tokens(spec.min_fee),
            ),
        }
        nodes.push(node);
        if r.deposits == 0 {
            for a in 0..DEV_ACCOUNTS {
                let kp = dev_account(a);
                let deposit = Action::Deposit {
                    rollup: r.id,
                    account: None,
                    key: l2_key(&kp, spec.zk_slots.is_some()),
                    amount: DEV_DEPOSIT,
                };
                funding.push(client.submit(&kp, deposit).await?);
            }
        }
    }
    if !funding.is_empty() {
        println!(
            "funding every dev account with {} tokens on each rollup by L1 deposit ...",
            format_tokens(DEV_DEPOSIT)
        );
        wait_final(&client, &funding).await?;
        println!("funded: `basalt wallet l2-balance --rollup alpha --dev 0` shows it once the sequencer applies it");
    }
    println!();
    Ok(nodes)
}
