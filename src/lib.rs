//! lockscope: a deterministic simulator and model checker for lock protocols.
//!
//! The data path runs left to right, one module per stage: a scenario file is parsed and validated
//! ([`scenario`]), the [`registry`] builds the model it names, a [`search`] explores the model's
//! states, [`check`] turns the result into verdicts and self-contained [`trace`] files, and
//! [`report`] renders the outcome for terminals, JSON consumers and people reading a narrative.
//! [`cli`] and [`commands`] are the command line; [`bench`] the benchmark suite; [`course`] the
//! generated half of the course book; [`conform`] replays lock traces against a real ZooKeeper
//! server.

// stdout belongs to the report: library code writes to a handle it is given, never `println!`.
#![deny(clippy::print_stdout, clippy::dbg_macro)]

pub mod bench;
pub mod check;
pub mod cli;
pub mod commands;
pub mod conform;
pub mod course;
pub mod explore;
pub mod merge;
pub mod registry;
pub mod render;
pub mod report;
pub mod scenario;
pub mod search;
pub mod trace;
