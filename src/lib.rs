//! lockscope: a deterministic simulator and model checker for lock protocols.
//!
//! The data path runs left to right, one module per stage: a scenario file is parsed and validated
//! ([`scenario`]), the [`registry`] builds the model it names, a [`search`] explores the model's
//! states, counterexamples become self-contained [`trace`] files, and [`report`] renders the
//! outcome for terminals, JSON consumers and people reading a narrative.

pub mod search;
