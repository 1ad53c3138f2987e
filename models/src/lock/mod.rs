//! The znode lock recipes as clients of one ZooKeeper server (docs/recipes.md).
//!
//! A lock world is N clients, one atomic ZooKeeper server and, for the fenced recipe, one shared
//! resource. The step granularity is the benchmark workload's (docs/benchmark.md): the server serves
//! one request (apply, reply, fire watches) in one step, and a client consumes the head of its
//! incoming channel and reacts (decide, send its next request, enter the critical section) in one
//! step. Channels are FIFO per client and direction, as a TCP connection gives.
//!
//! Each recipe is a module that reads like its step list: [`naive`], [`herd`], [`standard`],
//! [`fenced`] (the standard recipe plus fencing tokens checked by a [`resource`]) and [`curator`]
//! (the standard recipe as Apache Curator's `InterProcessMutex` runs it, with protection mode). Deliberately
//! broken versions are [`Variant`]s of the same code, never copies of it.
//!
//! Faults ([`faults`] has what each one does): session expiry (the server expires a live session,
//! up to the budget), client pauses (a client stops taking steps, as in a GC pause, while expiry
//! goes on; it later resumes where it was, unaware), connection loss (`message_loss`), partitions
//! and server crashes. Nothing is duplicated or reordered: a session runs over one TCP connection.
//! In an interleaving model any process that takes no step is already "paused"; the pause fault
//! makes that explicit in traces and, for liveness, lasting. Likewise a partition that heals
//! before the clients' read timeout is only a long delay; one that outlasts it breaks the cut-off
//! clients' connections, as a connection loss does.

mod action;
mod canonical;
mod classify;
mod client;
pub mod curator;
mod faults;
pub mod fenced;
pub mod herd;
mod liveness;
mod model;
pub mod naive;
mod narrate;
mod reduction;
pub mod resource;
pub mod standard;
mod state;
mod symmetry;
#[cfg(test)]
pub(crate) mod test_worlds;
mod timeline;

use model::unexpected;

pub use action::{LockAction, Msg};
pub use canonical::Renaming;
pub use client::{Client, Phase};
pub use model::{LockConfig, LockModel, Recipe, Variant};
pub use resource::Resource;
pub use state::{FaultsUsed, Links, LockState, Tracked};
