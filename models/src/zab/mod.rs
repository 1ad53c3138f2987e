//! ZooKeeper's atomic broadcast (ZAB) as ZooKeeper 3.5–3.9 implements it (docs/zab.md).
//!
//! A world is N servers (1 to 5; the bundled scenarios have 3) joined by TCP links. Each server has a
//! disk ([`state::Durable`]: the transaction log, the `acceptedEpoch` and `currentEpoch` files, the
//! snapshot point) and volatile state (role, zabState, the leader's and follower's bookkeeping).
//! The phases are modules that read like the step lists of docs/zab.md:
//!
//! 0. [`election`]: who leads, in one of two ways. An *oracle* election (the default, as the
//!    abstract Zab spec has): a quorum of LOOKING servers that can talk to each other agrees on
//!    the best vote among them, ordered by (currentEpoch, last zxid, sid) as Fast Leader Election
//!    orders votes; a LOOKING server may also join an existing leader. Or *Fast Leader Election*
//!    itself ([`election::fle`]): rounds, notifications on the election links, a decision on a
//!    quorum of equal votes.
//! 1. [`discovery`]: FOLLOWERINFO, LEADERINFO, ACKEPOCH; the leader proposes max(acceptedEpoch)+1
//!    and is *established* when a quorum acknowledged it.
//! 2. [`sync`]: the leader chooses DIFF, TRUNC or SNAP per follower, then NEWLEADER; a quorum of
//!    NEWLEADER acks commits the leader's log and UPTODATE starts broadcast.
//! 3. [`broadcast`]: client writes become PROPOSALs, a quorum of ACKs commits them in zxid order.
//!
//! Faults ([`faults`]): crash (volatile state and open connections lost; the disk kept) and
//! restart; a partition into two groups and its heal; spurious timeouts of live peers (a budget). Message loss is not modelled separately:
//! on TCP a lost message is a closed connection, which crashes and partitions already produce.
//! Timeouts are steps a server takes when it cannot reach its leader or quorum, or, as a leader,
//! when its epoch can no longer be acknowledged by a quorum (ZooKeeper's initLimit).
//!
//! Liveness ([`liveness`]): `leader_eventually_elected` and `proposals_eventually_committed`
//! under weak fairness per server, link, election and recovery, or with strongly fair election
//! outcomes (`[check] fairness = "strong"`), the timing Fast Leader Election relies on.
//!
//! Epochs: `epochs = n` bounds them (as TLC's MaxEpoch); `epochs = 0` leaves them unbounded and
//! [`canonical`] renames them after every step, so that elections can repeat forever in a finite
//! space.
//!
//! Known bugs are [`Flaw`]s, each branched on at the step it gets wrong: NEWLEADER and
//! UPTODATE handling after a DIFF in [`sync`] (zk-4643, zk-4646, zk-3911, zk-4685, zk-3023), the
//! proposals a follower buffers during synchronization (zk-4394, [`sync`]), a follower's proposal
//! logging in [`broadcast`] (zk-4712), the data tree kept when a role ends ([`election`],
//! zk-2845), the last processed zxid a DIFF claims before it is applied ([`sync`], zk-2355). A
//! [`ZabVariant`] is a set of flaws: one to teach a bug, several for a release
//! (`v3.6-3.9.1`, `v3.9.2`), none for the fixed code.
//!
//! Abstractions: one transaction per client write, no sessions or data tree; the sync's
//! committed PROPOSAL+COMMIT pairs travel as one message (they are written back to back on one
//! connection); a late follower gets the leader's outstanding proposals as PROPOSALs between the
//! sync and NEWLEADER, as ZooKeeper queues them, and their COMMITs follow NEWLEADER. A follower
//! in synchronization buffers the PROPOSALs it receives (`packetsNotLogged`) and logs them at
//! UPTODATE; in broadcast it logs and acknowledges a PROPOSAL in one step (ZooKeeper's
//! SyncRequestProcessor is asynchronous; the variants that need it, zk-4712 and zk-4685, model
//! it); the snapshot point is the delivered prefix, so a restart does not re-deliver logged but
//! uncommitted transactions. What a restart does replay is kept apart: the data tree's last
//! processed zxid, which votes and ACKEPOCH report ([`state::Server::processed_zxid`]), covers
//! the whole log after a restart and, in the fixed code, after a role ends (ZOOKEEPER-2845's
//! fix). A leader's proposal is in its memory and on the wire at once and reaches its own disk
//! in a later step ([`state::Leading::unwritten`]), whose ACK it counts only then, as
//! `AckRequestProcessor` does; any quorum commits (`Leader.tryToCommit`), so followers alone
//! may commit what the leader has not written.

mod action;
pub mod broadcast;
pub mod canonical;
#[cfg(test)]
mod cross_check;
pub mod discovery;
pub mod election;
pub mod faults;
#[cfg(test)]
mod fle_tests;
pub mod liveness;
mod model;
mod narrate;
mod pack;
pub mod props;
pub mod state;
pub mod sync;
#[cfg(test)]
mod tests;
mod timeline;
pub mod types;

pub use action::ZabAction;
pub use model::ZabModel;
pub use state::ZabState;
pub use types::{Msg, Sid, SyncMode, Txn, Zxid};

/// Which version of ZooKeeper the servers run: the fixed code, the fixed code with one flaw (the
/// code before the fix of the named JIRA issue, to teach that bug alone), or a release with the
/// flaws it had together ([`ZabVariant::flaws`]). Flaws differ in NEWLEADER handling after a DIFF
/// (zk-4643, zk-4646, zk-3911, zk-4685; after a SNAP or TRUNC every version snapshots before the
/// epoch), UPTODATE handling after a DIFF (zk-3023), NEWLEADER handling of the proposals buffered
/// in the sync (zk-4394), the follower's proposal logging (zk-4712), the data tree kept when a
/// role ends (zk-2845), and the last processed zxid a DIFF sets before it is applied (zk-2355).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ZabVariant {
    /// The protocol as fixed by PR #2152: on NEWLEADER a follower writes the synced transactions
    /// to disk, then its currentEpoch, then acknowledges.
    #[serde(rename = "fixed")]
    Fixed,
    /// ZOOKEEPER-4643: the follower writes currentEpoch first and the synced transactions after;
    /// a crash in between leaves a newer epoch over a shorter log.
    #[serde(rename = "zk-4643")]
    Zk4643,
    /// ZOOKEEPER-4646: the follower writes currentEpoch and acknowledges NEWLEADER while the
    /// synced transactions still wait in the SyncRequestProcessor's queue.
    #[serde(rename = "zk-4646")]
    Zk4646,
    /// ZOOKEEPER-4712: a follower that goes back to LOOKING does not stop its
    /// SyncRequestProcessor, which may write a proposal of the old leader after the follower
    /// reported its last zxid to a new one. (The fixed protocol logs a proposal as it takes it.)
    #[serde(rename = "zk-4712")]
    Zk4712,
    /// ZOOKEEPER-3911: the follower acknowledges NEWLEADER with the synced transactions still in
    /// memory and writes them only when UPTODATE arrives.
    #[serde(rename = "zk-3911")]
    Zk3911,
    /// ZOOKEEPER-4685: after a DIFF the follower hands the synced transactions to its
    /// SyncRequestProcessor, whose thread logs them and sends their ACKs while the QuorumPeer
    /// thread has yet to write the ACK of NEWLEADER: a proposal's ACK can reach the leader while
    /// it waits for the NEWLEADER ACK (`ack_consistent`).
    #[serde(rename = "zk-4685")]
    Zk4685,
    /// ZOOKEEPER-3023: after a DIFF the follower applies the synced transactions only after it
    /// has acknowledged UPTODATE, through the asynchronous CommitProcessor: the leader can read
    /// that ACK while the follower has not processed what the leader committed
    /// (`state_consistent`).
    #[serde(rename = "zk-3023")]
    Zk3023,
    /// ZOOKEEPER-4394: NEWLEADER logs the proposals buffered in the sync and empties the buffer,
    /// so the COMMIT of an outstanding proposal that arrives after NEWLEADER finds no proposal
    /// (a NullPointerException in `syncWithLeader`, `commit_consistent`).
    #[serde(rename = "zk-4394")]
    Zk4394,
    /// ZOOKEEPER-2845: a server that goes back to LOOKING keeps its data tree as it was, without
    /// the transactions it logged but never applied, and reports that tree's last zxid; the new
    /// leader syncs it by DIFF from there, so the unapplied transactions stay in its log under
    /// the new leader's (a restart would replay them: data inconsistency).
    #[serde(rename = "zk-2845")]
    Zk2845,
    /// ZOOKEEPER-2355: a follower synchronised by DIFF takes the DIFF's zxid (the leader's last
    /// committed one) as its data tree's last processed zxid when the DIFF arrives, before it has
    /// applied any of the transactions that follow. If its connection to the leader fails before
    /// NEWLEADER, it goes back to LOOKING with that claim in memory, reports it, and the leader
    /// sends it an empty DIFF: it never applies what it missed.
    #[serde(rename = "zk-2355")]
    Zk2355,
    /// ZooKeeper 3.6.0 to 3.9.1 (after ZOOKEEPER-3911's fix, before PR #2111): the flaws of
    /// zk-4643, zk-4646, zk-4685, zk-3023, zk-4394 and zk-4712 together (docs/zab.md).
    #[serde(rename = "v3.6-3.9.1")]
    V36To391,
    /// ZooKeeper 3.9.2 (PR #2111): still the flaws of zk-3023, zk-4394 and zk-4712.
    #[serde(rename = "v3.9.2")]
    V392,
}

/// One flaw of ZooKeeper's code, named after the JIRA issue whose fix removed it. A
/// [`ZabVariant`] is a set of them: none (the fixed code), one (to teach that bug alone), or the
/// several a release had at once. The model branches on a flaw, never on a variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    Zk4643,
    Zk4646,
    Zk4712,
    Zk3911,
    Zk4685,
    Zk3023,
    Zk4394,
    Zk2845,
    Zk2355,
}

impl ZabVariant {
    pub const ALL: [ZabVariant; 12] = [
        ZabVariant::Fixed,
        ZabVariant::Zk4643,
        ZabVariant::Zk4646,
        ZabVariant::Zk4712,
        ZabVariant::Zk3911,
        ZabVariant::Zk4685,
        ZabVariant::Zk3023,
        ZabVariant::Zk4394,
        ZabVariant::Zk2845,
        ZabVariant::Zk2355,
        ZabVariant::V36To391,
        ZabVariant::V392,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ZabVariant::Fixed => "fixed",
            ZabVariant::Zk4643 => "zk-4643",
            ZabVariant::Zk4646 => "zk-4646",
            ZabVariant::Zk4712 => "zk-4712",
            ZabVariant::Zk3911 => "zk-3911",
            ZabVariant::Zk4685 => "zk-4685",
            ZabVariant::Zk3023 => "zk-3023",
            ZabVariant::Zk4394 => "zk-4394",
            ZabVariant::Zk2845 => "zk-2845",
            ZabVariant::Zk2355 => "zk-2355",
            ZabVariant::V36To391 => "v3.6-3.9.1",
            ZabVariant::V392 => "v3.9.2",
        }
    }

    /// The flaws this version's code has.
    pub fn flaws(self) -> &'static [Flaw] {
        match self {
            ZabVariant::Fixed => &[],
            ZabVariant::Zk4643 => &[Flaw::Zk4643],
            ZabVariant::Zk4646 => &[Flaw::Zk4646],
            ZabVariant::Zk4712 => &[Flaw::Zk4712],
            ZabVariant::Zk3911 => &[Flaw::Zk3911],
            ZabVariant::Zk4685 => &[Flaw::Zk4685],
            ZabVariant::Zk3023 => &[Flaw::Zk3023],
            ZabVariant::Zk4394 => &[Flaw::Zk4394],
            ZabVariant::Zk2845 => &[Flaw::Zk2845],
            ZabVariant::Zk2355 => &[Flaw::Zk2355],
            ZabVariant::V36To391 => &[
                Flaw::Zk4643,
                Flaw::Zk4646,
                Flaw::Zk4685,
                Flaw::Zk3023,
                Flaw::Zk4394,
                Flaw::Zk4712,
            ],
            ZabVariant::V392 => &[Flaw::Zk3023, Flaw::Zk4394, Flaw::Zk4712],
        }
    }

    /// Whether this version's code has `flaw`.
    pub fn has(self, flaw: Flaw) -> bool {
        self.flaws().contains(&flaw)
    }
}

/// How a leader is chosen (see [`election`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Election {
    /// A connected quorum of LOOKING servers agrees at once on its best vote: small spaces.
    Oracle,
    /// Fast Leader Election's notification exchange, as ZooKeeper runs it.
    Fle,
}

impl Election {
    pub fn name(self) -> &'static str {
        match self {
            Election::Oracle => "oracle",
            Election::Fle => "fle",
        }
    }
}

/// When a leader's own write of its proposal happens, and with it the leader's own ACK
/// (`[model] leader_write`, docs/zab.md "The leader's own ACK").
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LeaderWrite {
    /// ZooKeeper's order: `Leader.propose` sends the PROPOSAL at once; the leader's
    /// SyncRequestProcessor writes it later, a step of its own, and only then counts the
    /// leader's ACK. Followers' ACKs alone may commit it first.
    #[default]
    Queued,
    /// An abstraction: the leader writes and acknowledges its proposal in the step that proposes
    /// it. Smaller spaces, but it hides what the queued write allows (a stale ACK completing a
    /// quorum, `scenarios/zab/stale-ack-after-trunc.toml`).
    Atomic,
}

impl LeaderWrite {
    pub const ALL: [LeaderWrite; 2] = [LeaderWrite::Queued, LeaderWrite::Atomic];

    pub fn name(self) -> &'static str {
        match self {
            LeaderWrite::Queued => "queued",
            LeaderWrite::Atomic => "atomic",
        }
    }
}

/// Everything that defines one ZAB world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZabConfig {
    pub servers: u8,
    /// Client writes injected in one execution.
    pub transactions: u8,
    /// The highest epoch a leader may propose (TLC models bound "rounds" the same way); it
    /// bounds how many elections one execution holds. 0: no bound; the space stays finite
    /// because every epoch in the state is renamed after each step ([`canonical`]).
    pub epochs: u8,
    pub variant: ZabVariant,
    pub election: Election,
    /// When the leader writes and acknowledges its own proposals.
    #[serde(default)]
    pub leader_write: LeaderWrite,
    /// Fault budgets for one execution.
    pub crashes: u8,
    pub partitions: u8,
    /// Spurious timeouts (`[faults] timeouts`): a follower or leader gives up on peers that are
    /// alive and reachable, as a slow disk, a GC pause or a late tick make ZooKeeper's
    /// initLimit/syncLimit expire. A budget per execution, never a fairness obligation (the
    /// published specs bound them the same way).
    #[serde(default)]
    pub timeouts: u8,
    /// A partition never heals (`[faults] permanent_partitions`): there is no `Heal` step, so the
    /// servers cut off stay cut off for the rest of the execution. For liveness: a split with no
    /// quorum on either side can never elect a leader.
    #[serde(default)]
    pub permanent_partitions: bool,
    /// The only split a partition may make (`[faults] partition_sides`), as its two sides; `None`:
    /// any split. Naming the split is how a scenario asks one question ("can the minority
    /// {S0, S1} commit?") without the search trying every other split too: with 5 servers there
    /// are 15, which is most of the state space.
    #[serde(default)]
    pub partition_sides: Option<[types::ServerSet; 2]>,
}

impl ZabConfig {
    /// `servers` servers running the fixed protocol, with no faults.
    pub fn new(servers: u8, transactions: u8) -> Self {
        ZabConfig {
            servers,
            transactions,
            epochs: 2,
            variant: ZabVariant::Fixed,
            election: Election::Oracle,
            leader_write: LeaderWrite::Queued,
            crashes: 0,
            partitions: 0,
            timeouts: 0,
            permanent_partitions: false,
            partition_sides: None,
        }
    }

    /// Check that the configuration describes a world this model supports.
    pub fn validate(&self) -> Result<(), String> {
        use types::{MAX_EPOCHS, MAX_SERVERS, MAX_ZAB_TRANSACTIONS};
        if self.servers == 0 || usize::from(self.servers) > MAX_SERVERS {
            return Err(format!(
                "model.servers: expected 1 to {MAX_SERVERS}, found {}",
                self.servers
            ));
        }
        if usize::from(self.transactions) > MAX_ZAB_TRANSACTIONS {
            return Err(format!(
                "model.transactions: expected 0 to {MAX_ZAB_TRANSACTIONS}, found {}",
                self.transactions
            ));
        }
        if usize::from(self.epochs) > MAX_EPOCHS {
            return Err(format!(
                "model.epochs: expected 0 (no bound) to {MAX_EPOCHS}, found {}",
                self.epochs
            ));
        }
        Self::check_epochs_with_election(self.epochs, self.election)?;
        match self.partition_sides {
            Some(sides) => Self::check_partition_sides(self.servers, sides),
            None => Ok(()),
        }
    }

    /// A named split puts every server on exactly one of two non-empty sides. Also asked by the
    /// scenario parser, which points at the line.
    pub fn check_partition_sides(servers: u8, sides: [types::ServerSet; 2]) -> Result<(), String> {
        let all = types::all_servers(servers);
        let [a, b] = sides;
        let problem = if a == 0 || b == 0 {
            "each side needs at least one server".to_string()
        } else if a & b != 0 {
            format!("{} on both sides", types::set_name(a & b))
        } else if (a | b) & !all != 0 {
            format!(
                "{} not in the ensemble of {servers} servers",
                types::set_name((a | b) & !all)
            )
        } else if a | b != all {
            format!(
                "{} on neither side; every server is on one",
                types::set_name(all & !(a | b))
            )
        } else {
            return Ok(());
        };
        Err(format!(
            "faults.partition_sides: expected two disjoint, non-empty groups that together hold \
             S0 to S{}; found {problem}",
            servers.saturating_sub(1)
        ))
    }

    /// The side of the named split that [`ZabState::cut_off`](state::ZabState::cut_off) names:
    /// the one without S0.
    pub fn named_cut_off(&self) -> Option<types::ServerSet> {
        self.partition_sides
            .map(|[a, b]| if a & types::bit(0) == 0 { a } else { b })
    }

    /// `epochs = 0` (no bound) only with the oracle election: FLE's rounds are bounded by
    /// `epochs`, and the epoch renaming does not rename them. Also asked by the scenario parser,
    /// which points at the line.
    pub fn check_epochs_with_election(epochs: u8, election: Election) -> Result<(), String> {
        if epochs == 0 && election == Election::Fle {
            return Err(format!(
                "model.epochs: 0 (no bound) needs election = \"oracle\"; with \"fle\" the \
                 election rounds are bounded by epochs: expected 1 to {}",
                types::MAX_EPOCHS
            ));
        }
        Ok(())
    }

    /// Whether a leader may propose `epoch` (always, when `epochs` is 0).
    pub fn epoch_allowed(&self, epoch: u8) -> bool {
        self.epochs == 0 || epoch <= self.epochs
    }

    /// Whether `set` is a quorum: `2 |set| > N`.
    pub fn is_quorum(&self, set: types::ServerSet) -> bool {
        2 * set.count_ones() > u32::from(self.servers)
    }
}
