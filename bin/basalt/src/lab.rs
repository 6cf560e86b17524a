//! `basalt lab`: the experiments of `basalt_lab`, by name (docs/lab.md).

use anyhow::Result;
use clap::Subcommand;

/// Lab experiments.
#[derive(Subcommand, Debug)]
pub enum LabCommand {
    /// A dishonest proposer against the honest challenger on the running devnet, move by move.
    Dispute(basalt_lab::dispute::DisputeArgs),
    /// A sequencer that censors a user, then vanishes: forced inclusion, a rescue batch, a
    /// freeze and every exit, step by step.
    Censorship(basalt_lab::censorship::CensorshipArgs),
    /// The same seeded workload through the L1 alone, optimistic rollups (1 to 8 sharing the
    /// L1) and a ZK rollup, at rising load, on an in-process L1: what each costs the L1's
    /// validator and gives its users. Writes report.json, report.md and plots.
    Scaling(basalt_lab::scaling::ScalingArgs),
    /// What the L1's levers (block size, block time, validator count, execution threads) cost
    /// the validators that must keep up, on separate `basalt node` processes in network
    /// namespaces, some capped as home nodes (needs root; uncapped only without). Writes
    /// report.json, report.md and plots.
    Trilemma(basalt_lab::trilemma::TrilemmaArgs),
}

/// Runs a lab experiment.
pub fn run(cmd: LabCommand) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match cmd {
        LabCommand::Dispute(a) => rt.block_on(basalt_lab::dispute::dispute(a)),
        LabCommand::Censorship(a) => rt.block_on(basalt_lab::censorship::censorship(a)),
        LabCommand::Scaling(a) => rt.block_on(basalt_lab::scaling::scaling(a)),
        LabCommand::Trilemma(a) => rt.block_on(basalt_lab::trilemma::trilemma(a)),
    }
}
