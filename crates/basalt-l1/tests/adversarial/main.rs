//! Attacks on the L1, one test each, named for what must hold against it. Each was a failing test
//! on the code before its fix (see the module of each group for the attack).

#[path = "../common/mod.rs"]
mod common;

mod floors;
mod gas;
mod history;
mod receipts;
mod signatures;
