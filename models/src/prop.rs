//! Every property name a model declares. These are the contract's stable identifiers: they appear
//! in scenario files (`[expect]`), JSON results and trace files, so models, tests and scenario
//! validation all go through these constants.

/// always: at most one client believes it holds the lock.
pub const MUTUAL_EXCLUSION: &str = "mutual_exclusion";
/// always: the fenced resource never accepts a write whose token is lower than one it accepted.
pub const FENCED_RESOURCE_SAFETY: &str = "fenced_resource_safety";
/// always: a state in which some client has not finished has at least one enabled protocol step
/// (a fault that could still happen does not count as progress).
pub const NO_DEADLOCK: &str = "no_deadlock";
/// always: no single znode deletion wakes more than one waiting client.
pub const NO_HERD: &str = "no_herd";
/// eventually: every client that starts to acquire eventually holds the lock, or abandons because
/// its session expired.
pub const EVERY_WAITER_ACQUIRES: &str = "every_waiter_acquires";
/// always: no znode outlives the attempt that created it unnoticed (needs the fault-schedule work).
pub const NO_ORPHAN_NODES: &str = "no_orphan_nodes";

/// Every property name any model may declare, in the order reports list them.
pub const ALL: &[&str] = &[
    MUTUAL_EXCLUSION,
    FENCED_RESOURCE_SAFETY,
    NO_DEADLOCK,
    NO_HERD,
    EVERY_WAITER_ACQUIRES,
    NO_ORPHAN_NODES,
];
