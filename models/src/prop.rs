//! Every property name a model declares. These are the contract's stable identifiers: they appear
//! in scenario files (`[expect]`), JSON results and trace files, so models, tests and scenario
//! validation all go through these constants.

/// always: at most one client believes it holds the lock.
pub const MUTUAL_EXCLUSION: &str = "mutual_exclusion";
/// always: the fenced resource never accepts a write of an earlier lock grant after a write of a
/// later one (grants in the order of the lock nodes: a ghost, not the resource's own token check).
pub const FENCED_RESOURCE_SAFETY: &str = "fenced_resource_safety";
/// always: a state in which some client has not finished has at least one enabled protocol step
/// (a fault that could still happen does not count as progress).
pub const NO_DEADLOCK: &str = "no_deadlock";
/// always: no single znode deletion wakes more than one waiting client.
pub const NO_HERD: &str = "no_herd";
/// eventually: every client that starts to acquire eventually holds the lock, or abandons because
/// its session expired.
pub const EVERY_WAITER_ACQUIRES: &str = "every_waiter_acquires";
/// always: no lock node of a live session is unknown to its client (the reply to its create was
/// lost, so the client cannot delete it).
pub const NO_ORPHAN_NODES: &str = "no_orphan_nodes";

/// ZAB (docs/properties.md), always: at most one server establishes leadership per epoch, and no two
/// established leaders share a currentEpoch.
pub const LEADER_UNIQUENESS: &str = "leader_uniqueness";
/// ZAB, always: every delivered transaction was broadcast by some primary and logged by a quorum.
pub const INTEGRITY: &str = "integrity";
/// ZAB, always: if s delivers a and t delivers b, then s delivers b or t delivers a.
pub const AGREEMENT: &str = "agreement";
/// ZAB, always: if s delivers a before b, any server that delivers b delivers a before it.
pub const TOTAL_ORDER: &str = "total_order";
/// ZAB, always: if a primary broadcasts a before b, a server that delivers b delivers a before it.
pub const LOCAL_PRIMARY_ORDER: &str = "local_primary_order";
/// ZAB, always: a server that delivers a of epoch e and b of a later epoch delivers a first.
pub const GLOBAL_PRIMARY_ORDER: &str = "global_primary_order";
/// ZAB, always: a primary delivered, before broadcasting, everything of earlier epochs that any
/// server delivers.
pub const PRIMARY_INTEGRITY: &str = "primary_integrity";
/// ZAB, always: a quorum-committed transaction is never lost: every leader established in a later
/// epoch has it in its log, and no TRUNC removes it.
pub const COMMITTED_LOG_DURABILITY: &str = "committed_log_durability";
/// ZAB, always: a server's deliveries only grow: its delivered prefix is everything it ever
/// delivered, in the same order (the published specs' `CommittedLogMonotonicity`).
pub const COMMITTED_LOG_MONOTONICITY: &str = "committed_log_monotonicity";
/// ZAB implementation level, always: a follower in broadcast has a log that is a prefix of its
/// leader's (same epoch, both in broadcast).
pub const HISTORY_CONSISTENCY: &str = "history_consistency";
/// ZAB implementation level (docs/properties.md, ZTS `ackConsistent`), always: no leader waiting for a
/// follower's NEWLEADER ACK has received another ACK from it.
pub const ACK_CONSISTENT: &str = "ack_consistent";
/// ZAB implementation level (ZTS `stateConsistent`), always: no leader has read a follower's ACK
/// of UPTODATE while that follower had not yet applied the transactions of earlier epochs.
pub const STATE_CONSISTENT: &str = "state_consistent";
/// ZAB implementation level (ZTS `commitConsistent`), always: no follower in synchronization has
/// received a COMMIT with no proposal buffered for it.
pub const COMMIT_CONSISTENT: &str = "commit_consistent";
/// ZAB, always: while a partition lasts, no server on a side without a quorum has delivered a
/// transaction proposed after the partition began.
pub const MINORITY_COMMITS_NOTHING_NEW: &str = "minority_commits_nothing_new";
/// A lock over an ensemble, safety: every session open in an established leader's tree is in
/// its session tracker, so the leader can expire it (ZooKeeper's `SessionTrackerImpl` is built
/// from the database's session table, which must list every open session).
pub const SESSIONS_TRACKED: &str = "sessions_tracked";
/// ZAB, liveness: under weak fairness, some server eventually leads in BROADCAST with a quorum of
/// followers in BROADCAST (again after every fault); see `zab::liveness`.
pub const LEADER_EVENTUALLY_ELECTED: &str = "leader_eventually_elected";
/// ZAB, liveness: every proposal of a leader that stays in its leadership is eventually delivered
/// by a quorum; see `zab::liveness`.
pub const PROPOSALS_EVENTUALLY_COMMITTED: &str = "proposals_eventually_committed";

/// Every property name any model may declare, in the order reports list them.
pub const ALL: &[&str] = &[
    MUTUAL_EXCLUSION,
    FENCED_RESOURCE_SAFETY,
    NO_DEADLOCK,
    NO_HERD,
    EVERY_WAITER_ACQUIRES,
    NO_ORPHAN_NODES,
    LEADER_UNIQUENESS,
    INTEGRITY,
    AGREEMENT,
    TOTAL_ORDER,
    LOCAL_PRIMARY_ORDER,
    GLOBAL_PRIMARY_ORDER,
    PRIMARY_INTEGRITY,
    COMMITTED_LOG_DURABILITY,
    COMMITTED_LOG_MONOTONICITY,
    HISTORY_CONSISTENCY,
    ACK_CONSISTENT,
    STATE_CONSISTENT,
    COMMIT_CONSISTENT,
    MINORITY_COMMITS_NOTHING_NEW,
    SESSIONS_TRACKED,
    LEADER_EVENTUALLY_ELECTED,
    PROPOSALS_EVENTUALLY_COMMITTED,
];

/// Why a property's "holds" is worth reading. A property that no configuration of the model can
/// violate tells a user nothing when it holds, so each one names a mutant (a broken variant, or the
/// documented recipe under a fault) whose complete search violates it, or says why it holds by
/// construction. `lockscope list` prints this, and a test runs every named mutant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// The bundled scenario `scenario` (a path under `scenarios/`) violates the property in a
    /// complete search; `test` is the test that checks it (`file::function` under `tests/`).
    Mutant {
        scenario: &'static str,
        test: &'static str,
    },
    /// A test-only mutation of the model (a flag no scenario can set), described by `mutation`,
    /// violates the property in a complete search run by `test` (`module::function`). Used where
    /// the flaw that breaks a property is no released code's, so it gets no scenario.
    Mutation {
        mutation: &'static str,
        test: &'static str,
    },
    /// No configuration of the model can violate the property, for this reason.
    ByConstruction(&'static str),
}

/// The evidence for the lock properties (docs/properties.md; issue 18 §2).
pub const LOCK_EVIDENCE: &[(&str, Evidence)] = &[
    (
        MUTUAL_EXCLUSION,
        Evidence::Mutant {
            scenario: "lock/broken-skip-recheck.toml",
            test: "properties::every_lock_property_has_a_mutant_that_violates_it",
        },
    ),
    (
        FENCED_RESOURCE_SAFETY,
        Evidence::Mutant {
            scenario: "lock/broken-node-version-token.toml",
            test: "properties::every_lock_property_has_a_mutant_that_violates_it",
        },
    ),
    (
        NO_DEADLOCK,
        Evidence::Mutant {
            scenario: "lock/broken-lost-wakeup.toml",
            test: "properties::every_lock_property_has_a_mutant_that_violates_it",
        },
    ),
    (
        NO_HERD,
        Evidence::Mutant {
            scenario: "lock/broken-watch-lowest.toml",
            test: "properties::every_lock_property_has_a_mutant_that_violates_it",
        },
    ),
    (
        EVERY_WAITER_ACQUIRES,
        Evidence::Mutant {
            scenario: "lock/broken-unsynchronised-event-thread.toml",
            test: "properties::every_lock_property_has_a_mutant_that_violates_it",
        },
    ),
    (
        NO_ORPHAN_NODES,
        Evidence::Mutant {
            scenario: "lock/standard-orphan.toml",
            test: "properties::every_lock_property_has_a_mutant_that_violates_it",
        },
    ),
];

/// The test that runs every bundled scenario against its `[expect]`, and so shows that each ZAB
/// scenario named below violates what it expects violated.
const ZAB_SCENARIOS_TEST: &str = "scenarios (every bundled scenario's [expect])";

/// The evidence for the ZAB properties (docs/properties.md).
pub const ZAB_EVIDENCE: &[(&str, Evidence)] = &[
    (
        LEADER_UNIQUENESS,
        Evidence::Mutation {
            mutation: "followers that do not write acceptedEpoch when they acknowledge an epoch",
            test: "zab::tests::a_search_finds_two_leaders_of_one_epoch_when_followers_forget_their_promise",
        },
    ),
    (
        INTEGRITY,
        Evidence::Mutant {
            scenario: "zab/zk-4646.toml",
            test: ZAB_SCENARIOS_TEST,
        },
    ),
    (
        AGREEMENT,
        Evidence::Mutation {
            mutation: "a late follower is not sent the leader's outstanding proposals",
            test: "zab::tests::a_search_finds_a_proposal_delivered_without_its_predecessor_when_a_late_follower_misses_it",
        },
    ),
    (
        TOTAL_ORDER,
        Evidence::Mutation {
            mutation: "a late follower is not sent the leader's outstanding proposals",
            test: "zab::tests::a_search_finds_a_proposal_delivered_without_its_predecessor_when_a_late_follower_misses_it",
        },
    ),
    (
        LOCAL_PRIMARY_ORDER,
        Evidence::Mutation {
            mutation: "a late follower is not sent the leader's outstanding proposals",
            test: "zab::tests::a_search_finds_a_proposal_delivered_without_its_predecessor_when_a_late_follower_misses_it",
        },
    ),
    (
        GLOBAL_PRIMARY_ORDER,
        Evidence::Mutation {
            mutation: "a follower that writes a sync's transactions newest first",
            test: "zab::tests::a_search_finds_an_old_epoch_delivered_last_when_syncs_are_written_newest_first",
        },
    ),
    (
        PRIMARY_INTEGRITY,
        Evidence::Mutation {
            mutation: "zk-4643 with a third write, searched from the end of its bundled trace",
            test: "zab_properties::a_lost_commit_breaks_agreement_total_order_and_primary_integrity",
        },
    ),
    (
        COMMITTED_LOG_DURABILITY,
        Evidence::Mutant {
            scenario: "zab/zk-4643.toml",
            test: ZAB_SCENARIOS_TEST,
        },
    ),
    (
        COMMITTED_LOG_MONOTONICITY,
        Evidence::Mutant {
            scenario: "zab/zk-4643.toml",
            test: ZAB_SCENARIOS_TEST,
        },
    ),
    (
        HISTORY_CONSISTENCY,
        Evidence::Mutant {
            scenario: "zab/zk-4712.toml",
            test: ZAB_SCENARIOS_TEST,
        },
    ),
    (
        ACK_CONSISTENT,
        Evidence::Mutant {
            scenario: "zab/zk-4685.toml",
            test: ZAB_SCENARIOS_TEST,
        },
    ),
    (
        STATE_CONSISTENT,
        Evidence::Mutant {
            scenario: "zab/zk-3023.toml",
            test: ZAB_SCENARIOS_TEST,
        },
    ),
    (
        COMMIT_CONSISTENT,
        Evidence::Mutant {
            scenario: "zab/zk-4394.toml",
            test: ZAB_SCENARIOS_TEST,
        },
    ),
    (
        MINORITY_COMMITS_NOTHING_NEW,
        Evidence::Mutation {
            mutation: "a leader that commits on any two ACKs",
            test: "zab::tests::a_search_finds_the_two_ack_quorum_through_the_minority_check_and_integrity",
        },
    ),
    (
        LEADER_EVENTUALLY_ELECTED,
        Evidence::Mutant {
            scenario: "zab/liveness-election-race.toml",
            test: ZAB_SCENARIOS_TEST,
        },
    ),
    (
        PROPOSALS_EVENTUALLY_COMMITTED,
        Evidence::Mutant {
            scenario: "zab/v3.6-3.9.1.toml",
            test: ZAB_SCENARIOS_TEST,
        },
    ),
];

/// The evidence for the properties of a lock over an ensemble beyond the lock's and ZAB's
/// (docs/properties.md).
pub const ENSEMBLE_EVIDENCE: &[(&str, Evidence)] = &[(
    SESSIONS_TRACKED,
    Evidence::Mutant {
        scenario: "ensemble/zk-1367.toml",
        test: "scenarios::ensemble_zk_1367_pair",
    },
)];

/// The evidence for `property`, if it has been given any.
pub fn evidence(property: &str) -> Option<Evidence> {
    LOCK_EVIDENCE
        .iter()
        .chain(ZAB_EVIDENCE)
        .chain(ENSEMBLE_EVIDENCE)
        .find(|(name, _)| *name == property)
        .map(|&(_, evidence)| evidence)
}
