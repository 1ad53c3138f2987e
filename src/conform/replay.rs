//! One replay of a lock trace against a real server: each step done for real, what happened
//! compared with what the model says, then the property asked again of what really happened.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use lockscope_models::lock::{LockAction, LockModel, LockState, Msg, Recipe, Renaming, Variant};
use lockscope_models::zookeeper::{CreateMode, Path, Reply, Request};
use lockscope_models::ActorId;
use stateright::Model;

use super::binding::Binding;
use super::conn::{Conn, Handshake, Received, WAIT};
use super::ensemble::RealEnsemble;
use super::real::{decode_event, decode_reply, fire, Arrived, RealClient, RealWatch, SessionEnd};
use super::real::{seq_of, WatchKind};
use super::wire::{self, op, xid};
use super::zookeeper::ZooKeeper;

pub use quorum::Replayed;

mod compare;
mod faults;
mod quorum;
mod recheck;
mod resource;
mod transport;

/// The server a replay runs against.
pub struct Target {
    pub address: SocketAddr,
    /// Present when the harness started it: only then can it crash and restart it.
    pub spawned: Option<ZooKeeper>,
    /// An ensemble the harness started, with its links in the harness's hands (`address` is
    /// its first server's).
    pub ensemble: Option<RealEnsemble>,
}

impl Target {
    /// What the replays run on, in words.
    pub fn describe(&self) -> String {
        match &self.ensemble {
            None => format!("ZooKeeper {}", self.address),
            Some(real) => {
                let servers: Vec<String> = (0..real.members.len())
                    .map(|s| format!("S{s} {}", real.address(s as u8)))
                    .collect();
                format!(
                    "a ZooKeeper ensemble ({}; S{} leads), every link between servers held by the harness",
                    servers.join(", "),
                    real.leader
                )
            }
        }
    }
}

/// One step as it went.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StepReport {
    pub step: usize,
    pub model: String,
    pub real: String,
    /// What differed, when reality did not do what the model says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<String>,
}

/// How a replay ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Every step matched; `recurred`: the violation showed in what really happened.
    Matched {
        recurred: bool,
    },
    Diverged {
        step: usize,
    },
    /// A step the real system cannot be made to take (or that the harness failed to take).
    Unrealisable {
        step: usize,
        reason: String,
    },
}

/// One replay: its steps, how it ended, and what the property said of reality.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunReport {
    pub steps: Vec<StepReport>,
    pub ending: Ending,
    /// The property asked of what really happened, in words.
    pub reality: String,
    /// The writes the resource took: client, real token, accepted.
    pub writes: Vec<(String, i64, bool)>,
    pub millis: f64,
}

/// The fenced resource, inside the harness, on real tokens.
#[derive(Default)]
struct RealResource {
    highest: Option<i64>,
    latest_grant: Option<u8>,
    accepted_earlier_grant: bool,
    writes: Vec<(String, i64, bool)>,
}

/// A step's outcome: the real event in words, or why it differed from the model's.
type Done = Result<String, Failure>;

/// Why a step did not go as the model says.
enum Failure {
    Diverged { real: String, difference: String },
    Unrealisable(String),
}

fn diverged(real: impl Into<String>, difference: impl Into<String>) -> Failure {
    Failure::Diverged {
        real: real.into(),
        difference: difference.into(),
    }
}

/// Everything one replay holds: the model, the server, and the real side of the world.
struct Harness<'a, Z: lockscope_models::zookeeper::ZkService> {
    model: &'a LockModel<Z>,
    target: &'a mut Target,
    /// The namespace of this replay: the model's `/lock` is `root/lock`.
    root: String,
    /// An observer session of the harness's own: it sets up the namespace and lists the tree.
    admin: Option<Conn>,
    clients: Vec<RealClient>,
    seqs: Binding<u8, u8>,
    zxids: Binding<i64, u16>,
    /// Real node names by real sequence number.
    names: std::collections::BTreeMap<u8, String>,
    resource: RealResource,
    /// The clients a partition cuts off (empty: none).
    cut: Vec<usize>,
    /// Only for `no_herd`: count the waiters each deleting step wakes (it costs a ping per
    /// client per step).
    count_woken: bool,
    /// The most other clients one deleting step woke.
    most_woken: usize,
    /// On an ensemble: the real zxids each model transaction (by value) stands for, in order.
    values: BTreeMap<u8, Vec<i64>>,
    /// On an ensemble: the zxid every server had applied when the replay began.
    base_zxid: i64,
    /// On an ensemble: an observer session on each server, by server id.
    observers: Vec<Conn>,
    /// On an ensemble: the model's error transactions that stand for two real ones, a refused
    /// last release's (see [`Harness::note_refused_release`]).
    refused_releases: std::collections::BTreeSet<u8>,
    /// On an ensemble: the synchronisations given up on that a step has told of already.
    early_acks_seen: u32,
    /// On an ensemble: the servers that crashed leading with a proposal the model's had not
    /// written (the real one had).
    lost_writes: std::collections::BTreeSet<u8>,
    /// On an ensemble: the connections that attached to an expired session at the leader and
    /// closed it, kept until the end of the replay (their answer waits behind the held close).
    expirers: Vec<Conn>,
}

/// Replay `actions` (with the model's `summaries`) once, under a fresh root `root`.
pub fn run<Z: Replayed>(
    model: &LockModel<Z>,
    target: &mut Target,
    root: &str,
    actions: &[LockAction],
    summaries: &[String],
    property: &str,
    loop_start: Option<usize>,
) -> RunReport {
    let started = Instant::now();
    let mut states = vec![model.init_states().swap_remove(0)];
    let mut harness = Harness {
        model,
        target,
        root: root.to_string(),
        admin: None,
        clients: Vec::new(),
        seqs: Binding::new("sequence number"),
        zxids: Binding::new("zxid"),
        names: Default::default(),
        resource: RealResource::default(),
        cut: Vec::new(),
        count_woken: property == lockscope_models::prop::NO_HERD,
        most_woken: 0,
        values: BTreeMap::new(),
        base_zxid: 0,
        observers: Vec::new(),
        refused_releases: Default::default(),
        early_acks_seen: 0,
        lost_writes: Default::default(),
        expirers: Vec::new(),
    };
    let mut steps = Vec::new();
    let mut history = vec![harness.logic()];
    let ending = match harness
        .start_server()
        .and_then(|()| harness.set_up(&states[0]))
    {
        Err(reason) => Ending::Unrealisable { step: 0, reason },
        Ok(()) => {
            let mut ending = None;
            for (index, (&action, summary)) in actions.iter().zip(summaries).enumerate() {
                let before = states.last().expect("the initial state").clone();
                let (after, renamed) = model.next_state_renamed(&before, action);
                let outcome = harness.step(action, &before, &after).and_then(|real| {
                    harness.count_woken(action)?;
                    Ok(real)
                });
                let (real, difference) = match outcome {
                    Ok(real) => (real, None),
                    Err(Failure::Diverged { real, difference }) => (real, Some(difference)),
                    Err(Failure::Unrealisable(reason)) => {
                        steps.push(StepReport {
                            step: index + 1,
                            model: summary.clone(),
                            real: format!("cannot be realised: {reason}"),
                            difference: None,
                        });
                        ending = Some(Ending::Unrealisable {
                            step: index + 1,
                            reason,
                        });
                        break;
                    }
                };
                let diverged = difference.is_some();
                steps.push(StepReport {
                    step: index + 1,
                    model: summary.clone(),
                    real,
                    difference,
                });
                let after = match renamed {
                    Some((renaming, renamed)) => {
                        harness.follow(&renaming);
                        renamed
                    }
                    None => after,
                };
                states.push(after);
                history.push(harness.logic());
                if diverged {
                    ending = Some(Ending::Diverged { step: index + 1 });
                    break;
                }
            }
            match ending {
                Some(ending) => ending,
                None => match harness.leftovers(states.last().expect("a state")) {
                    Some(difference) => {
                        steps.push(StepReport {
                            step: actions.len() + 1,
                            model:
                                "(after the last step) nothing more in flight than the model has"
                                    .into(),
                            real: "more or other messages in flight".into(),
                            difference: Some(difference),
                        });
                        Ending::Diverged {
                            step: actions.len() + 1,
                        }
                    }
                    None => Ending::Matched { recurred: false },
                },
            }
        }
    };
    let note = harness.after_failover();
    let (recurred, mut reality) = harness.recheck(property, loop_start, &history);
    if let Some(note) = note {
        reality = format!("{note}: {reality}");
    }
    let ending = match ending {
        Ending::Matched { .. } => Ending::Matched { recurred },
        other => other,
    };
    let writes = std::mem::take(&mut harness.resource.writes);
    harness.tear_down();
    RunReport {
        steps,
        ending,
        reality,
        writes,
        millis: started.elapsed().as_secs_f64() * 1000.0,
    }
}

fn name(c: usize) -> ActorId {
    ActorId::Client(c as u8)
}

impl<Z: Replayed> Harness<'_, Z> {
    fn fenced(&self) -> bool {
        self.model.config.recipe == Recipe::Fenced
    }

    fn logic(&self) -> Vec<lockscope_models::lock::Client> {
        self.clients.iter().map(|c| c.logic).collect()
    }

    /// The model renamed its values to their ranks (a world that acquires forever): rename the
    /// model side of the bindings, and the clients' own values and held requests, alike.
    fn follow(&mut self, renaming: &Renaming) {
        self.seqs.rename(|m| renaming.seq(m));
        self.zxids.rename(|m| renaming.zxid(m));
        for client in &mut self.clients {
            let logic = &mut client.logic;
            logic.seq = logic.seq.and_then(|s| renaming.seq(s));
            logic.predecessor = logic.predecessor.and_then(|s| renaming.seq(s));
            logic.token = renaming.zxid(logic.token).unwrap_or(0);
            for request in &mut client.outgoing {
                *request = request.map_values(&mut |s| {
                    renaming.seq(s).expect("a request's node is in the state")
                });
            }
        }
    }

    /// A replay begins with the server up, even when the one before ended with it crashed; an
    /// ensemble that a replay disturbed (a crash, a cut connection) is started afresh, with the
    /// model's first leader.
    fn start_server(&mut self) -> Result<(), String> {
        if let Some(real) = self.target.ensemble.take_if(|real| real.disturbed) {
            let (servers, leader) = (real.members.len() as u8, real.leader);
            drop(real);
            let fresh = RealEnsemble::spawn(servers, leader)?;
            self.target.address = fresh.address(0);
            self.target.ensemble = Some(fresh);
        }
        match self.target.spawned.as_mut() {
            Some(server) if !server.is_running() => server.start(),
            _ => Ok(()),
        }
    }

    fn server_up(&self) -> bool {
        self.target
            .spawned
            .as_ref()
            .map_or(true, ZooKeeper::is_running)
    }

    /// A fresh namespace, `/lock` in it when the recipe uses it as a parent, and a session per
    /// client.
    fn set_up(&mut self, initial: &LockState<Z>) -> Result<(), String> {
        let ensemble = initial.zk.ensemble().map(|e| (e.clone(), e.leader()));
        if ensemble.as_ref().is_some_and(|(e, _)| !e.sessions_at_start) {
            return Err("sessions opened by transactions on an ensemble (sessions_at_start = false) are not replayed yet".into());
        }
        if ensemble.is_some()
            && self.model.config.retry_after_expiry
            && self.model.config.session_expiries > 0
        {
            return Err("a new session after an expiry on an ensemble (retry_after_expiry) is not replayed yet".into());
        }
        let mut admin = match &ensemble {
            Some((_, leader)) => self.connect_to(leader.unwrap_or(0), None)?,
            None => self.connect(None)?,
        };
        let mut create = |path: &str| {
            admin
                .call(op::CREATE2, |out| wire::create_body(out, path, 0))
                .map_err(|e| format!("cannot create {path}: {e}"))
                .and_then(|reply| match reply.err {
                    wire::err::OK => Ok(()),
                    code => Err(format!("cannot create {path}: error code {code}")),
                })
        };
        create(&self.root)?;
        if initial.zk.agreed_tree().node(Path::Lock).is_some() {
            create(&format!("{}/lock", self.root))?;
        }
        self.admin = Some(admin);
        for (c, logic) in initial.clients.iter().enumerate() {
            let mut client = RealClient::new(*logic);
            client.server = ensemble
                .as_ref()
                .map_or(0, |(ensemble, _)| ensemble.server_of_client(c as u8));
            let conn = self.connect_to(client.server, None)?;
            client.keys = Some(conn.keys.clone());
            client.conn = Some(conn);
            self.clients.push(client);
        }
        if let Some((ensemble, _)) = ensemble {
            for server in ensemble.zab.ids() {
                let observer = self.connect_to(server, None)?;
                self.observers.push(observer);
            }
            self.base_zxid = self.quiesce()?;
            if let Some(real) = self.real_ensemble() {
                real.links.hold(self.base_zxid);
                let early = real.links.lock().early_acks;
                self.early_acks_seen = early;
            }
        }
        Ok(())
    }

    /// On an ensemble: wait until every server has applied everything the set-up wrote (the
    /// same last zxid everywhere), so that the replay starts with nothing in flight between the
    /// servers; returns that zxid.
    fn quiesce(&mut self) -> Result<i64, String> {
        let deadline = Instant::now() + WAIT;
        let root = self.root.clone();
        loop {
            let mut zxids = Vec::new();
            for observer in &mut self.observers {
                let reply = observer
                    .call(op::EXISTS, |out| out.string(&root).bool(false))
                    .map_err(|e| format!("an observer cannot read {root}: {e}"))?;
                zxids.push(reply.zxid);
            }
            if zxids.windows(2).all(|w| w[0] == w[1]) {
                return Ok(zxids[0]);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the servers did not agree within {WAIT:?} (last applied zxids {zxids:x?})"
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// A connection to server `server` of the ensemble.
    fn connect_to(
        &self,
        server: u8,
        keys: Option<&super::conn::SessionKeys>,
    ) -> Result<Conn, String> {
        let address = self
            .real_ensemble()
            .map_or(self.target.address, |real| real.address(server));
        match Conn::open(address, keys, 0) {
            Ok(Handshake::Connected(conn)) => Ok(conn),
            Ok(Handshake::Expired) => Err("the server says the session expired".into()),
            Err(e) => Err(format!("cannot connect to ZooKeeper at {address}: {e}")),
        }
    }

    /// The address of `c`'s server.
    fn address_of_client(&self, c: usize) -> SocketAddr {
        let server = self.clients[c].server;
        self.real_ensemble()
            .map_or(self.target.address, |real| real.address(server))
    }

    fn connect(&self, keys: Option<&super::conn::SessionKeys>) -> Result<Conn, String> {
        match Conn::open(self.target.address, keys, 0) {
            Ok(Handshake::Connected(conn)) => Ok(conn),
            Ok(Handshake::Expired) => Err("the server says the session expired".into()),
            Err(e) => Err(format!(
                "cannot connect to ZooKeeper at {}: {e}",
                self.target.address
            )),
        }
    }

    /// Close every session this replay opened (their nodes go with them).
    /// On an ensemble the links pass everything again first, and each close is awaited, so the
    /// next replay starts with nothing in flight.
    fn tear_down(&mut self) {
        if self.real_ensemble().is_some_and(|real| real.disturbed) {
            // The next replay starts a fresh ensemble: this one's sessions go with it.
            return;
        }
        let ensemble = self.real_ensemble().map(|real| Arc::clone(&real.links));
        if let Some(links) = &ensemble {
            links.pass();
        }
        for mut expirer in self.expirers.drain(..) {
            let deadline = Instant::now() + WAIT;
            while let Some(Received::Frame(_)) = expirer.next_before(deadline) {}
        }
        let conns = self
            .clients
            .iter_mut()
            .filter_map(|c| c.conn.take())
            .chain(self.admin.take())
            .chain(self.observers.drain(..));
        for mut conn in conns {
            if ensemble.is_some() {
                let _ = conn.call(op::CLOSE_SESSION, |out| out);
            } else {
                let _ = conn.send(op::CLOSE_SESSION, |out| out);
            }
        }
    }

    /// The real path of a model path.
    fn real_path(&self, path: Path) -> Result<String, Failure> {
        match path {
            Path::Lock => Ok(format!("{}/lock", self.root)),
            Path::Child(seq) => {
                let real = self
                    .seqs
                    .real_of(seq)
                    .ok_or_else(|| unrealisable(format!("no real node stands for {path} yet")))?;
                Ok(format!("{}/lock/{}", self.root, self.names[&real]))
            }
        }
    }

    fn step(&mut self, action: LockAction, before: &LockState<Z>, after: &LockState<Z>) -> Done {
        match action {
            LockAction::StartAcquire { client } => {
                let c = index(client);
                let request = self.model.client_starts(&mut self.clients[c].logic);
                self.clients[c].protection = protection_id(c);
                self.queue_request(c, request, after)
            }
            LockAction::Release { client } => {
                let c = index(client);
                let request = self.model.client_releases(&mut self.clients[c].logic);
                self.queue_request(c, request, after)
            }
            LockAction::UseResource { client } => self.use_resource(index(client), after),
            LockAction::Deliver { from, to, msg } => match (from, to, msg) {
                (
                    ActorId::Client(c),
                    ActorId::Server | ActorId::Replica(_),
                    Msg::Request(request),
                ) => self.serve(usize::from(c), request, before, after),
                (ActorId::Server | ActorId::Replica(_), ActorId::Client(c), Msg::Reply(reply)) => {
                    self.read(usize::from(c), reply, false, after)
                }
                (ActorId::Client(c), ActorId::Resource, Msg::Write { .. }) => {
                    self.write(usize::from(c), after)
                }
                (ActorId::Resource, ActorId::Client(c), Msg::WriteResult { accepted }) => {
                    self.write_answered(usize::from(c), accepted, after)
                }
                _ => Err(unrealisable(format!("no channel carries {action}"))),
            },
            LockAction::EventThreadFirst { to, msg, .. } => match msg {
                Msg::Reply(reply) => self.read(index(to), reply, true, after),
                _ => Err(unrealisable(format!("{action} carries no watch event"))),
            },
            LockAction::ExpireSession { client } => self.expire(index(client), after),
            LockAction::LoseConnection { client } if before.zk.ensemble().is_some() => {
                self.break_own_connection(index(client), after)
            }
            LockAction::LoseConnection { client } => {
                let c = index(client);
                self.clients[c].lose_in_flight();
                let watches = self.clients[c].watches.len();
                self.reconnect(c)?;
                Ok(format!(
                    "the harness closes {client}'s connection; its library reports ConnectionLoss \
                     and reconnects to the same session, setting {watches} watch(es) again"
                ))
            }
            LockAction::Pause { client } => {
                self.clients[index(client)].paused = true;
                Ok(format!("{client} takes no step until resumed"))
            }
            LockAction::Resume { client } => {
                self.clients[index(client)].paused = false;
                Ok(format!("{client} goes on"))
            }
            LockAction::Partition { cut } => {
                self.cut = (0..self.clients.len())
                    .filter(|&c| cut.contains(name(c)))
                    .collect();
                Ok(format!(
                    "the harness holds all traffic between {cut} and S (and R)"
                ))
            }
            LockAction::ReadTimeout => {
                let mut broken = Vec::new();
                for &c in &self.cut {
                    let client = &mut self.clients[c];
                    if client.awaits_reply() {
                        client.lose_in_flight();
                        client.reconnect_on_heal = true;
                        broken.push(name(c).to_string());
                    }
                }
                Ok(format!(
                    "the read timeout passes: the harness closes the connections of {} (ConnectionLoss); they reconnect once the partition heals",
                    broken.join(", ")
                ))
            }
            LockAction::Heal => {
                let cut = std::mem::take(&mut self.cut);
                for c in cut {
                    // With the server down, the restart reconnects it.
                    if std::mem::take(&mut self.clients[c].reconnect_on_heal) && self.server_up() {
                        self.reconnect(c)?;
                    }
                }
                Ok("the harness passes traffic again; cut-off clients reconnect".into())
            }
            LockAction::CrashServer => self.crash(before, after),
            LockAction::CrashClient { client } => self.crash_client(index(client), after),
            LockAction::RestartServer => self.restart(),
            LockAction::Ensemble(step) => self.ensemble_step(step, before, after),
        }
    }

    /// The client sent `request`: it waits in the harness until the step that delivers it.
    fn queue_request(&mut self, c: usize, request: Request, after: &LockState<Z>) -> Done {
        let client = &mut self.clients[c];
        client.outgoing.push_back(request);
        let model = after.links[c].to_server.last().copied();
        let real = format!("{} sends {request}; the harness holds it", name(c));
        if model != Some(request) {
            return Err(diverged(
                real,
                format!("request: model {model:?}, real {request}"),
            ));
        }
        Ok(real)
    }

    /// Put `c`'s head request on the wire and wait for the server's answer.
    fn serve(
        &mut self,
        c: usize,
        request: Request,
        before: &LockState<Z>,
        after: &LockState<Z>,
    ) -> Done {
        let Some(head) = self.clients[c].outgoing.pop_front() else {
            return Err(diverged(
                format!("{} has no request waiting", name(c)),
                format!("model {request}, real nothing"),
            ));
        };
        if head != request {
            return Err(diverged(
                format!("{} sends {head}", name(c)),
                format!("request: model {request}, real {head}"),
            ));
        }
        let model_live = before
            .zk
            .takes_requests_of(self.model.service_config(), c as u8);
        if request == Request::CreateSession {
            let conn = self.connect(None).map_err(unrealisable)?;
            let id = conn.keys.id;
            let client = &mut self.clients[c];
            client.keys = Some(conn.keys.clone());
            client.conn = Some(conn);
            client.session = SessionEnd::Live;
            client
                .incoming
                .push_back(Arrived::notice(Reply::SessionCreated));
            return Ok(format!("{} opens session {id:#x}", name(c)));
        }
        if self.clients[c].session == SessionEnd::Ended {
            let real = format!("{request} is not sent: {}'s session is over", name(c));
            return if model_live {
                Err(diverged(
                    real,
                    "the model's session is live, the real one ended",
                ))
            } else {
                Ok(real)
            };
        }
        if !model_live {
            return Err(diverged(
                format!("{} sends {request} on a live session", name(c)),
                "the model's session ended, the real one is live",
            ));
        }
        if after.zk.ensemble().is_some() {
            return self.serve_on_ensemble(c, request, before, after);
        }
        let real_request = self.send(c, request)?;
        let deadline = Instant::now() + WAIT;
        while self.clients[c].sent.iter().any(|(_, r)| r.is_some()) {
            if !self.receive(c, Some(deadline))? {
                return Err(diverged(
                    format!("{real_request}: no reply within {WAIT:?}"),
                    "the server did not answer",
                ));
            }
            if self.clients[c]
                .conn
                .as_ref()
                .map_or(true, |conn| conn.is_closed())
                && self.clients[c].sent.iter().any(|(_, r)| r.is_some())
            {
                return Err(diverged(
                    format!("{real_request}: the server closed the connection"),
                    "the server did not answer",
                ));
            }
        }
        if let Request::Delete {
            close_session: true,
            ..
        } = request
        {
            self.close_session(c)?;
        }
        let real = self.clients[c]
            .incoming
            .iter()
            .rev()
            .find(|a| a.reply.answers_request())
            .cloned()
            .expect("the reply arrived");
        let model = after.links[c]
            .from_server
            .iter()
            .rev()
            .find(|r| r.answers_request())
            .copied();
        let text = format!("S answers {real_request}: {}", real.text(self.fenced()));
        match model {
            Some(model) => self.compare(model, &real).map_err(|d| diverged(&text, d))?,
            None => return Err(diverged(text, "the model's server sends no reply")),
        }
        self.compare_tree(after).map_err(|d| diverged(&text, d))?;
        Ok(text)
    }

    /// `c` reads the head of its incoming messages (or, `event_first`, the event behind it).
    fn read(&mut self, c: usize, model: Reply, event_first: bool, after: &LockState<Z>) -> Done {
        let at = usize::from(event_first);
        if self.clients[c].incoming.len() <= at {
            self.barrier(c)?;
        }
        let Some(real) = self.clients[c].incoming.get(at).cloned() else {
            return Err(diverged(
                format!("nothing is in flight to {}", name(c)),
                format!("model {model}, real nothing"),
            ));
        };
        let text = format!("{} reads {}", name(c), real.text(self.fenced()));
        self.compare(model, &real).map_err(|d| diverged(&text, d))?;
        let client = &mut self.clients[c];
        client.incoming.remove(at);
        client.read_zxid = client.read_zxid.max(real.zxid);
        if let Reply::Created { .. } = real.reply {
            let name = real.names.first().cloned().unwrap_or_default();
            let short = name.rsplit('/').next().unwrap_or("").to_string();
            client.node = Some((short, real.czxid, real.version));
        }
        if model == Reply::SessionExpired {
            client.conn = None;
        }
        let next = self.model.client_reads(&mut client.logic, model);
        let text = match next {
            Some(request) => {
                client.outgoing.push_back(request);
                format!("{text}; sends {request}")
            }
            None => text,
        };
        let phase = client.logic.phase;
        if phase != after.clients[c].phase {
            return Err(diverged(
                text,
                format!("phase: model {:?}, real {phase:?}", after.clients[c].phase),
            ));
        }
        Ok(text)
    }
}

/// The kind of watch a read leaves, as the client library records it.
fn watch_left(request: Request, arrived: &Arrived) -> Option<WatchKind> {
    let watch = match request {
        Request::GetChildren { watch, .. }
        | Request::Exists { watch, .. }
        | Request::GetData { watch, .. } => watch,
        _ => false,
    };
    if !watch {
        return None;
    }
    match (request, arrived.reply) {
        (Request::GetChildren { .. }, Reply::Children { .. }) => Some(WatchKind::Child),
        (Request::Exists { .. }, Reply::Stat { exists: true }) => Some(WatchKind::Data),
        (Request::Exists { .. }, Reply::Stat { exists: false }) => Some(WatchKind::Exist),
        (Request::GetData { .. }, Reply::Data { .. }) => Some(WatchKind::Data),
        _ => None,
    }
}

fn index(actor: ActorId) -> usize {
    match actor {
        ActorId::Client(c) => usize::from(c),
        other => panic!("{other} is not a client"),
    }
}

fn unrealisable(reason: String) -> Failure {
    Failure::Unrealisable(reason)
}

/// A protection id, fresh for each create call (Curator's is a UUID).
fn protection_id(c: usize) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{:08x}-c{c}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn mode_name(mode: CreateMode) -> &'static str {
    match mode {
        CreateMode::Persistent => "PERSISTENT",
        CreateMode::Ephemeral => "EPHEMERAL",
        CreateMode::PersistentSequential => "PERSISTENT_SEQUENTIAL",
        CreateMode::EphemeralSequential => "EPHEMERAL_SEQUENTIAL",
    }
}

fn watch_text(watch: bool) -> &'static str {
    if watch {
        ", watch"
    } else {
        ""
    }
}
