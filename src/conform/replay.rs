//! One replay of a lock trace against a real server: each step done for real, what happened
//! compared with what the model says, then the property asked again of what really happened.

use std::net::SocketAddr;
use std::time::Instant;

use lockscope_models::lock::{LockAction, LockModel, LockState, Msg, Recipe, Renaming, Variant};
use lockscope_models::zookeeper::{CreateMode, Path, Reply, Request};
use lockscope_models::ActorId;
use stateright::Model;

use super::binding::Binding;
use super::conn::{Conn, Handshake, Received, WAIT};
use super::real::{decode_event, decode_reply, fire, Arrived, RealClient, RealWatch, SessionEnd};
use super::real::{seq_of, WatchKind};
use super::wire::{self, op, xid};
use super::zookeeper::ZooKeeper;

/// The server a replay runs against.
pub struct Target {
    pub address: SocketAddr,
    /// Present when the harness started it: only then can it crash and restart it.
    pub spawned: Option<ZooKeeper>,
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

struct Harness<'a> {
    model: &'a LockModel,
    target: &'a mut Target,
    root: String,
    admin: Option<Conn>,
    clients: Vec<RealClient>,
    seqs: Binding<u8, u8>,
    zxids: Binding<i64, u16>,
    /// Real node names by real sequence number.
    names: std::collections::BTreeMap<u8, String>,
    resource: RealResource,
    cut: Vec<usize>,
    /// Only for `no_herd`: count the waiters each deleting step wakes (it costs a ping per
    /// client per step).
    count_woken: bool,
    /// The most other clients one deleting step woke.
    most_woken: usize,
}

/// Replay `actions` (with the model's `summaries`) once, under a fresh root `root`.
pub fn run(
    model: &LockModel,
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
                let before = *states.last().expect("the initial state");
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
    let (recurred, reality) = harness.recheck(property, loop_start, &history);
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

impl Harness<'_> {
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

    /// A replay begins with the server up, even when the one before ended with it crashed.
    fn start_server(&mut self) -> Result<(), String> {
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
    fn set_up(&mut self, initial: &LockState) -> Result<(), String> {
        let mut admin = self.connect(None)?;
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
        if initial.zk.node(Path::Lock).is_some() {
            create(&format!("{}/lock", self.root))?;
        }
        self.admin = Some(admin);
        for logic in &initial.clients {
            let mut client = RealClient::new(*logic);
            let conn = self.connect(None)?;
            client.keys = Some(conn.keys.clone());
            client.conn = Some(conn);
            self.clients.push(client);
        }
        Ok(())
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
    fn tear_down(&mut self) {
        let conns = self
            .clients
            .iter_mut()
            .filter_map(|c| c.conn.take())
            .chain(self.admin.take());
        for mut conn in conns {
            let _ = conn.send(op::CLOSE_SESSION, |out| out);
        }
    }

    /// Take what has arrived on `c`'s connection into its incoming queue; with a deadline, wait
    /// until something arrives or the connection closes. Returns whether anything came.
    fn receive(&mut self, c: usize, deadline: Option<Instant>) -> Result<bool, Failure> {
        let mut got = false;
        loop {
            let Some(conn) = self.clients[c].conn.as_mut() else {
                return Ok(got);
            };
            let received = match deadline {
                Some(deadline) if !got => conn.next_before(deadline),
                _ => conn.try_next(),
            };
            match received {
                None => return Ok(got),
                Some(Received::Closed) => return Ok(true),
                Some(Received::Frame(frame)) => {
                    got = true;
                    self.take_frame(c, frame)?;
                }
            }
        }
    }

    /// For `no_herd`: after a step that deletes a node (a delete, an expiry), how many other
    /// clients got a watch event from it.
    fn count_woken(&mut self, action: LockAction) -> Result<(), Failure> {
        let cause = match action {
            LockAction::Deliver {
                from: ActorId::Client(c),
                msg: Msg::Request(Request::Delete { .. }),
                ..
            }
            | LockAction::ExpireSession {
                client: ActorId::Client(c),
            } => usize::from(c),
            _ => return Ok(()),
        };
        if !self.count_woken {
            return Ok(());
        }
        let events = |client: &RealClient| {
            client
                .incoming
                .iter()
                .filter(|a| matches!(a.reply, Reply::Event { .. }))
                .count()
        };
        let mut woken = 0;
        for c in (0..self.clients.len()).filter(|&c| c != cause) {
            let before = events(&self.clients[c]);
            self.barrier(c)?;
            woken += usize::from(events(&self.clients[c]) > before);
        }
        self.most_woken = self.most_woken.max(woken);
        Ok(())
    }

    /// The lock nodes whose owner's session lives but whose client does not know them (it
    /// neither holds their name nor has it in a reply on its way), as an observer sees them.
    fn orphans(&mut self) -> Result<Vec<String>, String> {
        if self.admin.is_none() {
            // The trace ended with the server down: its tree is on disk, and a restart (after
            // the last step) shows it.
            self.start_server()?;
            self.admin = Some(self.connect(None)?);
        }
        let admin = self.admin.as_mut().expect("connected above");
        let lock = format!("{}/lock", self.root);
        let sequential = self.model.config.recipe != Recipe::Naive;
        let paths: Vec<String> = if sequential {
            let reply = admin
                .call(op::GET_CHILDREN, |out| out.string(&lock).bool(false))
                .map_err(|e| e.to_string())?;
            wire::In::new(&reply.body)
                .strings()
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|name| format!("{lock}/{name}"))
                .collect()
        } else {
            vec![lock.clone()]
        };
        let mut orphans = Vec::new();
        for path in paths {
            let reply = admin
                .call(op::EXISTS, |out| out.string(&path).bool(false))
                .map_err(|e| e.to_string())?;
            if reply.err != wire::err::OK {
                continue;
            }
            let owner = wire::In::new(&reply.body)
                .stat()
                .map_err(|e| e.to_string())?
                .owner;
            let Some(c) = self
                .clients
                .iter()
                .position(|client| client.keys.as_ref().is_some_and(|k| k.id == owner))
            else {
                continue;
            };
            let client = &self.clients[c];
            let short = path.rsplit('/').next().unwrap_or("");
            let announced = client
                .incoming
                .iter()
                .any(|a| a.names.first().is_some_and(|n| n.ends_with(short)));
            let phase = client.logic.phase;
            let known = if sequential {
                let real_seq = seq_of(short).ok();
                let holds_name = client
                    .logic
                    .seq
                    .is_some_and(|m| self.seqs.real_of(m) == real_seq);
                let looks_up = self.model.config.recipe == Recipe::Curator
                    && matches!(
                        phase,
                        lockscope_models::lock::Phase::WaitCreated
                            | lockscope_models::lock::Phase::WaitLookup
                    );
                holds_name || looks_up
            } else {
                phase.holds_lock() || phase == lockscope_models::lock::Phase::WaitDeleted
            };
            if !known && !announced {
                orphans.push(format!("{} ({})", short, name(c)));
            }
        }
        Ok(orphans)
    }

    /// Take everything the server has sent `c` so far: a ping goes through the server's request
    /// pipeline behind every request before it, and a connection's frames arrive in the order
    /// the server sent them, so all that the earlier steps made the server send to `c` arrives
    /// before the ping's answer.
    fn barrier(&mut self, c: usize) -> Result<(), Failure> {
        let Some(conn) = self.clients[c].conn.as_mut() else {
            return Ok(());
        };
        if conn.is_closed() {
            return self.receive(c, None).map(|_| ());
        }
        conn.send_with_xid(xid::PING, op::PING, |out| out)
            .map_err(|e| unrealisable(format!("cannot ping the server for {}: {e}", name(c))))?;
        let deadline = Instant::now() + WAIT;
        loop {
            let conn = self.clients[c].conn.as_mut().expect("checked above");
            match conn.next_before(deadline) {
                Some(Received::Frame(frame)) if frame.xid == xid::PING => return Ok(()),
                Some(Received::Frame(frame)) => self.take_frame(c, frame)?,
                Some(Received::Closed) => return Ok(()),
                None => {
                    return Err(unrealisable(format!(
                        "the server did not answer {}'s ping within {WAIT:?}",
                        name(c)
                    )))
                }
            }
        }
    }

    /// File one received frame: a watch event, or the reply to a request sent.
    fn take_frame(&mut self, c: usize, frame: wire::ReplyFrame) -> Result<(), Failure> {
        let root = self.root.clone();
        let client = &mut self.clients[c];
        if frame.xid == xid::NOTIFICATION {
            let (mut arrived, path) =
                decode_event(&root, &frame).map_err(|e| diverged(e.clone(), e))?;
            if let Reply::Event { kind, .. } = arrived.reply {
                arrived.fired = fire(&mut client.watches, kind, &path);
            }
            client.incoming.push_back(arrived);
            return Ok(());
        }
        if frame.xid < 0 {
            // The answer to setWatches (or a ping): the library's own business.
            return Ok(());
        }
        let Some(at) = client.sent.iter().position(|(x, _)| *x == frame.xid) else {
            return Err(diverged(
                format!("a reply to xid {} nobody asked for", frame.xid),
                "the server answered a request that was not sent",
            ));
        };
        let Some((request, path)) = client.sent.remove(at).1 else {
            return Ok(());
        };
        let arrived = decode_reply(&root, request, &frame, &client.protection)
            .map_err(|e| diverged(e.clone(), e))?;
        if let Some(kind) = watch_left(request, &arrived) {
            client.watches.push(RealWatch { path, kind });
        }
        client.incoming.push_back(arrived);
        Ok(())
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

    fn step(&mut self, action: LockAction, before: &LockState, after: &LockState) -> Done {
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
                (ActorId::Client(c), ActorId::Server, Msg::Request(request)) => {
                    self.serve(usize::from(c), request, before, after)
                }
                (ActorId::Server, ActorId::Client(c), Msg::Reply(reply)) => {
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
            LockAction::CrashServer => self.crash(after),
            LockAction::RestartServer => self.restart(),
        }
    }

    /// The client sent `request`: it waits in the harness until the step that delivers it.
    fn queue_request(&mut self, c: usize, request: Request, after: &LockState) -> Done {
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
    fn serve(&mut self, c: usize, request: Request, before: &LockState, after: &LockState) -> Done {
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
        let model_live = before.zk.is_live(c as u8);
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

    /// Write `request` on `c`'s connection; returns it in real terms.
    fn send(&mut self, c: usize, request: Request) -> Result<String, Failure> {
        let real_text;
        let (op, path, watch, flags) = match request {
            Request::Create { path, mode } => {
                let mut real = self.real_path(path)?;
                if mode.is_sequential() {
                    if self.model.config.recipe == Recipe::Curator {
                        real.push_str(&format!("/_c_{}-lock-", self.clients[c].protection));
                    } else {
                        real.push_str("/lock-");
                    }
                }
                real_text = format!("create({real}, {})", mode_name(mode));
                (op::CREATE2, real, false, wire::create_flags(mode))
            }
            Request::GetChildren { path, watch } => {
                let real = self.real_path(path)?;
                real_text = format!("getChildren({real}{})", watch_text(watch));
                (op::GET_CHILDREN, real, watch, 0)
            }
            Request::Exists { path, watch } => {
                let real = self.real_path(path)?;
                real_text = format!("exists({real}{})", watch_text(watch));
                (op::EXISTS, real, watch, 0)
            }
            Request::GetData { path, watch } => {
                let real = self.real_path(path)?;
                real_text = format!("getData({real}{})", watch_text(watch));
                (op::GET_DATA, real, watch, 0)
            }
            Request::Delete { path, .. } => {
                let real = self.real_path(path)?;
                real_text = format!("delete({real})");
                (op::DELETE, real, false, 0)
            }
            Request::CreateSession => unreachable!("a session is opened by a connect"),
        };
        let client = &mut self.clients[c];
        let Some(conn) = client.conn.as_mut() else {
            return Err(unrealisable(format!(
                "{} has no connection to send {request} on",
                name(c)
            )));
        };
        let sent = match op {
            op::CREATE2 => conn.send(op, |out| wire::create_body(out, &path, flags)),
            op::DELETE => conn.send(op, |out| out.string(&path).int(-1)),
            _ => conn.send(op, |out| out.string(&path).bool(watch)),
        };
        let xid = sent
            .map_err(|e| unrealisable(format!("cannot write to {}'s connection: {e}", name(c))))?;
        client.sent.push((xid, Some((request, path))));
        Ok(real_text)
    }

    /// The last release closes the session right after the delete.
    fn close_session(&mut self, c: usize) -> Result<(), Failure> {
        let client = &mut self.clients[c];
        let conn = client.conn.as_mut().expect("the delete went out on it");
        let xid = conn
            .send(op::CLOSE_SESSION, |out| out)
            .map_err(|e| unrealisable(format!("cannot close {}'s session: {e}", name(c))))?;
        client.sent.push((xid, None));
        let deadline = Instant::now() + WAIT;
        while self.clients[c].sent.iter().any(|(x, _)| *x == xid) {
            if !self.receive(c, Some(deadline))? {
                return Err(unrealisable(format!(
                    "{}'s closeSession got no answer",
                    name(c)
                )));
            }
            if self.clients[c]
                .conn
                .as_ref()
                .is_some_and(|conn| conn.is_closed())
            {
                break;
            }
        }
        let client = &mut self.clients[c];
        client.sent.clear();
        client.conn = None;
        client.session = SessionEnd::Ended;
        Ok(())
    }

    /// `c` reads the head of its incoming messages (or, `event_first`, the event behind it).
    fn read(&mut self, c: usize, model: Reply, event_first: bool, after: &LockState) -> Done {
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

    fn use_resource(&mut self, c: usize, after: &LockState) -> Done {
        let model_token = self.model.client_writes(&mut self.clients[c].logic);
        let client = &mut self.clients[c];
        let (_, czxid, version) = client.node.clone().unwrap_or_default();
        let token = if self.model.config.variant == Variant::NodeVersionToken {
            i64::from(version)
        } else {
            czxid
        };
        client.to_resource = Some(token);
        let text = format!("{} sends write(token {token:#x}) to the resource", name(c));
        let model_sent = after.links[c].to_resource;
        if model_sent != Some(model_token) {
            return Err(diverged(text, "the model sends no write"));
        }
        if self.model.config.variant == Variant::NodeVersionToken {
            if token != i64::from(model_token) {
                return Err(diverged(
                    text,
                    format!("token: model {model_token}, real {token}"),
                ));
            }
        } else {
            self.zxids
                .unify(token, model_token)
                .map_err(|d| diverged(&text, format!("token: {d}")))?;
        }
        Ok(text)
    }

    /// The resource (in the harness) takes `c`'s write.
    fn write(&mut self, c: usize, after: &LockState) -> Done {
        let client = &mut self.clients[c];
        let token = client
            .to_resource
            .take()
            .ok_or_else(|| diverged(format!("{} has sent no write", name(c)), "no write"))?;
        let grant = client
            .node
            .as_ref()
            .and_then(|(name, _, _)| seq_of(name).ok())
            .unwrap_or(0);
        let checks = self.model.config.variant != Variant::UncheckedResource;
        let resource = &mut self.resource;
        let accepted = !checks || resource.highest.map_or(true, |highest| token >= highest);
        if accepted {
            resource.highest = resource.highest.max(Some(token));
            if resource.latest_grant.is_some_and(|latest| grant < latest) {
                resource.accepted_earlier_grant = true;
            }
            resource.latest_grant = resource.latest_grant.max(Some(grant));
        }
        resource.writes.push((name(c).to_string(), token, accepted));
        self.clients[c].from_resource = Some(accepted);
        let text = format!(
            "the resource {} {}'s write (token {token:#x})",
            if accepted { "accepts" } else { "rejects" },
            name(c)
        );
        match after.links[c].from_resource {
            Some(model) if model == accepted => Ok(text),
            model => Err(diverged(
                text,
                format!("resource answer: model {model:?}, real {accepted}"),
            )),
        }
    }

    fn write_answered(&mut self, c: usize, accepted: bool, after: &LockState) -> Done {
        let client = &mut self.clients[c];
        let real = client.from_resource.take();
        if real != Some(accepted) {
            return Err(diverged(
                format!("{} reads {real:?} from the resource", name(c)),
                format!("resource answer: model {accepted}, real {real:?}"),
            ));
        }
        let request = self.model.client_write_answered(&mut client.logic);
        self.queue_request(c, request, after)
    }

    /// Expire `c`'s session at this step: a second connection attaches to it and closes it.
    fn expire(&mut self, c: usize, after: &LockState) -> Done {
        let keys = self.clients[c]
            .keys
            .clone()
            .ok_or_else(|| unrealisable(format!("{} has no session", name(c))))?;
        let mut second = match Conn::open(self.target.address, Some(&keys), 0) {
            Ok(Handshake::Connected(conn)) => conn,
            Ok(Handshake::Expired) => {
                return Err(diverged(
                    format!("{}'s session had already ended", name(c)),
                    "the session was not live",
                ))
            }
            Err(e) => return Err(unrealisable(format!("cannot attach to the session: {e}"))),
        };
        second
            .call(op::CLOSE_SESSION, |out| out)
            .map_err(|e| unrealisable(format!("cannot close the session: {e}")))?;
        drop(second);
        // The server closed the client's own connection when the second one attached: take what
        // it sent before that, then reconnect as the library would, and hear that it expired.
        let deadline = Instant::now() + WAIT;
        while self.clients[c]
            .conn
            .as_ref()
            .is_some_and(|conn| !conn.is_closed())
        {
            if !self.receive(c, Some(deadline))? {
                return Err(unrealisable(format!(
                    "the server did not drop {}'s connection",
                    name(c)
                )));
            }
        }
        let client = &mut self.clients[c];
        client.conn = None;
        client.sent.clear();
        client.session = SessionEnd::Ended;
        let text = match Conn::open(self.target.address, Some(&keys), client.last_zxid()) {
            Ok(Handshake::Expired) => {
                client
                    .incoming
                    .push_back(Arrived::notice(Reply::SessionExpired));
                format!(
                    "a second connection attaches to session {:#x} and closes it; {}'s reconnect hears SessionExpired",
                    keys.id,
                    name(c)
                )
            }
            Ok(Handshake::Connected(_)) => {
                return Err(diverged(
                    "the session survived its closeSession",
                    "the session did not end",
                ))
            }
            Err(e) => return Err(unrealisable(format!("cannot reconnect: {e}"))),
        };
        self.compare_tree(after).map_err(|d| diverged(&text, d))?;
        Ok(text)
    }

    /// Attach `c` again to its session, setting its watches again as a client library does.
    fn reconnect(&mut self, c: usize) -> Result<(), Failure> {
        let client = &mut self.clients[c];
        let keys = client.keys.clone().expect("a client has had a session");
        let last = client.last_zxid();
        match Conn::open(self.target.address, Some(&keys), last) {
            Ok(Handshake::Connected(mut conn)) => {
                let listed = |kind: WatchKind| -> Vec<String> {
                    client
                        .watches
                        .iter()
                        .filter(|w| w.kind == kind)
                        .map(|w| w.path.clone())
                        .collect()
                };
                let (data, exist, child) = (
                    listed(WatchKind::Data),
                    listed(WatchKind::Exist),
                    listed(WatchKind::Child),
                );
                if !(data.is_empty() && exist.is_empty() && child.is_empty()) {
                    conn.send_with_xid(xid::SET_WATCHES, op::SET_WATCHES, |out| {
                        out.long(last)
                            .strings(&data)
                            .strings(&exist)
                            .strings(&child)
                    })
                    .map_err(|e| unrealisable(format!("cannot set watches again: {e}")))?;
                }
                client.conn = Some(conn);
                Ok(())
            }
            Ok(Handshake::Expired) => {
                client.session = SessionEnd::Ended;
                client
                    .incoming
                    .push_back(Arrived::notice(Reply::SessionExpired));
                Ok(())
            }
            Err(e) => Err(unrealisable(format!("{} cannot reconnect: {e}", name(c)))),
        }
    }

    fn crash(&mut self, after: &LockState) -> Done {
        let Some(server) = self.target.spawned.as_mut() else {
            return Err(unrealisable(
                "crashing the server needs a server the harness started (--spawn)".into(),
            ));
        };
        server.crash();
        self.admin = None;
        let mut lost = Vec::new();
        for c in 0..self.clients.len() {
            let deadline = Instant::now() + WAIT;
            while self.clients[c]
                .conn
                .as_ref()
                .is_some_and(|conn| !conn.is_closed())
            {
                if !self.receive(c, Some(deadline))? {
                    break;
                }
            }
            let client = &mut self.clients[c];
            if client.awaits_reply() {
                client.lose_in_flight();
                lost.push(name(c).to_string());
            } else {
                client.conn = None;
                client.sent.clear();
                // An ended session's requests stay: the server drops them when they arrive.
                if client.session == SessionEnd::Live {
                    client.outgoing.clear();
                }
            }
        }
        let _ = after;
        Ok(format!(
            "the harness SIGKILLs the server; ConnectionLoss for {}",
            if lost.is_empty() {
                "nobody".to_string()
            } else {
                lost.join(", ")
            }
        ))
    }

    fn restart(&mut self) -> Done {
        let Some(server) = self.target.spawned.as_mut() else {
            return Err(unrealisable(
                "restarting the server needs a server the harness started (--spawn)".into(),
            ));
        };
        server.start().map_err(unrealisable)?;
        for c in 0..self.clients.len() {
            let client = &self.clients[c];
            // A client cut off past its read timeout reconnects when the partition heals.
            if client.session == SessionEnd::Live
                && client.conn.is_none()
                && !client.reconnect_on_heal
            {
                self.reconnect(c)?;
            }
        }
        self.admin = Some(self.connect(None).map_err(unrealisable)?);
        Ok("the server restarts on the same data directory and port; clients reconnect".into())
    }

    /// Compare a real message with the model's, binding real names and zxids to the model's.
    fn compare(&mut self, model: Reply, real: &Arrived) -> Result<(), String> {
        let shape = |r: Reply| r.map_values(&mut |_| 0, &mut |_| 0);
        let differs = || format!("model {model}, real {}", real.text(self.fenced()));
        if shape(model) != shape(real.reply) {
            return Err(differs());
        }
        match (model, real.reply) {
            (
                Reply::Created {
                    path: Path::Child(m),
                    czxid,
                },
                Reply::Created {
                    path: Path::Child(r),
                    ..
                },
            ) => {
                self.bind_seq(r, m, real.names.first())?;
                if self.fenced() {
                    self.zxids.unify(real.czxid, czxid)?;
                }
            }
            (
                Reply::Children {
                    children: m,
                    own: model_own,
                },
                Reply::Children {
                    children: r,
                    own: real_own,
                },
            ) => {
                if m.len() != r.len() {
                    return Err(format!("children: model {m}, real {r}"));
                }
                for (name, (r, m)) in real.names_sorted().iter().zip(r.iter().zip(m.iter())) {
                    self.bind_seq(r, m, Some(name))
                        .map_err(|e| format!("children: model {m}, real {r}: {e}"))?;
                }
                if let (Some(m), Some(r)) = (model_own, real_own) {
                    self.seqs.unify(r, m)?;
                } else if model_own.is_some() != real_own.is_some() {
                    return Err(format!("own node: model {model_own:?}, real {real_own:?}"));
                }
            }
            (
                Reply::Event {
                    path: Path::Child(m),
                    ..
                },
                Reply::Event {
                    path: Path::Child(r),
                    ..
                },
            ) => self.seqs.unify(r, m)?,
            (Reply::Data { czxid }, Reply::Data { .. }) if self.fenced() => {
                self.zxids.unify(real.czxid, czxid)?
            }
            _ => {}
        }
        Ok(())
    }

    fn bind_seq(&mut self, real: u8, model: u8, name: Option<&String>) -> Result<(), String> {
        self.seqs.unify(real, model)?;
        if let Some(name) = name {
            let short = name.rsplit('/').next().unwrap_or(name).to_string();
            self.names.insert(real, short);
        }
        Ok(())
    }

    /// The tree as an observer session sees it, against the model's server.
    fn compare_tree(&mut self, after: &LockState) -> Result<(), String> {
        let Some(admin) = self.admin.as_mut() else {
            return Ok(());
        };
        let lock = format!("{}/lock", self.root);
        let reply = admin
            .call(op::GET_CHILDREN, |out| out.string(&lock).bool(false))
            .map_err(|e| format!("the observer cannot list {lock}: {e}"))?;
        let model_exists = after.zk.node(Path::Lock).is_some();
        let real_exists = reply.err == wire::err::OK;
        if model_exists != real_exists {
            return Err(format!(
                "/lock exists: model {model_exists}, real {real_exists}"
            ));
        }
        if !real_exists {
            return Ok(());
        }
        let names = wire::In::new(&reply.body)
            .strings()
            .map_err(|e| format!("a malformed listing: {e}"))?;
        let mut real: Vec<u8> = names.iter().map(|n| seq_of(n)).collect::<Result<_, _>>()?;
        real.sort_unstable();
        let model = after.zk.children();
        let shown: Vec<String> = real.iter().map(u8::to_string).collect();
        let tree = || format!("tree: model children {model}, real [{}]", shown.join(", "));
        if real.len() != model.len() {
            return Err(tree());
        }
        for (r, m) in real.iter().zip(model.iter()) {
            self.seqs
                .unify(*r, m)
                .map_err(|e| format!("{}: {e}", tree()))?;
        }
        Ok(())
    }

    /// After the last step: anything in flight that the model does not have.
    fn leftovers(&mut self, last: &LockState) -> Option<String> {
        for c in 0..self.clients.len() {
            if let Err(Failure::Diverged { difference, .. } | Failure::Unrealisable(difference)) =
                self.barrier(c)
            {
                return Some(difference);
            }
            let real: Vec<String> = self.clients[c]
                .incoming
                .iter()
                .map(|a| a.text(self.fenced()))
                .collect();
            let model = &last.links[c].from_server;
            let arrived = self.clients[c].incoming.clone();
            let same = real.len() == model.len()
                && model
                    .iter()
                    .zip(&arrived)
                    .all(|(&m, r)| self.compare(m, r).is_ok());
            if !same {
                let model: Vec<String> = model.iter().map(Reply::to_string).collect();
                return Some(format!(
                    "in flight to {}: model [{}], real [{}]",
                    name(c),
                    model.join(", "),
                    real.join(", ")
                ));
            }
        }
        None
    }

    /// Ask the trace's property of what really happened.
    fn recheck(
        &mut self,
        property: &str,
        loop_start: Option<usize>,
        history: &[Vec<lockscope_models::lock::Client>],
    ) -> (bool, String) {
        use lockscope_models::prop;
        let holders: Vec<String> = (0..self.clients.len())
            .filter(|&c| self.clients[c].logic.phase.holds_lock())
            .map(|c| name(c).to_string())
            .collect();
        let stuck: Vec<String> = (0..self.clients.len())
            .filter(|&c| {
                let client = &self.clients[c];
                !client.logic.phase.is_finished() && !client.can_act()
            })
            .map(|c| name(c).to_string())
            .collect();
        let everyone_stuck = self
            .clients
            .iter()
            .all(|c| c.logic.phase.is_finished() || !c.can_act())
            && !stuck.is_empty();
        match property {
            "" => (
                true,
                format!(
                    "no property asked; {} client(s) believe they hold the lock at the end",
                    holders.len()
                ),
            ),
            prop::MUTUAL_EXCLUSION => (
                holders.len() > 1,
                format!(
                    "{} client(s) believe they hold the lock ({})",
                    holders.len(),
                    holders.join(", ")
                ),
            ),
            prop::FENCED_RESOURCE_SAFETY => {
                let writes: Vec<String> = self
                    .resource
                    .writes
                    .iter()
                    .map(|(c, token, ok)| {
                        format!(
                            "{c} {token:#x} {}",
                            if *ok { "accepted" } else { "rejected" }
                        )
                    })
                    .collect();
                (
                    self.resource.accepted_earlier_grant,
                    format!(
                        "the resource took [{}]{}",
                        writes.join(", "),
                        if self.resource.accepted_earlier_grant {
                            ": an earlier grant's write after a later one's"
                        } else {
                            ""
                        }
                    ),
                )
            }
            prop::NO_HERD => (
                self.most_woken > 1,
                format!(
                    "the most waiters one deleting step woke: {}",
                    self.most_woken
                ),
            ),
            prop::NO_ORPHAN_NODES => match self.orphans() {
                Ok(orphans) => (
                    !orphans.is_empty(),
                    format!(
                        "lock nodes of live sessions their clients lost track of: [{}]",
                        orphans.join(", ")
                    ),
                ),
                Err(reason) => (false, format!("orphans not looked for: {reason}")),
            },
            prop::NO_DEADLOCK => (
                everyone_stuck,
                if everyone_stuck {
                    format!(
                        "nothing is in flight and no client can act; waiting forever: {}",
                        stuck.join(", ")
                    )
                } else {
                    "some client can still act".into()
                },
            ),
            _ => match loop_start {
                Some(start) if start + 1 < history.len() => {
                    let back = history[start] == *history.last().expect("a state");
                    let starved: Vec<String> = (0..self.clients.len())
                        .filter(|&c| {
                            history[start..]
                                .iter()
                                .all(|clients| !clients[c].phase.holds_lock())
                                && !history[start][c].phase.is_finished()
                        })
                        .map(|c| name(c).to_string())
                        .collect();
                    (
                        back && !starved.is_empty(),
                        format!(
                            "the clients are back where the cycle began: {back}; never acquiring in it: [{}]",
                            starved.join(", ")
                        ),
                    )
                }
                _ => (
                    !stuck.is_empty(),
                    format!(
                        "waiting with nothing in flight for them: [{}]",
                        stuck.join(", ")
                    ),
                ),
            },
        }
    }
}

impl Arrived {
    /// A listing's names in sequence order.
    fn names_sorted(&self) -> Vec<String> {
        let mut names = self.names.clone();
        names.sort_by_key(|n| seq_of(n).unwrap_or(u8::MAX));
        names
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
