//! ZooKeeper as the lock world's clients see it, whatever serves them.
//!
//! The lock recipes send the same requests and read the same replies whether one atomic server
//! answers them or an ensemble of servers running ZAB does (docs/design/ensemble.md, §2). The
//! lock world is generic over this interface; [`Server`] is its single-server implementation and
//! the default everywhere, so a lock world without `servers` is the world it always was.

use std::borrow::Cow;
use std::fmt::Debug;
use std::hash::Hash;
use std::ops::ControlFlow;

use super::server::{Outbox, Served, Server, ZkConfig};
use super::types::{ClientId, Path, Reply, Request, Seq, SeqMap, SessionState, WatchKind, ZxidMap};
use crate::actor::ActorId;
use crate::ensemble::EnsembleStep;
use crate::timeline::{MessageEvent, StepKind};

/// A safety property of the service itself, checked on the lock world's states: its name and
/// whether a service state satisfies it.
pub type ServiceProperty<Z> = (&'static str, fn(&<Z as ZkService>::Config, &Z) -> bool);

/// What the service may know of a client when it decides an expiry under a timing assumption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientView {
    /// The client is paused or has crashed: the quorum hears nothing from it.
    pub paused: bool,
    /// The client's connection is broken and it has read the library's `Disconnected` (Curator's
    /// SUSPENDED) since: it knows it may have lost its session.
    pub read_disconnected: bool,
}

/// Where a client's requests go, what comes back, which sessions the service may end, and the
/// data tree the lock properties and narratives read.
pub trait ZkService: Clone + Debug + Eq + Hash + 'static {
    /// What is fixed per world and changes which states are told apart.
    type Config: Copy + Debug + Eq + Hash + Send + Sync + 'static;

    /// The service at the start: a live session per client, `/lock` present as a persistent
    /// node when the recipe uses it as a parent.
    fn new(config: &Self::Config, clients: usize, lock_parent: bool) -> Self;

    /// The actor `client`'s requests go to and its replies come from.
    fn server_of(&self, client: ClientId) -> ActorId;

    /// Whether `client`'s requests reach its server now: always on one server (its crash is the
    /// world's), only while connected on an ensemble.
    #[inline]
    fn takes_request(&self, _client: ClientId) -> bool {
        true
    }

    /// Whether `client`'s `request`, which its server would take now, waits on its link instead:
    /// never on one server (it answers each request in the step it takes it); on an ensemble a
    /// read waits while its server holds an unapplied write of the same session.
    #[inline]
    fn request_waits(&self, _client: ClientId, _request: Request) -> bool {
        false
    }

    /// Whether the service will remove `client`'s node at `path` without the client's help: on an
    /// ensemble, a leader has prepared its removal (its delete or its session's close is in that
    /// leader's prepared view), or the client was told its session ended (its close is on its
    /// way, or the session, which nothing will touch again, will be expired). One server removes
    /// a node in the step it takes its removal, so never there.
    #[inline]
    fn removal_under_way(&self, _client: ClientId, _path: Path) -> bool {
        false
    }

    /// Whether `client` was told its session has ended (an ensemble's reconnection to a leader
    /// that had closed it): it never touches the session again.
    #[inline]
    fn told_session_ended(&self, _client: ClientId) -> bool {
        false
    }

    /// `client`'s process died: it will never connect again (an ensemble's; one server has no
    /// client crashes).
    #[inline]
    fn client_crashed(&mut self, _client: ClientId) {}

    /// The client read `reply` from its channel: an ensemble notes the zxid of an answer, which a
    /// reconnection compares with the new server's.
    #[inline]
    fn client_read(&mut self, _client: ClientId, _reply: Reply) {}

    /// The client read `SessionExpired` and opens a new session (`retry_after_expiry`): an
    /// ensemble forgets what the expired handle had (one server forgets a session at its
    /// expiry).
    #[inline]
    fn client_reopens(&mut self, _client: ClientId) {}

    /// The answer to `client`'s read was lost with its connection before the client read it: the
    /// watch the read registered, of kind `kind`, goes with the connection (ZooKeeper's server
    /// drops a closed connection's watches), and the client library, which registers a watch
    /// only when it reads the answer, does not set it again when it reconnects. An ensemble
    /// keeps each answer's watch with the answer and drops it when it closes the connection.
    #[inline]
    fn read_answer_lost(&mut self, _client: ClientId, _kind: WatchKind) {}

    /// Whether `client`'s own connection to its server may break now (the `message_loss` fault)
    /// in a way that matters, `on_link` telling whether its request or an answer is on the
    /// connection. One server answers a request in the step it takes it, so only then; an
    /// ensemble also while the client's write is on its way through the leader, and never for a
    /// client that has no connection.
    #[inline]
    fn connection_may_break(
        &self,
        _config: &Self::Config,
        _client: ClientId,
        on_link: bool,
    ) -> bool {
        on_link
    }

    /// `client`'s own connection to its server breaks while the server keeps serving. A service
    /// that keeps connections (an ensemble) closes it as its server would and reports it in
    /// `out.lost_connections`, returning true; one server keeps none, and the world breaks the
    /// client's link itself.
    #[inline]
    fn break_connection(
        &mut self,
        _config: &Self::Config,
        _client: ClientId,
        _out: &mut Outbox,
    ) -> bool {
        false
    }

    /// Whether the world's own server faults apply: the single server's crash and restart, and
    /// client partitions. An ensemble's crashes and partitions are its servers' own steps.
    const WORLD_FAULTS: bool = true;

    /// The fault budgets the service's own steps draw on besides the lock world's.
    fn own_fault_kinds(_config: &Self::Config) -> Vec<&'static str> {
        Vec::new()
    }

    /// The head request of `client`'s channel reaches its server; what it sends back goes to
    /// `out`.
    fn take_request(
        &mut self,
        config: &Self::Config,
        client: ClientId,
        request: Request,
        out: &mut Outbox,
    ) -> Served;

    fn session(&self, client: ClientId) -> SessionState;

    #[inline]
    fn is_live(&self, client: ClientId) -> bool {
        self.session(client) == SessionState::Live
    }

    /// Whether `client`'s server takes its requests rather than dropping them: its session is
    /// live there. On an ensemble that is the client's own server's view, which may lag behind
    /// the leader's closeSession.
    fn takes_requests_of(&self, _config: &Self::Config, client: ClientId) -> bool {
        self.is_live(client)
    }

    /// Whether the service may expire `client`'s session now (the `session_expiries` fault),
    /// `view` being what it may know of the client.
    fn may_expire(&self, config: &Self::Config, client: ClientId, view: ClientView) -> bool;

    /// Expire `client`'s session: its ephemeral nodes go, their watchers are told, and
    /// `SessionExpired` is queued to it (one server at once; an ensemble when the client's
    /// server applies the leader's closeSession).
    fn expire(&mut self, config: &Self::Config, client: ClientId, out: &mut Outbox);

    /// The server that expires sessions now, as timelines draw it (one server: `S`).
    fn expiring_server(&self) -> ActorId {
        ActorId::Server
    }

    /// What expiring `client`'s session did, in words, when the service says more than one
    /// server's "S expires" (an ensemble: the leader prepares a closeSession).
    fn describe_expiry(&self, _client: ClientId, _after: &Self) -> Option<String> {
        None
    }

    /// Whether `client` has a watch registered: a change of the tree may then send it an event
    /// it did not ask for (a reduced search asks, `lock::reduction`).
    fn has_watch(&self, client: ClientId) -> bool;

    /// Whether the service's own steps may break clients' connections (an ensemble whose
    /// servers may crash, be cut off or time out): a step that reads a client's phase and
    /// rewrites its channels. One server's crash is the world's fault, counted apart.
    fn connections_may_break(_config: &Self::Config) -> bool {
        false
    }

    /// Whether a client's reading of `SessionExpired` changes the service (an ensemble whose
    /// clients open a new session after an expiry drops what the expired handle left there:
    /// [`ZkService::client_reopens`]), so that it is not a step of the client's own.
    fn client_reads_change_the_service(_config: &Self::Config) -> bool {
        false
    }

    /// Whether each client opens its session with a createSession as its first write (an
    /// ensemble with `sessions_at_start = false`); one server has every session open before the
    /// first step.
    fn opens_sessions(_config: &Self::Config) -> bool {
        false
    }

    /// The tree every server agrees on, which the properties, symmetry and narratives read.
    fn agreed_tree(&self) -> Cow<'_, Server>;

    /// Rewrite every sequence number and zxid the service holds (order-preserving maps: see
    /// `lock::canonical`).
    fn map_values(&mut self, seq: SeqMap, zxid: ZxidMap);

    /// After [`ZkService::map_values`] renamed sequence numbers to ranks: the next one to
    /// allot.
    fn set_next_seq(&mut self, next: Seq);

    /// Whether the service will still answer `client`'s create of `path`: prepared (the node may
    /// be in the agreed tree already) but not yet applied by the client's own server, which
    /// sends the reply when it does. One server answers in the step that creates.
    #[inline]
    fn create_answer_pending(&self, _client: ClientId, _path: Path) -> bool {
        false
    }

    /// The service's own safety properties (an ensemble's are ZAB's), checked after the lock
    /// properties. None for one server.
    const PROPERTIES: &'static [ServiceProperty<Self>] = &[];

    /// The service's own steps, in a fixed order, handed to `each` until it breaks. One server
    /// has none: it does everything in the step that delivers a request.
    fn steps(
        &self,
        _config: &Self::Config,
        _each: &mut dyn FnMut(EnsembleStep) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// Take one of [`ZkService::steps`]; what it sends to clients goes to `out`.
    fn take_step(&mut self, _config: &Self::Config, step: EnsembleStep, _out: &mut Outbox) {
        unreachable!("one server has no steps of its own, not {step}")
    }

    /// What one of the service's own steps did, in words, from the state before it and after.
    fn describe_step(&self, _config: &Self::Config, step: EnsembleStep, _after: &Self) -> String {
        unreachable!("one server has no steps of its own, not {step}")
    }

    /// What became of `client`'s `request` when it reached its server, in words, when the
    /// service says more than one server's "S serves" (which server, how stale, forwarded).
    fn describe_request(
        &self,
        _config: &Self::Config,
        _client: ClientId,
        _request: Request,
        _after: &Self,
    ) -> Option<String> {
        None
    }

    /// The index of the fairness task of one of the service's own steps, among the service's
    /// tasks (which the lock world numbers after its clients'), or `None` for a fault.
    fn step_task(_config: &Self::Config, step: EnsembleStep) -> Option<usize> {
        unreachable!("one server has no steps of its own, not {step}")
    }

    /// The name of the service's task `index`.
    fn step_task_name(_config: &Self::Config, index: usize) -> String {
        unreachable!("one server has no tasks of its own, not {index}")
    }

    /// The modelling bound that leaves the service without a step it would otherwise take (an
    /// ensemble's `epochs`: with one more, an election would go on), or `None`. A world stuck only
    /// by it is not deadlocked: the model stops where the protocol would go on.
    fn stopped_by_bound(&self, _config: &Self::Config) -> Option<crate::Bound> {
        None
    }

    /// The service's servers as timeline columns, in order (one server: `S`).
    fn servers(_config: &Self::Config) -> Vec<ActorId> {
        vec![ActorId::Server]
    }

    /// One of the service's own steps as a timeline draws it: the actor that takes it, its kind,
    /// and its label.
    fn step_actor(&self, step: EnsembleStep) -> (ActorId, StepKind, String) {
        unreachable!("one server has no steps of its own, not {step}")
    }

    /// The messages between servers a step delivered (`step`, one of the service's own) and
    /// sent, for the timeline. One server has no such messages.
    fn server_events(&self, _step: Option<EnsembleStep>, _after: &Self) -> Vec<MessageEvent> {
        Vec::new()
    }
}

/// One atomic server: it takes every request at once, is the only server and the agreed tree.
impl ZkService for Server {
    type Config = ZkConfig;

    fn new(_config: &ZkConfig, clients: usize, lock_parent: bool) -> Self {
        Server::new(clients, lock_parent)
    }

    #[inline]
    fn server_of(&self, _client: ClientId) -> ActorId {
        ActorId::Server
    }

    #[inline]
    fn take_request(
        &mut self,
        config: &ZkConfig,
        client: ClientId,
        request: Request,
        out: &mut Outbox,
    ) -> Served {
        self.serve(*config, client, request, out)
    }

    #[inline]
    fn session(&self, client: ClientId) -> SessionState {
        Server::session(self, client)
    }

    #[inline]
    fn may_expire(&self, _config: &ZkConfig, client: ClientId, _view: ClientView) -> bool {
        Server::is_live(self, client)
    }

    fn expire(&mut self, config: &ZkConfig, client: ClientId, out: &mut Outbox) {
        Server::expire(self, *config, client, out);
    }

    fn has_watch(&self, client: ClientId) -> bool {
        self.watches_of(client).next().is_some()
    }

    fn read_answer_lost(&mut self, client: ClientId, kind: WatchKind) {
        Server::forget_watches(self, client, kind);
    }

    #[inline]
    fn agreed_tree(&self) -> Cow<'_, Server> {
        Cow::Borrowed(self)
    }

    fn map_values(&mut self, seq: SeqMap, zxid: ZxidMap) {
        Server::map_values(self, seq, zxid);
    }

    fn set_next_seq(&mut self, next: Seq) {
        Server::set_next_seq(self, next);
    }
}
