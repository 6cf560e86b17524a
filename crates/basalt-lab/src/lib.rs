//! Basalt's lab: experiments that run a real L1 and real rollups side by side and measure what
//! scales, the in-process L1 harness they run on, seeded workloads, and reports (JSON,
//! Markdown, SVG and PNG plots).

pub mod censorship;
pub mod client;
pub mod dispute;
pub mod harness;
pub mod plot;
pub mod report;
pub mod scaling;
pub mod trilemma;
pub mod workload;
