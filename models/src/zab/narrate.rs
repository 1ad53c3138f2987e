//! Sentences for a person reading a ZAB counterexample.

use std::fmt::Write;

use super::action::ZabAction;
use super::model::ZabModel;
use super::props;
use super::state::{Role, Server, ZabState};
use super::types::Sid;
use super::Election;
use crate::{prop, Explain};

fn log_text(server: &Server) -> String {
    let mut text = String::from("[");
    for (i, txn) in server.disk.log.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        let _ = write!(text, "{txn}");
        if i + 1 == usize::from(server.disk.delivered) {
            text.push('|');
        }
    }
    text.push(']');
    text
}

/// What a LOOKING server is doing in FLE: its round and proposal.
fn fle_text(server: &Server) -> String {
    if server.fle.stalled {
        format!(
            "LOOKING (round {} was the last the bound allows)",
            server.fle.logical_clock
        )
    } else {
        format!(
            "LOOKING round {} proposing {}",
            server.fle.logical_clock, server.fle.vote
        )
    }
}

/// `S1 LEADING/BROADCAST e2/2 [(1,1)#1|]`: role, zabState, acceptedEpoch/currentEpoch, log (the
/// bar ends the delivered prefix). With FLE a LOOKING server shows its round and proposal.
fn server_line(state: &ZabState, s: Sid, fle: bool) -> String {
    let server = state.server(s);
    if !server.up {
        return format!(
            "S{s} DOWN e{}/{} {}",
            server.disk.accepted_epoch,
            server.disk.current_epoch,
            log_text(server)
        );
    }
    let role = match &server.role {
        Role::Looking if fle => fle_text(server),
        Role::Looking => "LOOKING".to_string(),
        Role::Following(f) if f.unlogged => {
            format!("FOLLOWING S{} (synced txns not on disk)", f.leader)
        }
        Role::Following(f) if f.to_apply > 0 => {
            format!(
                "FOLLOWING S{} ({} logged txns not applied)",
                f.leader, f.to_apply
            )
        }
        Role::Following(f) if !f.pending.is_empty() => {
            let txns: Vec<String> = f.pending.iter().map(|t| t.to_string()).collect();
            format!("FOLLOWING S{} (buffered: {})", f.leader, txns.join(" "))
        }
        Role::Following(f) => format!("FOLLOWING S{}", f.leader),
        Role::Leading(l) if l.unwritten > 0 => {
            let unwritten = &server.disk.log[l.written(&server.disk.log)..];
            let txns: Vec<String> = unwritten.iter().map(|t| t.to_string()).collect();
            format!("LEADING (not yet on its disk: {})", txns.join(" "))
        }
        Role::Leading(_) => "LEADING".to_string(),
    };
    let queued = if server.sync_queue.is_empty() {
        String::new()
    } else {
        let txns: Vec<String> = server.sync_queue.iter().map(|t| t.to_string()).collect();
        format!(" (queued for disk: {})", txns.join(" "))
    };
    let queued = if server.orphans.is_empty() {
        queued
    } else {
        let txns: Vec<String> = server.orphans.iter().map(|t| t.to_string()).collect();
        format!(
            "{queued} (an ended role's thread still to write: {})",
            txns.join(" ")
        )
    };
    format!(
        "S{s} {role}/{} e{}/{} {}{queued}",
        server.phase,
        server.disk.accepted_epoch,
        server.disk.current_epoch,
        log_text(server)
    )
}

/// Which established leader lacks which committed transaction.
fn lost_commit(state: &ZabState) -> String {
    for s in state.ids() {
        let leader = state.server(s);
        if !leader.is_established_leader() {
            continue;
        }
        for txn in props::committed_txns(state) {
            let epoch = state.ghost.committed_in[usize::from(txn.value - 1)];
            if epoch < leader.disk.current_epoch && !leader.disk.log.contains(&txn) {
                return format!(
                    "S{s} leads epoch {} without {txn}, which was committed in epoch {epoch}: \
                     the committed transaction is lost",
                    leader.disk.current_epoch
                );
            }
        }
    }
    "a committed transaction is lost".into()
}

/// Which follower's log is not a prefix of its leader's.
fn diverged_follower(state: &ZabState) -> String {
    for s in state.ids() {
        if let Some(leader) = state.server(s).following().map(|f| f.leader) {
            let (mine, theirs) = (state.server(s), state.server(leader));
            if !theirs.disk.log.starts_with(&mine.disk.log) {
                return format!(
                    "S{s}'s log {} is not a prefix of its leader S{leader}'s {}, both in BROADCAST",
                    log_text(mine),
                    log_text(theirs)
                );
            }
        }
    }
    "a follower's log diverged from its leader's".into()
}

/// Which server on a side without a quorum committed what during the partition.
fn minority_commit(config: &super::ZabConfig, state: &ZabState) -> String {
    match props::minority_commit(config, state) {
        Some((s, txn)) => format!(
            "S{s} delivered {txn}, which was proposed after the partition cut {{{}}} off, on a \
             side without a quorum",
            super::types::set_name(state.cut_off)
        ),
        None => {
            "a side without a quorum committed a transaction proposed during the partition".into()
        }
    }
}

impl Explain for ZabModel {
    fn describe_step(&self, before: &ZabState, action: &ZabAction, after: &ZabState) -> String {
        let fle = self.config.election == Election::Fle;
        let touched: Vec<Sid> = after
            .ids()
            .filter(|&s| before.server(s) != after.server(s))
            .collect();
        let mut text = action.to_string();
        if !touched.is_empty() {
            text.push_str(" → ");
            let lines: Vec<String> = touched
                .iter()
                .map(|&s| server_line(after, s, fle))
                .collect();
            text.push_str(&lines.join("; "));
        }
        if after.ghost.committed_in != before.ghost.committed_in {
            let _ = write!(
                text,
                " (committed: {})",
                props::committed_txns(after)
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        text
    }

    fn describe_violation(&self, property: &str, state: &ZabState) -> Option<String> {
        let fle = self.config.election == Election::Fle;
        let holds = match property {
            prop::LEADER_UNIQUENESS => props::leader_uniqueness(state),
            prop::INTEGRITY => props::integrity(state),
            prop::AGREEMENT => props::agreement(state),
            prop::TOTAL_ORDER => props::total_order(state),
            prop::LOCAL_PRIMARY_ORDER => props::local_primary_order(state),
            prop::GLOBAL_PRIMARY_ORDER => props::global_primary_order(state),
            prop::PRIMARY_INTEGRITY => props::primary_integrity(state),
            prop::COMMITTED_LOG_DURABILITY => props::committed_log_durability(state),
            prop::COMMITTED_LOG_MONOTONICITY => props::committed_log_monotonicity(state),
            prop::HISTORY_CONSISTENCY => props::history_consistency(state),
            prop::ACK_CONSISTENT => props::ack_consistent(state),
            prop::STATE_CONSISTENT => props::state_consistent(state),
            prop::COMMIT_CONSISTENT => props::commit_consistent(state),
            prop::MINORITY_COMMITS_NOTHING_NEW => {
                props::minority_commits_nothing_new(&self.config, state)
            }
            _ => return None,
        };
        if holds {
            return None;
        }
        let why = match property {
            prop::COMMITTED_LOG_DURABILITY => lost_commit(state),
            prop::COMMITTED_LOG_MONOTONICITY => match props::taken_back(state) {
                Some((s, txn)) => format!(
                    "S{s} delivered {txn} and no longer has it at that place in its delivered \
                     log"
                ),
                None => "a server's deliveries went back".into(),
            },
            prop::INTEGRITY => match props::unaccepted_delivery(state) {
                Some((s, txn)) => {
                    format!("S{s} delivered {txn}, which no quorum of servers ever logged")
                }
                None => "a delivered transaction was never broadcast".into(),
            },
            prop::HISTORY_CONSISTENCY => diverged_follower(state),
            prop::LEADER_UNIQUENESS => "two servers established leadership in one epoch".into(),
            prop::ACK_CONSISTENT => "a leader waiting for a NEWLEADER ACK received the ACK of a \
                                     proposal instead (ZooKeeper rejects it and cannot \
                                     establish the epoch with that follower)"
                .into(),
            prop::STATE_CONSISTENT => "a leader read a follower's ACK of UPTODATE before that \
                                       follower applied the transactions synced to it"
                .into(),
            prop::COMMIT_CONSISTENT => "a follower in synchronization received a COMMIT with no \
                                        proposal buffered for it (a NullPointerException in \
                                        syncWithLeader)"
                .into(),
            prop::MINORITY_COMMITS_NOTHING_NEW => minority_commit(&self.config, state),
            _ => "the servers' delivered sequences break it".into(),
        };
        let servers: Vec<String> = state.ids().map(|s| server_line(state, s, fle)).collect();
        Some(format!("{why}. Now: {}", servers.join("; ")))
    }

    fn describe_state(&self, state: &ZabState) -> String {
        let fle = self.config.election == Election::Fle;
        let mut text = String::new();
        for s in state.ids() {
            let _ = writeln!(text, "{}", server_line(state, s, fle));
        }
        for packet in &state.net {
            let _ = writeln!(
                text,
                "  in flight S{} → S{} {}",
                packet.from, packet.to, packet.msg
            );
        }
        for notice in &state.election_net {
            let _ = writeln!(
                text,
                "  in flight S{} → S{} {}",
                notice.from, notice.to, notice.notification
            );
        }
        if state.cut_off != 0 {
            let _ = writeln!(
                text,
                "partition: {{{}}} cut off",
                super::types::set_name(state.cut_off)
            );
        }
        let _ = writeln!(
            text,
            "committed: [{}]; faults used: {} crashes, {} partitions",
            props::committed_txns(state)
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            state.faults.crashes,
            state.faults.partitions
        );
        text
    }
}
