//! The lock world as a [`stateright::Model`]: which steps are enabled, and what each one does.

use std::ops::ControlFlow;

use stateright::{Model, Property};

use super::action::{LockAction, Msg};
use super::client::{Client, Phase};
use super::state::{FaultsUsed, Links, LockState};
use super::{curator, fenced, herd, naive, standard, Resource};
use crate::actor::{ActorId, Group};
use crate::ensemble::{Ensemble, EnsembleConfig, EnsembleStep};
use crate::zab::types::{MAX_SERVERS, MAX_TXNS};
use crate::zookeeper::{
    ClientId, Outbox, Reply, Request, Served, Server, ZkConfig, ZkService, MAX_CLIENTS, MAX_SEQ,
};
use crate::{prop, StepInto};

/// Which lock recipe the clients run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recipe {
    Naive,
    Herd,
    Standard,
    Fenced,
    /// Apache Curator's `InterProcessMutex`: the standard recipe with protection mode.
    Curator,
}

impl Recipe {
    pub const ALL: [Recipe; 5] = [
        Recipe::Naive,
        Recipe::Herd,
        Recipe::Standard,
        Recipe::Fenced,
        Recipe::Curator,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Recipe::Naive => "naive",
            Recipe::Herd => "herd",
            Recipe::Standard => "standard",
            Recipe::Fenced => "fenced",
            Recipe::Curator => "curator",
        }
    }

    fn uses_sequential_nodes(self) -> bool {
        !matches!(self, Recipe::Naive)
    }
}

/// Which version of the recipe clients run. Each flawed variant is named after the step it gets
/// wrong, so the test that exercises it says which bug the checker proves it can find.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// The recipe as documented.
    Fixed,
    /// Takes a watch event as "I hold it" without listing the children again.
    SkipRecheck,
    /// Watches the lowest child instead of its predecessor: still safe, but wakes every waiter.
    WatchLowest,
    /// When `exists` says the predecessor is already gone, waits anyway: a lost wakeup.
    IgnoreMissingPredecessor,
    /// The resource accepts every write, whatever its token: fencing without the check.
    UncheckedResource,
    /// The token is the lock node's data version, "the znode version number" that Kleppmann's
    /// fencing article offers next to the zxid. Every lock node of this recipe is created afresh
    /// at version 0, so every grant carries the same token and the resource cannot tell an older
    /// holder's write from a newer one's: a token that does not increase across grants.
    NodeVersionToken,
    /// Not the recipe but the client library under it: watchers run on an event thread with
    /// nothing like Curator's monitor around "the `exists` reply says the predecessor exists,
    /// now wait". The reply and the notification arrive in order on the connection, but the
    /// event thread may run the watcher (waking nobody) before the caller's thread, which read
    /// the reply, starts waiting: a lost wakeup (CURATOR-527 reports it against Curator, whose
    /// monitor rules it out). In the model the client may take a watch event lying right behind
    /// a reply before that reply ([`LockAction::EventThreadFirst`]).
    UnsynchronisedEventThread,
    /// Curator's `InterProcessMutex` as it ships, without the connection-state listener that
    /// Curator's documentation asks a lock user to add: the mutex never reads the connection
    /// state, so a holder told `Disconnected` (SUSPENDED) keeps acting as the holder. Only an
    /// ensemble sends connection events.
    NoConnectionListener,
    /// Curator's `InterProcessMutex` with a `sync()` before the protection lookup, a change
    /// Curator does not ship: the lookup after a `ConnectionLoss` on the create reads the
    /// server the client reconnected to, which may not have applied the create yet; after a
    /// sync it has applied every write the leader took before the sync.
    SyncBeforeLookup,
}

impl Variant {
    pub const ALL: [Variant; 9] = [
        Variant::Fixed,
        Variant::SkipRecheck,
        Variant::WatchLowest,
        Variant::IgnoreMissingPredecessor,
        Variant::UncheckedResource,
        Variant::NodeVersionToken,
        Variant::UnsynchronisedEventThread,
        Variant::NoConnectionListener,
        Variant::SyncBeforeLookup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Fixed => "fixed",
            Variant::SkipRecheck => "skip-recheck",
            Variant::WatchLowest => "watch-lowest",
            Variant::IgnoreMissingPredecessor => "ignore-missing-predecessor",
            Variant::UncheckedResource => "unchecked-resource",
            Variant::NodeVersionToken => "node-version-token",
            Variant::UnsynchronisedEventThread => "unsynchronised-event-thread",
            Variant::NoConnectionListener => "no-connection-listener",
            Variant::SyncBeforeLookup => "sync-before-lookup",
        }
    }

    /// The recipes whose code has the step this variant breaks.
    pub fn recipes(self) -> &'static [Recipe] {
        match self {
            Variant::Fixed => &Recipe::ALL,
            Variant::SkipRecheck => &[Recipe::Herd, Recipe::Standard, Recipe::Fenced],
            Variant::WatchLowest
            | Variant::IgnoreMissingPredecessor
            | Variant::UnsynchronisedEventThread => &[Recipe::Standard, Recipe::Fenced],
            Variant::UncheckedResource | Variant::NodeVersionToken => &[Recipe::Fenced],
            Variant::NoConnectionListener | Variant::SyncBeforeLookup => &[Recipe::Curator],
        }
    }
}

/// Everything that defines one lock world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LockConfig {
    pub recipe: Recipe,
    pub variant: Variant,
    pub clients: u8,
    /// How many times each client acquires and releases (at least 1).
    pub acquisitions: u8,
    /// A client whose session expired opens a new one and starts over, instead of abandoning.
    pub retry_after_expiry: bool,
    /// Fault budgets for one execution.
    pub session_expiries: u8,
    pub client_pauses: u8,
    /// Connection losses (the `message_loss` budget: a lost TCP segment breaks the connection).
    /// There is no duplication or reordering budget: a session's requests, replies and watch
    /// events travel over one TCP connection (docs/zookeeper.md).
    pub message_loss: u8,
    /// Partition episodes: each heals before the clients' read timeout (a delay) or outlasts it
    /// (the cut-off clients lose their connections), and heals eventually.
    pub partitions: u8,
    /// Server crashes (each followed, eventually, by a restart).
    pub crashes: u8,
    /// Client crashes (an ensemble's only): each client dies at most once, for good.
    pub client_crashes: u8,
}

impl LockConfig {
    /// `clients` clients running the documented `recipe` once each, with no faults.
    pub fn new(recipe: Recipe, clients: u8) -> Self {
        LockConfig {
            recipe,
            variant: Variant::Fixed,
            clients,
            acquisitions: 1,
            retry_after_expiry: false,
            session_expiries: 0,
            client_pauses: 0,
            message_loss: 0,
            partitions: 0,
            crashes: 0,
            client_crashes: 0,
        }
    }

    /// The most creates one execution can make: sequence numbers are never reused, so each takes
    /// one. A retrying client creates once more after each expiry.
    pub fn sequence_numbers_needed(&self) -> usize {
        // A retried create after a connection loss, a crash or a partition that outlasts the
        // read timeout takes one more.
        let lost = usize::from(self.message_loss)
            + (usize::from(self.crashes) + usize::from(self.partitions))
                * usize::from(self.clients);
        let retries = lost
            + if self.retry_after_expiry {
                usize::from(self.session_expiries)
            } else {
                0
            };
        usize::from(self.clients) * usize::from(self.acquisitions) + retries
    }

    /// The most transactions one execution proposes on an ensemble, but the writes its clients
    /// send again after its servers' faults (`EnsembleConfig::transactions_needed` adds those):
    /// per client a createSession unless `sessions_at_start`; per acquisition a create and a
    /// delete (the last delete carries the closeSession); the refused creates
    /// ([`LockConfig::refused_creates`]); a closeSession per expiry, and with
    /// `retry_after_expiry` a createSession and a create more; and per broken connection of a
    /// client's own (`message_loss`) one write sent again. A write the leader refuses is an error
    /// transaction in place of the one it would have been. The scenario reader refuses a world
    /// with this count, the model with the whole one.
    pub fn transactions_needed(&self, sessions_at_start: bool) -> usize {
        let (clients, acquisitions) = (usize::from(self.clients), usize::from(self.acquisitions));
        let sessions = if sessions_at_start { 0 } else { clients };
        let expiries = usize::from(self.session_expiries);
        let retries = if self.retry_after_expiry {
            2 * expiries
        } else {
            0
        };
        sessions
            + 2 * clients * acquisitions
            + self.refused_creates()
            + expiries
            + retries
            + usize::from(self.message_loss)
    }

    /// The most creates of one execution that are refused, each an error transaction on an
    /// ensemble: the naive recipe's create fails with `NodeExists` at most once per other
    /// client's acquisition (the client then waits for that holder's delete); the sequential
    /// recipes' creates always succeed.
    pub fn refused_creates(&self) -> usize {
        let (clients, acquisitions) = (usize::from(self.clients), usize::from(self.acquisitions));
        match self.recipe {
            Recipe::Naive => clients * clients.saturating_sub(1) * acquisitions,
            Recipe::Herd | Recipe::Standard | Recipe::Fenced | Recipe::Curator => 0,
        }
    }
}

/// A lock world ready to be checked, its clients served by `Z` (one server unless said).
#[derive(Clone, Debug)]
pub struct LockModel<Z: ZkService = Server> {
    pub config: LockConfig,
    /// The service's options, fixed per world.
    pub(super) zk: Z::Config,
    /// Rename sequence numbers and zxids to their ranks after every step (see [`super::canonical`]).
    canonical_values: bool,
}

impl LockModel {
    /// Check that the configuration describes a finite world this model supports.
    pub fn new(config: LockConfig) -> Result<Self, String> {
        if config.clients == 0 || usize::from(config.clients) > MAX_CLIENTS {
            return Err(format!(
                "model.clients: expected 1 to {MAX_CLIENTS}, found {}",
                config.clients
            ));
        }
        if config.client_crashes > config.clients {
            return Err(format!(
                "faults.client_crashes: expected 0 to {} (each client dies at most once), found {}",
                config.clients, config.client_crashes
            ));
        }
        if !config.variant.recipes().contains(&config.recipe) {
            let recipes: Vec<&str> = config.variant.recipes().iter().map(|r| r.name()).collect();
            return Err(format!(
                "model.variant: {} applies to recipes {}, not to {}",
                config.variant.name(),
                recipes.join(", "),
                config.recipe.name()
            ));
        }
        let creates = config.sequence_numbers_needed();
        if creates > MAX_SEQ {
            return Err(format!(
                "model: clients × acquisitions (+ retries) needs {creates} sequence numbers; at most {MAX_SEQ} are supported"
            ));
        }
        let zk = ZkConfig {
            record_zxids: config.recipe == Recipe::Fenced,
            protected_names: config.recipe == Recipe::Curator,
        };
        let canonical_values = config.acquisitions == 0;
        Ok(LockModel {
            config,
            zk,
            canonical_values,
        })
    }
}

impl LockModel<Ensemble> {
    /// A lock world whose clients are served by an ensemble of servers running ZAB (`servers >
    /// 1`). The world's checks are the single server's, plus what this ensemble models so far:
    /// finite acquisitions, and logs long enough for every transaction. The world's
    /// `message_loss` budget is the ensemble's `connection_losses`: a client's own connection
    /// breaking while its server serves.
    pub fn on_ensemble(config: LockConfig, ensemble: EnsembleConfig) -> Result<Self, String> {
        let single = LockModel::new(config)?;
        let ensemble = EnsembleConfig {
            connection_losses: config.message_loss,
            ..ensemble
        };
        let servers = ensemble.zab.servers;
        if !(3..=MAX_SERVERS as u8).contains(&servers) {
            return Err(format!(
                "model.servers: expected 1 (one server) or 3 to {MAX_SERVERS} (an ensemble), found {servers}"
            ));
        }
        if let Some(c) =
            (0..usize::from(config.clients)).find(|&c| ensemble.connections[c] >= servers)
        {
            return Err(format!(
                "model.connections: C{c}'s server S{} is not one of S0 to S{}",
                ensemble.connections[c],
                servers - 1
            ));
        }
        if config.acquisitions == 0 {
            return Err("model.acquisitions: an ensemble needs a finite number (1 or more): its logs bound the transactions".into());
        }
        let reopens_sessions = config.retry_after_expiry && config.session_expiries > 0;
        if reopens_sessions {
            if let Some(flaw) = ensemble.flaw {
                return Err(format!("model.retry_after_expiry: not with zookeeper = \"{}\": the model names a session by its client, and this code lets a client's expired session live on beside its next one (a write taken after the close, or a session no tracker expires), which the model cannot tell apart", flaw.name()));
            }
            if ensemble.late_forwards {
                return Err("faults.late_forwards: not with model.retry_after_expiry: the model names a session by its client, and a late write of a client's expired session would be taken for its next session's".into());
            }
        }
        let ensemble = EnsembleConfig {
            reopens_sessions,
            ..ensemble
        };
        let needed = ensemble.transactions_needed(&config);
        let tasks = super::liveness::CLIENT_TASK_KINDS * usize::from(config.clients)
            + ensemble.tasks(config.clients);
        if tasks > 64 {
            return Err(format!(
                "model: {} clients on {servers} servers with failover have {tasks} fairness tasks; at most 64 are supported (fewer clients or servers)",
                config.clients
            ));
        }
        if needed > MAX_TXNS {
            return Err(format!(
                "model: this world needs up to {needed} transactions; an ensemble's logs hold at most {MAX_TXNS}"
            ));
        }
        Ok(LockModel {
            config,
            zk: EnsembleConfig {
                zk: single.zk,
                ..ensemble
            },
            canonical_values: false,
        })
    }
}

impl<Z: ZkService> LockModel<Z> {
    /// Lock node names carry a protection id (the Curator recipe).
    pub(super) fn protected_names(&self) -> bool {
        self.config.recipe == Recipe::Curator
    }

    pub(super) fn client_count(&self) -> ClientId {
        self.config.clients
    }

    /// The service's options (an ensemble's servers and connections): conform builds the real
    /// service from them.
    pub fn service_config(&self) -> &Z::Config {
        &self.zk
    }

    /// Rename sequence numbers and zxids to their ranks after every step even when acquisitions
    /// are finite (where it is not needed): tests use it to show the renaming merges no states a
    /// property can tell apart.
    pub fn with_canonical_values(mut self, canonical: bool) -> Self {
        self.canonical_values = canonical || self.config.acquisitions == 0;
        self
    }

    /// Whether a step renames sequence numbers and zxids to their ranks afterwards (then no step
    /// is a client's alone: the renaming rewrites every client's values).
    pub(super) fn renames_values(&self) -> bool {
        self.canonical_values
    }

    /// Whether the release of `client`'s current acquisition is its last (and closes its
    /// session). With `acquisitions = 0` clients acquire forever and no release is the last.
    fn is_last_round(&self, client: &Client) -> bool {
        self.config.acquisitions != 0 && client.round + 1 >= self.config.acquisitions
    }

    fn create_request(&self) -> Request {
        match self.config.recipe {
            Recipe::Naive => naive::create_request(),
            Recipe::Herd | Recipe::Standard | Recipe::Fenced => standard::create_request(),
            Recipe::Curator => curator::create_request(),
        }
    }

    fn release_request(&self, client: &Client) -> Request {
        let close_session = self.is_last_round(client);
        match self.config.recipe {
            Recipe::Naive => naive::release_request(close_session),
            Recipe::Herd | Recipe::Standard | Recipe::Fenced | Recipe::Curator => {
                standard::release_request(client, close_session)
            }
        }
    }

    /// Whether the client application acts on the library's connection states: the Curator
    /// recipe's listener does (SUSPENDED, RECONNECTED); the other recipes, and Curator's mutex
    /// without the listener, do not.
    fn listens_to_connection_state(&self) -> bool {
        self.config.recipe == Recipe::Curator
            && self.config.variant != Variant::NoConnectionListener
    }

    /// A client consumes a reply or notification from the server and reacts. Session-level
    /// replies are handled the same for every recipe; the rest is the recipe's step list.
    fn on_reply(&self, client: &mut Client, reply: Reply) -> Option<Request> {
        match reply {
            // A SessionMoved answer makes the server close the connection (ZOOKEEPER-710's
            // fix), which the library reports as a lost connection. An ensemble sends it on no
            // live connection (a session moves only by reconnecting elsewhere), so it is here
            // for completeness.
            Reply::ConnectionLoss | Reply::SessionMoved => self.on_connection_loss(client),
            // The library's news of a broken connection and of a reconnection with the session
            // alive (Curator's SUSPENDED and RECONNECTED): a Curator holder stops acting as the
            // holder, then verifies its node and holds again (`curator::on_suspended`,
            // `curator::on_reconnected`); the other recipes ignore both, as hand-written clients
            // do. The library reconnects by itself.
            // The mutex's own watcher hears connection events too, and wakes a waiter.
            Reply::Disconnected | Reply::Reconnected
                if self.config.recipe == Recipe::Curator && client.phase == Phase::WaitWatch =>
            {
                curator::woken_by_connection_event(client)
            }
            Reply::Disconnected if self.listens_to_connection_state() => {
                curator::on_suspended(client);
                None
            }
            Reply::Reconnected if self.listens_to_connection_state() => {
                curator::on_reconnected(client)
            }
            Reply::Disconnected | Reply::Reconnected => None,
            Reply::SessionExpired => {
                client.forget_node();
                let released = client.phase == Phase::WaitDeleted;
                if self.config.retry_after_expiry && released && self.is_last_round(client) {
                    // Its release was under way and the expiry deleted the node anyway: done.
                    client.phase = Phase::Done;
                    None
                } else if self.config.retry_after_expiry {
                    // A round whose release was under way is over; the next one needs a session.
                    if released && self.config.acquisitions != 0 {
                        client.round += 1;
                    }
                    client.phase = Phase::WaitSession;
                    Some(Request::CreateSession)
                } else {
                    client.phase = Phase::Abandoned;
                    None
                }
            }
            Reply::SessionCreated => {
                assert_eq!(client.phase, Phase::WaitSession);
                client.phase = Phase::WaitCreated;
                Some(self.create_request())
            }
            // After a connection loss the retried delete may find the node already gone.
            Reply::Deleted | Reply::NoNode if client.phase == Phase::WaitDeleted => {
                client.forget_node();
                if self.is_last_round(client) {
                    client.phase = Phase::Done;
                } else {
                    // Acquiring forever keeps no count: it would make the space infinite.
                    if self.config.acquisitions != 0 {
                        client.round += 1;
                    }
                    client.phase = Phase::Init;
                }
                None
            }
            _ => match self.config.recipe {
                Recipe::Naive => naive::on_reply(client, reply),
                Recipe::Herd => herd::on_reply(client, reply, self.config.variant),
                Recipe::Standard | Recipe::Fenced => {
                    standard::on_reply(client, reply, self.config.variant)
                }
                Recipe::Curator => curator::on_reply(client, reply),
            },
        }
    }

    /// The client library reported `ConnectionLoss` for the outstanding request: the recipe as
    /// the ZooKeeper documentation gives it (without Curator's protection mode) retries it, not
    /// knowing whether it was applied; Curator looks for its node first. A client that was only
    /// waiting keeps waiting: its session, and so its watches, survived, and the library
    /// re-registers them on reconnect.
    fn on_connection_loss(&self, client: &mut Client) -> Option<Request> {
        match client.phase {
            Phase::WaitCreated
            | Phase::WaitSync
            | Phase::WaitLookup
            | Phase::WaitChildren
            | Phase::WaitData
                if self.config.recipe == Recipe::Curator =>
            {
                let sync_first = self.config.variant == Variant::SyncBeforeLookup;
                curator::on_connection_loss(client, sync_first)
            }
            Phase::WaitCreated => Some(self.create_request()),
            Phase::WaitChildren | Phase::WaitStat => match self.config.recipe {
                // Naive: ask again whether /lock exists.
                Recipe::Naive => Some(Request::Exists {
                    path: crate::zookeeper::Path::Lock,
                    watch: true,
                }),
                // Sequential recipes: list again (step 2), which also re-derives the predecessor.
                Recipe::Herd => {
                    client.phase = Phase::WaitChildren;
                    Some(Request::GetChildren {
                        path: crate::zookeeper::Path::Lock,
                        watch: true,
                    })
                }
                Recipe::Standard | Recipe::Fenced | Recipe::Curator => {
                    client.phase = Phase::WaitChildren;
                    Some(Request::GetChildren {
                        path: crate::zookeeper::Path::Lock,
                        watch: false,
                    })
                }
            },
            Phase::WaitDeleted => Some(self.release_request(client)),
            Phase::WaitWatch | Phase::InCs | Phase::WaitWrite | Phase::Suspended => None,
            Phase::Init
            | Phase::WaitSession
            | Phase::WaitSync
            | Phase::WaitLookup
            | Phase::WaitData
            | Phase::Done
            | Phase::Abandoned
            | Phase::Crashed => unexpected(client, Reply::ConnectionLoss),
        }
    }

    /// A client in `Init` starts an acquisition; returns its create. The client's reactions
    /// (this, [`LockModel::client_reads`], [`LockModel::client_releases`],
    /// [`LockModel::client_writes`], [`LockModel::client_write_answered`]) are public so that
    /// `lockscope conform` runs the very same recipe against a real ZooKeeper server.
    pub fn client_starts(&self, client: &mut Client) -> Request {
        assert_eq!(client.phase, Phase::Init);
        client.phase = Phase::WaitCreated;
        self.create_request()
    }

    /// A client in `Init` whose session is not open yet (an ensemble whose clients open their
    /// own) connects first: its library sends the connect request, a createSession, and the
    /// recipe starts when the answer comes (`Reply::SessionCreated`).
    pub fn client_connects(&self, client: &mut Client) -> Request {
        assert_eq!(client.phase, Phase::Init);
        client.phase = Phase::WaitSession;
        Request::CreateSession
    }

    /// A holder leaves the critical section; returns the delete of its lock node.
    pub fn client_releases(&self, client: &mut Client) -> Request {
        assert_eq!(client.phase, Phase::InCs);
        client.phase = Phase::WaitDeleted;
        self.release_request(client)
    }

    /// A client reads a reply or notification; returns the request it sends next, if any.
    pub fn client_reads(&self, client: &mut Client, reply: Reply) -> Option<Request> {
        self.on_reply(client, reply)
    }

    /// A fenced holder writes to the resource; returns the token it sends.
    pub fn client_writes(&self, client: &mut Client) -> crate::zookeeper::Zxid {
        fenced::use_resource(client, self.config.variant)
    }

    /// A fenced holder reads the resource's answer; returns the delete of its lock node.
    pub fn client_write_answered(&self, client: &mut Client) -> Request {
        let close_session = self.is_last_round(client);
        fenced::on_write_result(client, close_session)
    }

    /// The client's server takes the head request of its channel.
    fn serve(&self, state: &mut LockState<Z>, client: ClientId, request: Request) {
        let mut out = Outbox::default();
        if state.zk.take_request(&self.zk, client, request, &mut out) == Served::Applied {
            self.post(state, out);
        }
    }

    /// Queue the server's replies and notifications, and note a herd wakeup. A client whose
    /// connection the step broke reads `ConnectionLoss` for its outstanding request, if it has
    /// one, and then the library's `Disconnected`; what was in flight to its server is lost.
    fn post(&self, state: &mut LockState<Z>, out: Outbox) {
        if out.woken_by_one_deletion > 1 {
            state.herd_seen = true;
        }
        for c in (0..self.client_count()).filter(|c| out.lost_connections & 1 << c != 0) {
            let phase = state.clients[usize::from(c)].phase;
            if phase == Phase::WaitSession {
                self.redo_handshake(state, c);
                continue;
            }
            if phase.awaits_reply() {
                self.lose_connection(state, c);
            } else {
                state.links[usize::from(c)].to_server.clear();
            }
            if !phase.is_finished() {
                state.links[usize::from(c)].send_reply(Reply::Disconnected);
            }
        }
        // A crashed client's connection is closed: nothing reaches it.
        for (client, reply) in out.messages {
            if state.clients[usize::from(client)].phase != Phase::Crashed {
                state.links[usize::from(client)].send_reply(reply);
            }
        }
    }

    /// A client whose connection broke before it read the answer to its createSession: its
    /// library has no session to resume, so it sends a new connect request once it connects to a
    /// server again (ZooKeeper's `ClientCnxn` connects with session id 0), and the recipe sees
    /// nothing (no `Disconnected`: it never was connected). What was in flight is lost.
    fn redo_handshake(&self, state: &mut LockState<Z>, c: ClientId) {
        let links = &mut state.links[usize::from(c)];
        links.to_server.clear();
        links.from_server.clear();
        links.send_request(Request::CreateSession);
    }

    fn client_steps(
        &self,
        state: &LockState<Z>,
        c: ClientId,
        each: &mut impl FnMut(LockAction) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let client = &state.clients[usize::from(c)];
        let links = &state.links[usize::from(c)];
        if client.paused {
            return ControlFlow::Continue(());
        }
        let id = ActorId::Client(c);
        let server = state.zk.server_of(c);
        match client.phase {
            Phase::Init => each(LockAction::StartAcquire { client: id })?,
            Phase::InCs if self.config.recipe == Recipe::Fenced => {
                each(LockAction::UseResource { client: id })?
            }
            Phase::InCs => each(LockAction::Release { client: id })?,
            _ => {}
        }
        // `ConnectionLoss` comes from the client library itself, so a partition does not hold
        // it back; what the server sent does wait for the heal.
        let readable = |reply: Reply| reply == Reply::ConnectionLoss || state.connected(server, id);
        // The library's news of its connection reaches the watcher whatever the recipe waits for
        // (a client that has not started, a fenced holder waiting on the resource).
        let hears = |reply: Reply| {
            client.phase.reads_zookeeper()
                || (client.phase.hears_connection_state()
                    && matches!(reply, Reply::Disconnected | Reply::Reconnected))
        };
        if let Some(&reply) = links
            .from_server
            .first()
            .filter(|&&r| hears(r) && readable(r))
        {
            each(LockAction::Deliver {
                from: server,
                to: id,
                msg: Msg::Reply(reply),
            })?;
        }
        if client.phase.reads_zookeeper()
            && self.config.variant == Variant::UnsynchronisedEventThread
            && state.connected(server, id)
        {
            if let Some(event) = event_behind_reply(links) {
                each(LockAction::EventThreadFirst {
                    from: server,
                    to: id,
                    msg: Msg::Reply(event),
                })?;
            }
        }
        if let Some(accepted) = links.from_resource {
            if state.connected(ActorId::Resource, id) {
                each(LockAction::Deliver {
                    from: ActorId::Resource,
                    to: id,
                    msg: Msg::WriteResult { accepted },
                })?;
            }
        }
        ControlFlow::Continue(())
    }

    fn client_index(&self, actor: ActorId) -> usize {
        match actor {
            ActorId::Client(c) if c < self.client_count() => usize::from(c),
            other => panic!("{other} is not a client of this world"),
        }
    }

    /// `to` consumes `msg`: the head of its channel from `from` or, when `event_first`, the watch
    /// event right behind the head (see [`Variant::UnsynchronisedEventThread`]).
    fn deliver(
        &self,
        state: &mut LockState<Z>,
        from: ActorId,
        to: ActorId,
        msg: Msg,
        event_first: bool,
    ) {
        match (from, to, msg) {
            (ActorId::Client(c), to, Msg::Request(request)) if to == state.zk.server_of(c) => {
                let head = state.links[usize::from(c)].to_server.remove(0);
                assert_eq!(head, request, "requests are delivered in order");
                self.serve(state, c, request);
            }
            (from, ActorId::Client(c), Msg::Reply(reply)) if from == state.zk.server_of(c) => {
                let i = usize::from(c);
                let links = &mut state.links[i];
                let at = usize::from(event_first);
                assert_eq!(links.from_server.get(at), Some(&reply), "delivery order");
                links.from_server.remove(at);
                if reply == Reply::SessionExpired {
                    assert!(
                        links.from_server.is_empty(),
                        "nothing is sent to an expired session after SessionExpired"
                    );
                }
                state.zk.client_read(c, reply);
                let request = self.client_reads(&mut state.clients[i], reply);
                if reply == Reply::SessionExpired && request == Some(Request::CreateSession) {
                    state.zk.client_reopens(c);
                }
                if let Some(request) = request {
                    state.links[i].send_request(request);
                }
            }
            (ActorId::Client(c), ActorId::Resource, Msg::Write { token }) => {
                let i = usize::from(c);
                assert_eq!(state.links[i].to_resource.take(), Some(token));
                let checks_tokens = self.config.variant != super::Variant::UncheckedResource;
                let grant = state.clients[i].seq.expect("a writer holds its lock node");
                let accepted = state.resource.on_write(token, grant, checks_tokens);
                // A write already on its way reaches the resource after its writer died (an
                // ensemble's `client_crashes`); the answer finds nobody.
                if state.clients[i].phase != Phase::Crashed {
                    state.links[i].from_resource = Some(accepted);
                }
            }
            (ActorId::Resource, ActorId::Client(c), Msg::WriteResult { accepted }) => {
                let i = usize::from(c);
                assert_eq!(state.links[i].from_resource.take(), Some(accepted));
                let request = self.client_write_answered(&mut state.clients[i]);
                state.links[i].send_request(request);
            }
            other => panic!("no channel carries {other:?}"),
        }
    }
}

/// The watch event an unsynchronised event thread may handle before the caller's thread reads the
/// reply in front of it: the second message on the channel, when it is a watch event and the first
/// is the answer to the caller's request.
fn event_behind_reply(links: &Links) -> Option<Reply> {
    match links.from_server.get(..2) {
        Some(&[head, event @ Reply::Event { .. }]) if head.answers_request() => Some(event),
        _ => None,
    }
}

/// A reply no step of the recipe expects in this phase: the model itself is wrong.
pub(super) fn unexpected(client: &Client, reply: Reply) -> ! {
    panic!("a client in {:?} cannot handle {reply:?}", client.phase)
}

impl<Z: ZkService> Model for LockModel<Z> {
    type State = LockState<Z>;
    type Action = LockAction;

    fn init_states(&self) -> Vec<LockState<Z>> {
        let clients = usize::from(self.client_count());
        vec![LockState {
            clients: (0..clients).map(|_| Client::new()).collect(),
            zk: Z::new(
                &self.zk,
                clients,
                self.config.recipe.uses_sequential_nodes(),
            ),
            resource: Resource::default(),
            links: (0..clients).map(|_| Links::default()).collect(),
            faults: FaultsUsed::default(),
            cut: Group::default(),
            cut_past_read_timeout: false,
            server_down: false,
            herd_seen: false,
        }]
    }

    /// Enabled steps in a fixed order: each client's own steps, then the server's and the
    /// resource's deliveries, then faults. The order decides which of several shortest
    /// counterexamples a breadth-first search reports, so it is part of the determinism contract.
    fn actions(&self, state: &LockState<Z>, actions: &mut Vec<LockAction>) {
        let _ = self.protocol_steps(state, &mut |action| {
            actions.push(action);
            ControlFlow::Continue(())
        });
        self.all_fault_actions(state, actions);
    }

    fn next_state(&self, last: &LockState<Z>, action: LockAction) -> Option<LockState<Z>> {
        let mut next = last.clone();
        self.take(&mut next, action);
        Some(next)
    }

    fn format_action(&self, action: &LockAction) -> String {
        action.to_string()
    }

    fn format_step(&self, last: &LockState<Z>, action: LockAction) -> Option<String> {
        use crate::Explain;
        self.next_state(last, action)
            .map(|next| self.describe_state(&next))
    }

    /// The Explorer draws this above each state: the world state in words, not a debug dump.
    fn as_svg(&self, path: stateright::Path<LockState<Z>, LockAction>) -> Option<String> {
        use crate::Explain;
        Some(crate::timeline::state_svg(
            &self.describe_state(path.last_state()),
        ))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut properties = vec![Property::always(
            prop::MUTUAL_EXCLUSION,
            |_, s: &LockState<Z>| s.holders() <= 1,
        )];
        if self.config.recipe == Recipe::Fenced {
            properties.push(Property::always(
                prop::FENCED_RESOURCE_SAFETY,
                |_, s: &LockState<Z>| !s.resource.accepted_earlier_grant,
            ));
        }
        properties.push(Property::always(
            prop::NO_DEADLOCK,
            |model: &LockModel<Z>, s: &LockState<Z>| {
                s.all_finished() || model.has_step(s) || s.zk.stopped_by_bound(&model.zk).is_some()
            },
        ));
        properties.push(Property::always(prop::NO_HERD, |_, s: &LockState<Z>| {
            !s.herd_seen
        }));
        properties.push(Property::always(
            prop::NO_ORPHAN_NODES,
            |model: &LockModel<Z>, s: &LockState<Z>| s.orphan_nodes(model.protected_names()) == 0,
        ));
        let service: [StateCheck<Z>; SERVICE_PROPERTIES] = [
            service_holds::<Z, 0>,
            service_holds::<Z, 1>,
            service_holds::<Z, 2>,
            service_holds::<Z, 3>,
            service_holds::<Z, 4>,
            service_holds::<Z, 5>,
            service_holds::<Z, 6>,
            service_holds::<Z, 7>,
            service_holds::<Z, 8>,
            service_holds::<Z, 9>,
            service_holds::<Z, 10>,
            service_holds::<Z, 11>,
            service_holds::<Z, 12>,
            service_holds::<Z, 13>,
            service_holds::<Z, 14>,
            service_holds::<Z, 15>,
        ];
        assert!(Z::PROPERTIES.len() <= SERVICE_PROPERTIES);
        for (&(name, _), holds) in Z::PROPERTIES.iter().zip(service) {
            properties.push(Property::always(name, holds));
        }
        properties
    }
}

/// A safety property's condition on a lock world's state.
type StateCheck<Z> = fn(&LockModel<Z>, &LockState<Z>) -> bool;

/// The most safety properties a service may add to the lock world's.
const SERVICE_PROPERTIES: usize = 16;

/// Whether the service's property number `I` holds in `state` (a property is a plain function,
/// so each of the service's is reached through its own instance of this one).
fn service_holds<Z: ZkService, const I: usize>(model: &LockModel<Z>, state: &LockState<Z>) -> bool {
    (Z::PROPERTIES[I].1)(&model.zk, &state.zk)
}

/// The one copy of a transition is the parent's, straight into `into`; the step then changes it in
/// place. The single server's state is plain data, so that copy is one `memcpy` into the slot; a
/// generic `clone` is built field by field in a temporary and then moved, a second copy that cost
/// the benchmark workload about a tenth of its time.
impl StepInto for LockModel {
    fn next_state_into(&self, last: &LockState, action: LockAction, into: &mut Option<LockState>) {
        self.take(into.insert(*last), action);
    }
}

/// An ensemble's state is not plain data (ZAB's links are a `Vec`): one clone per transition.
impl StepInto for LockModel<Ensemble> {
    fn next_state_into(
        &self,
        last: &LockState<Ensemble>,
        action: LockAction,
        into: &mut Option<LockState<Ensemble>>,
    ) {
        self.take(into.insert(last.clone()), action);
    }
}

/// No symmetry on an ensemble yet: clients on different servers are not interchangeable, and
/// those on the same server would need their renaming in ZAB's messages and the transaction
/// table (a later step of the plan).
impl crate::Symmetry for LockModel<Ensemble> {}

impl<Z: ZkService> LockModel<Z> {
    /// Take `action` in `state`, then rename values to their ranks if this world does: a
    /// transition, in place.
    fn take(&self, state: &mut LockState<Z>, action: LockAction) {
        self.step(state, action);
        if self.canonical_values {
            super::canonical::rename_values(state);
        }
    }

    /// [`Model::next_state`] in two halves: the state right after `action`, in the names the
    /// step was taken with, then, when this world renames values to their ranks
    /// (`acquisitions = 0`), the renaming and the renamed state that `next_state` returns.
    /// `lockscope conform` compares reality with the first and follows real names through the
    /// renaming.
    pub fn next_state_renamed(
        &self,
        last: &LockState<Z>,
        action: LockAction,
    ) -> (LockState<Z>, Option<(super::Renaming, LockState<Z>)>) {
        let stepped = self.apply(last, action);
        let renamed = self.canonical_values.then(|| {
            let mut next = stepped.clone();
            (super::canonical::rename_values(&mut next), next)
        });
        (stepped, renamed)
    }

    /// The state after `action`, before any renaming: narratives describe steps with the names
    /// the state had before them.
    pub(super) fn apply(&self, last: &LockState<Z>, action: LockAction) -> LockState<Z> {
        let mut state = last.clone();
        self.step(&mut state, action);
        state
    }

    /// Take `action` in `state`. In place: a state is copied once per transition, not once per
    /// function it passes through (the lock world's state is about 900 bytes).
    fn step(&self, state: &mut LockState<Z>, action: LockAction) {
        match action {
            LockAction::StartAcquire { client } => {
                let i = self.client_index(client);
                let opens_session = Z::opens_sessions(&self.zk) && state.clients[i].round == 0;
                let request = if opens_session {
                    self.client_connects(&mut state.clients[i])
                } else {
                    self.client_starts(&mut state.clients[i])
                };
                state.links[i].send_request(request);
            }
            LockAction::UseResource { client } => {
                let i = self.client_index(client);
                let token = self.client_writes(&mut state.clients[i]);
                state.links[i].to_resource = Some(token);
            }
            LockAction::Release { client } => {
                let i = self.client_index(client);
                let request = self.client_releases(&mut state.clients[i]);
                state.links[i].send_request(request);
            }
            LockAction::Deliver { from, to, msg } => self.deliver(state, from, to, msg, false),
            LockAction::EventThreadFirst { from, to, msg } => {
                self.deliver(state, from, to, msg, true)
            }
            LockAction::ExpireSession { client } => {
                let c = self.client_index(client) as ClientId;
                if !self.leaves_session(state, c) {
                    state.faults.session_expiries += 1;
                }
                let mut out = Outbox::default();
                state.zk.expire(&self.zk, c, &mut out);
                self.post(state, out);
            }
            LockAction::LoseConnection { client } => {
                let c = self.client_index(client) as ClientId;
                let mut out = Outbox::default();
                if state.zk.break_connection(&self.zk, c, &mut out) {
                    self.post(state, out);
                } else {
                    self.lose_connection(state, c);
                }
                state.faults.message_loss += 1;
            }
            LockAction::Pause { client } => {
                let i = self.client_index(client);
                state.clients[i].paused = true;
                state.faults.client_pauses += 1;
            }
            LockAction::Resume { client } => {
                let i = self.client_index(client);
                state.clients[i].paused = false;
            }
            LockAction::CrashClient { client } => {
                let c = self.client_index(client) as ClientId;
                self.crash_client(state, c);
            }
            LockAction::Partition { cut } => {
                assert!(state.cut.is_empty() && !cut.is_empty());
                assert!(
                    !cut.contains(ActorId::Server),
                    "the server is on the other side"
                );
                state.cut = cut;
                state.faults.partitions += 1;
            }
            LockAction::ReadTimeout => self.read_timeout(state),
            LockAction::Heal => {
                state.cut = Group::default();
                state.cut_past_read_timeout = false;
            }
            LockAction::CrashServer => {
                self.crash_server(state);
                state.faults.crashes += 1;
            }
            LockAction::RestartServer => state.server_down = false,
            LockAction::Ensemble(step) => {
                let mut out = Outbox::default();
                state.zk.take_step(&self.zk, step, &mut out);
                self.post(state, out);
            }
        }
    }

    /// Whether any protocol step is enabled in `state`.
    ///
    /// Faults do not count: a state where only a session expiry, a pause or a connection loss
    /// could still happen is stuck as far as the protocol goes. (A paused client's resume does
    /// count: it is a step the client will take, and so does the expiry of the session of a client
    /// that will never touch it again: the leader will take it, as nothing more comes from the
    /// client.)
    pub fn has_step(&self, state: &LockState<Z>) -> bool {
        use crate::ActionInfo;
        // `no_deadlock` asks this of every state: reuse one buffer per thread, not one per call.
        thread_local! {
            static ACTIONS: std::cell::RefCell<Vec<LockAction>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        // Most states have a protocol step: the first one found ends the search, and the fault
        // actions are listed only when there is none.
        let protocol_step = self.protocol_steps(state, &mut |action| {
            if self.fault_kind(&action).is_none() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        protocol_step.is_break()
            || ACTIONS.with_borrow_mut(|actions| {
                actions.clear();
                self.all_fault_actions(state, actions);
                actions.iter().any(|action| {
                    self.fault_kind(action).is_none() || self.expires_unattended(state, action)
                })
            })
    }

    /// Whether `action` is the expiry of a session whose client will never touch it again, which
    /// the service will take (a weakly fair step, outside the `session_expiries` budget).
    pub(super) fn expires_unattended(&self, state: &LockState<Z>, action: &LockAction) -> bool {
        matches!(*action, LockAction::ExpireSession { client }
            if self.leaves_session(state, self.client_index(client) as ClientId))
    }

    /// Whether client `c` will never touch its session again: it crashed, it abandoned, or a
    /// reconnection told it the session had ended (its close may still be dropped by a failover,
    /// and the new leader then re-arms the session with a fresh timeout, which nothing will
    /// touch). The leader expires such a session: a weakly fair step, not a fault of the budget.
    pub(super) fn leaves_session(&self, state: &LockState<Z>, c: ClientId) -> bool {
        matches!(
            state.clients[usize::from(c)].phase,
            Phase::Crashed | Phase::Abandoned
        ) || state.zk.told_session_ended(c)
    }

    /// The clients' own steps and the deliveries, the first part of [`Model::actions`], handed to
    /// `each` in that order until it breaks: [`LockModel::has_step`] stops at the first.
    fn protocol_steps(
        &self,
        state: &LockState<Z>,
        each: &mut impl FnMut(LockAction) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        for c in 0..self.client_count() {
            self.client_steps(state, c, each)?;
        }
        for c in 0..self.client_count() {
            let links = &state.links[usize::from(c)];
            let id = ActorId::Client(c);
            let server = state.zk.server_of(c);
            if let Some(&request) = links.to_server.first() {
                if !state.server_down
                    && state.zk.takes_request(c)
                    && !state.zk.request_waits(c, request)
                    && state.connected(id, server)
                {
                    each(LockAction::Deliver {
                        from: id,
                        to: server,
                        msg: Msg::Request(request),
                    })?;
                }
            }
            if let Some(token) = links.to_resource {
                if state.connected(id, ActorId::Resource) {
                    each(LockAction::Deliver {
                        from: id,
                        to: ActorId::Resource,
                        msg: Msg::Write { token },
                    })?;
                }
            }
        }
        // The service's own steps come last: one server has none, so its order is as it was.
        state.zk.steps(&self.zk, &mut |step| {
            if let EnsembleStep::Reconnect { client, .. } = step {
                if !self.library_may_reconnect(state, client) {
                    return ControlFlow::Continue(());
                }
            }
            each(LockAction::Ensemble(step))
        })
    }

    /// A client's library connects again only once its application has read the
    /// `Disconnected` of the connection it lost. ZooKeeper's library waits a random back-off of
    /// up to a second before it connects again, an age beside the event thread's work, and a
    /// stop-the-world pause of the application stops its library too. It is also what bounds
    /// the replies in flight to a client (without it, a client that reads nothing while its
    /// connections break and come back collects one event per break): once `Disconnected` is
    /// read nothing is unread, and a connection then brings at most `Reconnected` (or
    /// `SessionExpired`), the event of the watch it set again, the answers of two requests (or
    /// their `ConnectionLoss`) and its own `Disconnected`: five, `REPLIES_IN_FLIGHT`.
    fn library_may_reconnect(&self, state: &LockState<Z>, client: ClientId) -> bool {
        !state.links[usize::from(client)]
            .from_server
            .contains(&Reply::Disconnected)
    }

    /// The faults each client may suffer, then those of the whole world (and the steps that end
    /// them: resume, heal, restart): the second part of [`Model::actions`].
    fn all_fault_actions(&self, state: &LockState<Z>, actions: &mut Vec<LockAction>) {
        for c in 0..self.client_count() {
            self.fault_actions(state, c, actions);
        }
        self.world_fault_actions(state, actions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(acquisitions: u8) -> LockModel {
        let config = LockConfig {
            acquisitions,
            retry_after_expiry: true,
            session_expiries: 1,
            ..LockConfig::new(Recipe::Standard, 1)
        };
        LockModel::new(config).expect("valid")
    }

    fn releasing(round: u8) -> Client {
        Client {
            phase: Phase::WaitDeleted,
            seq: Some(0),
            token: 0,
            round,
            paused: false,
            predecessor: None,
        }
    }

    #[test]
    fn an_expiry_during_the_last_release_ends_the_client_even_when_it_retries() {
        let mut client = releasing(0);
        assert_eq!(model(1).on_reply(&mut client, Reply::SessionExpired), None);
        assert_eq!(client.phase, Phase::Done, "the round is not repeated");
    }

    #[test]
    fn an_expiry_during_an_earlier_release_moves_on_to_the_next_round() {
        let mut client = releasing(0);
        assert_eq!(
            model(2).on_reply(&mut client, Reply::SessionExpired),
            Some(Request::CreateSession)
        );
        assert_eq!((client.phase, client.round), (Phase::WaitSession, 1));
    }

    #[test]
    fn an_expiry_while_waiting_retries_the_same_round() {
        let mut client = Client {
            phase: Phase::WaitWatch,
            ..releasing(0)
        };
        assert_eq!(
            model(2).on_reply(&mut client, Reply::SessionExpired),
            Some(Request::CreateSession)
        );
        assert_eq!((client.phase, client.round), (Phase::WaitSession, 0));
    }
}
