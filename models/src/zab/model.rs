//! The ZAB world as a [`stateright::Model`]: which steps are enabled, and what each one does.

use stateright::{Model, Property};

use super::action::ZabAction;
use super::props;
use super::state::ZabState;
use super::types::{Log, Msg, Sid};
use super::{Election, Flaw, ZabConfig};
use crate::{prop, ActionInfo, Fairness};

/// A ZAB world ready to be checked.
#[derive(Clone, Debug)]
pub struct ZabModel {
    pub config: ZabConfig,
    /// Rename epochs after every step (see [`super::canonical`]); on exactly when `epochs` is 0,
    /// unless a test turns it off to compare.
    canonical_epochs: bool,
    /// Which fairness the liveness checker assumes for the election (see [`super::liveness`]).
    pub(super) fairness: Fairness,
    /// Tests only, a mutation: a leader commits a proposal once any two servers acknowledged it,
    /// not a strict majority, so that a test can show `minority_commits_nothing_new` catches a
    /// broken quorum rule.
    #[cfg(test)]
    pub(super) commits_on_two_acks: bool,
    /// Tests only, a mutation: a follower answers LEADERINFO without writing the new epoch to its
    /// acceptedEpoch file, so it can promise the same epoch to a second leader, so that a test
    /// can show `leader_uniqueness` catches two leaders established in one epoch.
    #[cfg(test)]
    pub(super) forgets_epoch_promise: bool,
    /// Tests only, a mutation: a leader syncing a late follower sends the committed part of its
    /// log but not its outstanding proposals (ZK-spec's `issues.md`: "PROPOSE sent only to
    /// ACK-LD'd followers loses entries"), so that a test can show `local_primary_order` catches
    /// a follower that delivers a proposal without its predecessor.
    #[cfg(test)]
    pub(super) skips_outstanding_proposals: bool,
    /// Tests only, a mutation: a follower writes the transactions of a DIFF or SNAP newest first,
    /// so that a test can show `global_primary_order` catches a follower that delivers a
    /// transaction of an earlier epoch after one of a later epoch.
    #[cfg(test)]
    pub(super) writes_sync_newest_first: bool,
    /// Tests only, a mutation: a leader drops its followers' ACKs of proposals, so that a test
    /// can show `proposals_eventually_committed` catches a leader that stays but never commits.
    #[cfg(test)]
    pub(super) drops_proposal_acks: bool,
}

impl ZabModel {
    pub fn new(config: ZabConfig) -> Result<Self, String> {
        config.validate()?;
        Ok(ZabModel::unvalidated(config))
    }

    /// Without `validate`, for a lock world's ensemble: `config.transactions` is the log capacity
    /// there (up to `MAX_TXNS`), not a ZAB scenario's bound, which `validate` checks.
    pub(crate) fn unvalidated(config: ZabConfig) -> Self {
        ZabModel {
            config,
            canonical_epochs: config.epochs == 0,
            fairness: Fairness::Weak,
            #[cfg(test)]
            commits_on_two_acks: false,
            #[cfg(test)]
            forgets_epoch_promise: false,
            #[cfg(test)]
            skips_outstanding_proposals: false,
            #[cfg(test)]
            writes_sync_newest_first: false,
            #[cfg(test)]
            drops_proposal_acks: false,
        }
    }

    /// Whether the servers' code has `flaw` (see [`ZabVariant::flaws`]).
    pub(super) fn has(&self, flaw: Flaw) -> bool {
        self.config.variant.has(flaw)
    }

    /// Turn the epoch renaming off (to compare with it on); it applies only without an epoch
    /// bound, since the bound compares epochs with a fixed number.
    pub fn with_canonical_epochs(mut self, canonical: bool) -> Self {
        self.canonical_epochs = canonical && self.config.epochs == 0;
        self
    }

    /// Strong fairness makes the election's outcomes strongly fair tasks (see
    /// [`super::liveness`]); weak, the default, keeps the election one weakly fair task.
    pub fn with_fairness(mut self, fairness: Fairness) -> Self {
        self.fairness = fairness;
        self
    }

    /// Whether a follower writes the epoch it acknowledges to its acceptedEpoch file: always,
    /// but for the test-only mutation `forgets_epoch_promise`.
    pub(super) fn keeps_epoch_promise(&self) -> bool {
        #[cfg(test)]
        if self.forgets_epoch_promise {
            return false;
        }
        true
    }

    /// Whether a leader syncing a late follower forwards its outstanding proposals: always, but
    /// for the test-only mutation `skips_outstanding_proposals`.
    pub(super) fn forwards_outstanding(&self) -> bool {
        #[cfg(test)]
        if self.skips_outstanding_proposals {
            return false;
        }
        true
    }

    /// The synced transactions in the order the follower writes them: as the leader sent them
    /// (oldest first), but for the test-only mutation `writes_sync_newest_first`.
    fn write_order(&self, txns: Log) -> Log {
        #[cfg(test)]
        if self.writes_sync_newest_first {
            return txns.into_iter().rev().collect();
        }
        txns
    }

    /// Whether a leader counts a follower's ACK of a proposal: always, but for the test-only
    /// mutation `drops_proposal_acks`.
    fn counts_proposal_acks(&self) -> bool {
        #[cfg(test)]
        if self.drops_proposal_acks {
            return false;
        }
        true
    }

    /// `to` handles `msg` from `from`. Only routes: each message has its handler in its phase's
    /// module, and each handler ignores a message its receiver no longer expects.
    fn on_msg(&self, state: &mut ZabState, from: Sid, to: Sid, msg: Msg) {
        assert_on_connection(state, from, to, &msg);
        match msg {
            Msg::FollowerInfo { accepted_epoch } => {
                self.on_follower_info(state, to, from, accepted_epoch)
            }
            Msg::LeaderInfo { epoch } => self.on_leader_info(state, to, epoch),
            Msg::AckEpoch {
                current_epoch,
                last_zxid,
                counted,
            } => self.on_ack_epoch(state, to, from, current_epoch, last_zxid, counted),
            Msg::Sync { mode, txns } => self.on_sync(state, to, mode, self.write_order(txns)),
            Msg::NewLeader { epoch } => self.on_new_leader(state, to, epoch),
            Msg::UpToDate => self.on_up_to_date(state, to),
            Msg::Proposal { txn } => self.on_proposal(state, to, txn),
            Msg::Ack { zxid } if zxid.counter == 0 => self.on_ack_new_leader(state, to, from),
            Msg::Ack { zxid } if self.counts_proposal_acks() => self.on_ack(state, to, from, zxid),
            Msg::Ack { .. } => {}
            Msg::Commit { zxid } => self.on_commit(state, to, zxid),
            Msg::Forward { .. } | Msg::Synced { .. } => {
                unreachable!("the ensemble takes its clients' messages")
            }
        }
    }

    /// Whether `server` takes `msg` now. A follower whose NEWLEADER is handled only in part
    /// takes nothing: in zk-4643 one thread does the whole handling; in zk-4646 later proposals
    /// queue behind the synced transactions in the SyncRequestProcessor, so they are logged and
    /// acknowledged only after them. In zk-4712 proposals and commits wait behind the proposals
    /// the role still has queued for the disk (the CommitProcessor waits for them); other
    /// messages do not, and nothing waits for an ended role's queue (see `Server::orphans`).
    ///
    /// In zk-3023 a COMMIT waits behind the synced transactions the CommitProcessor has yet to
    /// apply.
    ///
    /// In zk-3911 the follower with unwritten synced transactions keeps reading in
    /// `syncWithLeader`: it buffers PROPOSALs and COMMITs as every follower in synchronization
    /// does, and UPTODATE writes the synced transactions.
    fn receives(&self, state: &ZabState, server: Sid, msg: &Msg) -> bool {
        let receiver = state.server(server);
        if receiver.following().is_some_and(|f| f.unlogged) {
            return self.has(Flaw::Zk3911)
                && matches!(
                    msg,
                    Msg::UpToDate | Msg::Proposal { .. } | Msg::Commit { .. }
                );
        }
        if receiver.following().is_some_and(|f| f.to_apply > 0) && matches!(msg, Msg::Commit { .. })
        {
            return false;
        }
        receiver.sync_queue.is_empty() || !matches!(msg, Msg::Proposal { .. } | Msg::Commit { .. })
    }

    /// Take `action` in `state`, in place. The ensemble of a lock world drives ZAB through this.
    pub(crate) fn step(&self, state: &mut ZabState, action: &ZabAction) {
        match *action {
            ZabAction::Elect { leader, quorum } => self.on_elected(state, leader, quorum),
            ZabAction::Join { server, leader } => self.follow(state, server, leader),
            ZabAction::Notify {
                from,
                to,
                notification,
            } => {
                let notice = state.notice(from, to).copied();
                assert_eq!(
                    notice.map(|n| n.notification),
                    Some(notification),
                    "a notification delivery is enabled"
                );
                state.election_net.retain(|n| (n.from, n.to) != (from, to));
                self.on_notification(state, to, from, notification);
            }
            ZabAction::Decide { server } => self.decide(state, server),
            ZabAction::Deliver { from, to, ref msg } => {
                let packet = state.take_head(from, to).expect("a delivery is enabled");
                assert_eq!(&packet.msg, msg, "links are FIFO");
                self.on_msg(state, from, to, packet.msg);
            }
            ZabAction::ClientRequest { leader } => self.on_client_request(state, leader),
            ZabAction::LogSynced { server } => self.log_synced(state, server),
            ZabAction::AckNewLeader { server } => self.ack_new_leader(state, server),
            ZabAction::ApplyCommitted { server } => self.apply_committed(state, server),
            ZabAction::LogProposal { server } => self.log_queued_proposal(state, server),
            ZabAction::LogOrphan { server } => self.log_orphan(state, server),
            ZabAction::Timeout { server } => self.time_out(state, server),
            ZabAction::SpuriousTimeout { server } => {
                state.faults.timeouts += 1;
                self.time_out(state, server);
            }
            ZabAction::Crash { server } => self.crash(state, server),
            ZabAction::Restart { server } => self.restart(state, server),
            ZabAction::Partition { side } => self.partition(state, side),
            ZabAction::Heal => self.heal(state),
        }
        for server in &mut state.servers {
            server.forget_covered_load();
        }
        state.ghost.record(&state.servers);
        if self.canonical_epochs {
            super::canonical::rename_epochs(&self.config, state);
        }
    }
}

impl ZabModel {
    /// FLE's steps, in the same place of the order as the oracle's: deliveries of notifications
    /// (by link), then decisions.
    fn election_actions(&self, state: &ZabState, actions: &mut Vec<ZabAction>) {
        for notice in &state.election_net {
            if self.takes_notifications(state, notice.to) {
                actions.push(ZabAction::Notify {
                    from: notice.from,
                    to: notice.to,
                    notification: notice.notification,
                });
            }
        }
        for s in state.ids() {
            if self.may_decide(state, s) {
                actions.push(ZabAction::Decide { server: s });
            }
        }
    }
}

/// A message travels on a connection between a follower and its leader, and every way of leaving
/// that relation (a crash, a partition, a timeout, a step-down) closes the connection with what
/// is in flight. So a message always reaches a peer in the relation it was sent in; if not, the
/// model lost track of a connection.
fn assert_on_connection(state: &ZabState, from: Sid, to: Sid, msg: &Msg) {
    let (follower, leader) = if msg.to_leader() {
        (from, to)
    } else {
        (to, from)
    };
    assert!(
        state.server(leader).leading().is_some()
            && state
                .server(follower)
                .following()
                .is_some_and(|f| f.leader == leader),
        "S{from} → S{to} {msg} outside a follower–leader connection"
    );
}

impl Model for ZabModel {
    type State = ZabState;
    type Action = ZabAction;

    /// Every server starts LOOKING; with FLE each has started its first round.
    fn init_states(&self) -> Vec<ZabState> {
        let mut state = ZabState::new(self.config.servers);
        if self.config.election == Election::Fle {
            for server in state.ids().collect::<Vec<_>>() {
                self.start_round(&mut state, server);
            }
        }
        vec![state]
    }

    /// Enabled steps in a fixed order (elections, joins, deliveries, client writes, local steps,
    /// timeouts, faults): the order decides which of several shortest counterexamples a
    /// breadth-first search reports, so it is part of the determinism contract.
    fn actions(&self, state: &ZabState, actions: &mut Vec<ZabAction>) {
        match self.config.election {
            Election::Oracle => {
                for (leader, quorum) in self.elections(state) {
                    actions.push(ZabAction::Elect { leader, quorum });
                }
                for (server, leader) in self.joins(state) {
                    actions.push(ZabAction::Join { server, leader });
                }
            }
            Election::Fle => self.election_actions(state, actions),
        }
        for from in state.ids() {
            for to in state.ids() {
                if let Some(packet) = state.head(from, to) {
                    if self.receives(state, to, &packet.msg) {
                        actions.push(ZabAction::Deliver {
                            from,
                            to,
                            msg: packet.msg,
                        });
                    }
                }
            }
        }
        for s in state.ids() {
            if self.takes_writes(state, s) {
                actions.push(ZabAction::ClientRequest { leader: s });
            }
        }
        for s in state.ids() {
            let server = state.server(s);
            let writes_alone = !self.has(Flaw::Zk3911);
            if server.up && writes_alone && server.following().is_some_and(|f| f.unlogged) {
                actions.push(ZabAction::LogSynced { server: s });
            }
            if server.up && server.following().is_some_and(|f| f.newleader_ack_due) {
                actions.push(ZabAction::AckNewLeader { server: s });
            }
            let applies = server.phase == super::state::Phase::Broadcast
                && server.following().is_some_and(|f| f.to_apply > 0);
            if server.up && applies {
                actions.push(ZabAction::ApplyCommitted { server: s });
            }
            let writes_own = server.leading().is_some_and(|l| l.unwritten > 0);
            if server.up && (!server.sync_queue.is_empty() || writes_own) {
                actions.push(ZabAction::LogProposal { server: s });
            }
            // The stray thread may write while its server looks for a leader or follows one; a
            // leader's log stays its own in this model (its ack bookkeeping assumes so).
            if server.up && !server.orphans.is_empty() && server.leading().is_none() {
                actions.push(ZabAction::LogOrphan { server: s });
            }
        }
        for s in state.ids() {
            if self.times_out(state, s) {
                actions.push(ZabAction::Timeout { server: s });
            }
        }
        for s in state.ids() {
            if self.times_out_spuriously(state, s) {
                actions.push(ZabAction::SpuriousTimeout { server: s });
            }
        }
        for s in state.ids() {
            let server = state.server(s);
            if server.up && state.faults.crashes < self.config.crashes {
                actions.push(ZabAction::Crash { server: s });
            }
            if !server.up {
                actions.push(ZabAction::Restart { server: s });
            }
        }
        if state.cut_off == 0 && state.faults.partitions < self.config.partitions {
            for side in self.partition_sides(state) {
                actions.push(ZabAction::Partition { side });
            }
        }
        if state.cut_off != 0 && !self.config.permanent_partitions {
            actions.push(ZabAction::Heal);
        }
    }

    fn next_state(&self, last: &ZabState, action: ZabAction) -> Option<ZabState> {
        let mut next = None;
        crate::StepInto::next_state_into(self, last, action, &mut next);
        next
    }

    fn format_action(&self, action: &ZabAction) -> String {
        action.to_string()
    }

    fn format_step(&self, last: &ZabState, action: ZabAction) -> Option<String> {
        use crate::Explain;
        self.next_state(last, action)
            .map(|next| self.describe_state(&next))
    }

    /// The Explorer draws this above each state: the servers in words, not a debug dump.
    fn as_svg(&self, path: stateright::Path<ZabState, ZabAction>) -> Option<String> {
        use crate::Explain;
        Some(crate::timeline::state_svg(
            &self.describe_state(path.last_state()),
        ))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always(prop::LEADER_UNIQUENESS, |_, s: &ZabState| {
                props::leader_uniqueness(s)
            }),
            Property::always(prop::INTEGRITY, |_, s: &ZabState| props::integrity(s)),
            Property::always(prop::AGREEMENT, |_, s: &ZabState| props::agreement(s)),
            Property::always(prop::TOTAL_ORDER, |_, s: &ZabState| props::total_order(s)),
            Property::always(prop::LOCAL_PRIMARY_ORDER, |_, s: &ZabState| {
                props::local_primary_order(s)
            }),
            Property::always(prop::GLOBAL_PRIMARY_ORDER, |_, s: &ZabState| {
                props::global_primary_order(s)
            }),
            Property::always(prop::PRIMARY_INTEGRITY, |_, s: &ZabState| {
                props::primary_integrity(s)
            }),
            Property::always(prop::COMMITTED_LOG_DURABILITY, |_, s: &ZabState| {
                props::committed_log_durability(s)
            }),
            Property::always(prop::COMMITTED_LOG_MONOTONICITY, |_, s: &ZabState| {
                props::committed_log_monotonicity(s)
            }),
            Property::always(prop::HISTORY_CONSISTENCY, |_, s: &ZabState| {
                props::history_consistency(s)
            }),
            Property::always(prop::ACK_CONSISTENT, |_, s: &ZabState| {
                props::ack_consistent(s)
            }),
            Property::always(prop::STATE_CONSISTENT, |_, s: &ZabState| {
                props::state_consistent(s)
            }),
            Property::always(prop::COMMIT_CONSISTENT, |_, s: &ZabState| {
                props::commit_consistent(s)
            }),
            Property::always(
                prop::MINORITY_COMMITS_NOTHING_NEW,
                |m: &Self, s: &ZabState| props::minority_commits_nothing_new(&m.config, s),
            ),
        ]
    }
}

impl ActionInfo for ZabModel {
    fn fault_kind(&self, action: &ZabAction) -> Option<&'static str> {
        match action {
            ZabAction::Crash { .. } => Some("crashes"),
            ZabAction::Partition { .. } => Some("partitions"),
            ZabAction::SpuriousTimeout { .. } => Some("timeouts"),
            ZabAction::Elect { .. }
            | ZabAction::Join { .. }
            | ZabAction::Notify { .. }
            | ZabAction::Decide { .. }
            | ZabAction::Deliver { .. }
            | ZabAction::ClientRequest { .. }
            | ZabAction::LogSynced { .. }
            | ZabAction::AckNewLeader { .. }
            | ZabAction::ApplyCommitted { .. }
            | ZabAction::LogProposal { .. }
            | ZabAction::LogOrphan { .. }
            | ZabAction::Timeout { .. }
            | ZabAction::Restart { .. }
            | ZabAction::Heal => None,
        }
    }

    fn fault_kinds(&self) -> Vec<&'static str> {
        vec!["crashes", "partitions", "timeouts"]
    }

    /// A delivery stands in for a delivery on the same link (FIFO: the head is whatever the
    /// earlier steps put there; an election link holds one notification); every other action
    /// only for itself.
    fn stands_in_for(&self, recorded: &ZabAction, candidate: &ZabAction) -> bool {
        match (recorded, candidate) {
            (ZabAction::Deliver { from, to, .. }, ZabAction::Deliver { from: f, to: t, .. })
            | (ZabAction::Notify { from, to, .. }, ZabAction::Notify { from: f, to: t, .. }) => {
                from == f && to == t
            }
            _ => recorded == candidate,
        }
    }
}

/// Servers are not interchangeable: elections order votes by server id, so renaming servers
/// changes which server wins. No reduction is offered.
impl crate::Symmetry for ZabModel {}

/// No persistent sets yet: every ZAB step changes what some ZAB property reads.
impl crate::PartialOrder for ZabModel {}

/// The one copy of a transition is the parent's, straight into `into`; the step then changes it in
/// place.
impl crate::StepInto for ZabModel {
    fn next_state_into(&self, last: &ZabState, action: ZabAction, into: &mut Option<ZabState>) {
        let state = into.insert(last.clone());
        self.step(state, &action);
    }
}
