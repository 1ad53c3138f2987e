//! Sentences for counterexamples: what each step did and why a state violates a property.

use std::fmt::Write as _;

use super::action::{LockAction, Msg};
use super::client::Phase;
use super::model::LockModel;
use super::state::LockState;
use crate::actor::ActorId;
use crate::prop;
use crate::zookeeper::{ClientId, Path, Reply, SessionState, WatchKind, ZkService};
use crate::Explain;

fn phase_text(phase: Phase) -> &'static str {
    match phase {
        Phase::Init => "is idle (not acquiring)",
        Phase::WaitSession => "waits for a new session",
        Phase::WaitCreated => "waits for its create",
        Phase::WaitChildren => "waits for the children list",
        Phase::WaitStat => "waits for the exists reply",
        Phase::WaitWatch => "waits for a watch event",
        Phase::InCs => "HOLDS THE LOCK",
        Phase::WaitWrite => "HOLDS THE LOCK, waiting for its write",
        Phase::WaitDeleted => "waits for its delete",
        Phase::Done => "is done",
        Phase::Abandoned => "abandons (its session expired)",
        Phase::WaitLookup => "looks for its own node (protection mode)",
        Phase::WaitSync => "syncs its server before it looks for its own node",
        Phase::WaitData => "waits for the getData reply",
        Phase::Crashed => "has crashed",
        Phase::Suspended => "is suspended (held the lock; waits to reconnect and verify its node)",
    }
}

fn index(actor: ActorId) -> usize {
    match actor {
        ActorId::Client(c) => usize::from(c),
        other => panic!("{other} is not a client"),
    }
}

impl<Z: ZkService> LockModel<Z> {
    /// "; sends X" when the client's step queued a request.
    fn sent_request(
        &self,
        before: &LockState<Z>,
        after: &LockState<Z>,
        c: usize,
        consumed: usize,
    ) -> String {
        let (old, new) = (&before.links[c].to_server, &after.links[c].to_server);
        if new.len() + consumed > old.len() {
            format!("; sends {}", new.last().expect("a request was queued"))
        } else {
            String::new()
        }
    }

    /// What the server's step sent to clients other than `except`, and which nodes it removed.
    fn server_effects(
        &self,
        before: &LockState<Z>,
        after: &LockState<Z>,
        except: Option<usize>,
    ) -> String {
        let mut text = String::new();
        let (before_tree, after_tree) = (before.zk.agreed_tree(), after.zk.agreed_tree());
        let gone: Vec<String> = before_tree
            .children()
            .iter()
            .filter(|&seq| !after_tree.children().contains(seq))
            .map(|seq| Path::Child(seq).to_string())
            .chain(
                (before_tree.node(Path::Lock).is_some() && after_tree.node(Path::Lock).is_none())
                    .then(|| "/lock".to_string()),
            )
            .collect();
        if !gone.is_empty() {
            let _ = write!(text, "; deletes {}", gone.join(", "));
        }
        for (c, (old, new)) in before.links.iter().zip(&after.links).enumerate() {
            if Some(c) == except {
                continue;
            }
            for reply in new.from_server.iter().skip(old.from_server.len()) {
                let _ = write!(text, "; notifies C{c}: {reply}");
            }
        }
        if after.herd_seen && !before.herd_seen {
            text.push_str(" (one deletion woke several waiters: herd)");
        }
        text
    }

    fn describe_delivery(
        &self,
        before: &LockState<Z>,
        after: &LockState<Z>,
        from: ActorId,
        to: ActorId,
        msg: Msg,
    ) -> String {
        match (from, to, msg) {
            (ActorId::Client(c), to, Msg::Request(request)) if to == before.zk.server_of(c) => {
                let i = usize::from(c);
                let session = before.zk.session(c);
                if !before.zk.takes_requests_of(&self.zk, c)
                    && !matches!(request, crate::zookeeper::Request::CreateSession)
                {
                    return format!(
                        "{to} drops C{c}'s {request}: the session is {}",
                        session_text(session)
                    );
                }
                let replies = &after.links[i].from_server;
                let own: Vec<String> = replies
                    .iter()
                    .skip(before.links[i].from_server.len())
                    .map(|r| r.to_string())
                    .collect();
                let effects = self.server_effects(before, after, Some(i));
                match before.zk.describe_request(&self.zk, c, request, &after.zk) {
                    Some(text) if own.is_empty() => format!("{text}{effects}"),
                    Some(text) => format!("{text}: replies {}{effects}", own.join(", then ")),
                    None => format!(
                        "{to} serves C{c}'s {request}: replies {}{effects}",
                        own.join(", then ")
                    ),
                }
            }
            (from, ActorId::Client(c), Msg::Reply(reply)) if from == before.zk.server_of(c) => {
                let i = usize::from(c);
                let stale =
                    reply != Reply::SessionExpired && before.zk.session(c) == SessionState::Expired;
                let note = if stale {
                    " (computed before its session expired; it has not read SessionExpired yet)"
                } else {
                    ""
                };
                format!(
                    "C{c} reads {reply}{note} → {}{}",
                    phase_text(after.clients[i].phase),
                    self.sent_request(before, after, i, 0)
                )
            }
            (ActorId::Client(c), ActorId::Resource, Msg::Write { token }) => {
                let verdict = if after.links[usize::from(c)].from_resource == Some(true) {
                    "accepts"
                } else {
                    "rejects"
                };
                format!(
                    "R {verdict} C{c}'s write with token {token} (highest accepted before: {})",
                    before.resource.highest
                )
            }
            (ActorId::Resource, ActorId::Client(c), Msg::WriteResult { accepted }) => {
                let i = usize::from(c);
                let result = if accepted { "accepted" } else { "rejected" };
                format!(
                    "C{c} learns its write was {result}; leaves the critical section{}",
                    self.sent_request(before, after, i, 0)
                )
            }
            other => format!("{other:?}"),
        }
    }
}

fn session_text(session: SessionState) -> &'static str {
    match session {
        SessionState::Live => "live",
        SessionState::Expired => "expired",
        SessionState::Closed => "closed",
        SessionState::Unopened => "not opened yet",
    }
}

impl<Z: ZkService> Explain for LockModel<Z> {
    fn describe_step(
        &self,
        before: &LockState<Z>,
        action: &LockAction,
        _after: &LockState<Z>,
    ) -> String {
        // Describe the step with the names of the state before it, not the renamed ones.
        let after = &self.apply(before, *action);
        match *action {
            LockAction::StartAcquire { client } => {
                let round = after.clients[index(client)].round;
                let which = if self.config.acquisitions > 1 {
                    format!(" (acquisition {})", round + 1)
                } else {
                    String::new()
                };
                format!(
                    "{client} starts to acquire{which}{}",
                    self.sent_request(before, after, index(client), 0)
                )
            }
            LockAction::UseResource { client } => {
                format!(
                    "{client} writes to the resource with token {}",
                    super::fenced::token(&after.clients[index(client)], self.config.variant)
                )
            }
            LockAction::Release { client } => {
                format!(
                    "{client} leaves the critical section{}",
                    self.sent_request(before, after, index(client), 0)
                )
            }
            LockAction::Deliver { from, to, msg } => {
                self.describe_delivery(before, after, from, to, msg)
            }
            LockAction::EventThreadFirst { from, to, msg } => {
                let reply = before.links[index(to)].from_server[0];
                format!(
                    "{} (its event thread, before its caller thread has read {reply}, which came first)",
                    self.describe_delivery(before, after, from, to, msg)
                )
            }
            LockAction::ExpireSession { client } => {
                let i = index(client);
                let unaware = if after.clients[i].phase.holds_lock() {
                    format!(" ({client} still holds the lock and does not know yet)")
                } else {
                    String::new()
                };
                match before.zk.describe_expiry(i as ClientId, &after.zk) {
                    Some(text) => format!("{text}{unaware}"),
                    None => format!(
                        "S expires {client}'s session{}; queues SessionExpired to {client}{unaware}",
                        self.server_effects(before, after, Some(i))
                    ),
                }
            }
            LockAction::LoseConnection { client } => {
                let i = index(client);
                let lost: Vec<String> = before.links[i]
                    .to_server
                    .iter()
                    .map(|r| r.to_string())
                    .chain(before.links[i].from_server.iter().map(|r| r.to_string()))
                    .collect();
                if lost.is_empty() {
                    // An ensemble's: the client's write is past its server, on its way through
                    // the ensemble, and goes on without the connection.
                    format!("{client}'s connection to {} breaks while its write is on its way through the ensemble; {client} will read ConnectionLoss (its session lives on)", before.zk.server_of(index(client) as ClientId))
                } else {
                    format!("{client}'s connection breaks: lost in flight [{}]; {client} will read ConnectionLoss (its session lives on)", lost.join(", "))
                }
            }
            LockAction::Pause { client } => {
                format!(
                    "{client} pauses (as in a GC pause) while it {}",
                    phase_text(after.clients[index(client)].phase)
                )
            }
            LockAction::CrashClient { client } => {
                format!(
                    "{client} crashes while it {}: it sends nothing more and what was in flight on its connection is lost; {} closes the connection, not the session, whose nodes stay until the leader expires it",
                    phase_text(before.clients[index(client)].phase),
                    before.zk.server_of(index(client) as crate::zookeeper::ClientId)
                )
            }
            LockAction::Resume { client } => {
                format!(
                    "{client} resumes, unaware of what happened meanwhile; it {}",
                    phase_text(after.clients[index(client)].phase)
                )
            }
            LockAction::Partition { cut } => {
                format!("the network partitions {cut} from the rest: messages across the cut wait until it heals (or the read timeout breaks the connections)")
            }
            LockAction::ReadTimeout => {
                let lost: Vec<String> = (0..before.clients.len())
                    .filter(|&c| {
                        after.links[c].from_server.first() == Some(&Reply::ConnectionLoss)
                            && before.links[c].from_server.first() != Some(&Reply::ConnectionLoss)
                    })
                    .map(|c| format!("C{c}"))
                    .collect();
                let who = match lost.as_slice() {
                    [one] => format!("{one}'s library declares its connection lost"),
                    many => format!(
                        "the libraries of {} declare their connections lost",
                        many.join(" and ")
                    ),
                };
                format!(
                    "the partition outlasts the read timeout: {who}; what was in flight is lost, ConnectionLoss is queued (sessions live on)"
                )
            }
            LockAction::Heal => format!("the partition between {} and the rest heals", before.cut),
            LockAction::CrashServer => {
                let broken: Vec<String> = (0..before.clients.len())
                    .filter(|&c| {
                        after.links[c].from_server.first() == Some(&Reply::ConnectionLoss)
                            && before.links[c].from_server.first() != Some(&Reply::ConnectionLoss)
                    })
                    .map(|c| format!("C{c}"))
                    .collect();
                let readers = if broken.is_empty() {
                    String::new()
                } else {
                    format!("; {} will read ConnectionLoss", broken.join(" and "))
                };
                format!("S crashes: every connection breaks and what was in flight to and from S is lost (znodes and sessions are on disk){readers}")
            }
            LockAction::RestartServer => {
                "S restarts from its data tree and session table on disk; clients reconnect".into()
            }
            LockAction::Ensemble(step) => format!(
                "{}{}",
                before.zk.describe_step(&self.zk, step, &after.zk),
                self.server_effects(before, after, None)
            ),
        }
    }

    fn describe_violation(&self, property: &str, state: &LockState<Z>) -> Option<String> {
        match property {
            prop::MUTUAL_EXCLUSION if state.holders() > 1 => {
                let holders: Vec<usize> = (0..state.clients.len()).filter(|&c| state.clients[c].phase.holds_lock()).collect();
                let names: Vec<String> = holders.iter().map(|c| format!("C{c}")).collect();
                let together = if names.len() == 2 { "both" } else { "all" };
                let mut text = format!("{} {together} believe they hold the lock", names.join(" and "));
                for &c in &holders {
                    let unread = state.links[c].from_server.contains(&Reply::SessionExpired);
                    match state.zk.session(c as ClientId) {
                        SessionState::Expired if unread => {
                            let _ = write!(text, "; C{c}'s session has expired but C{c} has not read the notification");
                        }
                        SessionState::Expired => {
                            let _ = write!(text, "; C{c}'s session has expired");
                        }
                        _ => {}
                    }
                    if state.clients[c].paused {
                        let _ = write!(text, "; C{c} is paused");
                    }
                }
                Some(text)
            }
            prop::FENCED_RESOURCE_SAFETY if state.resource.accepted_earlier_grant => Some(format!(
                "the resource accepted a write of an earlier grant after one of a later grant (the holder of /lock/lock-{:010}; highest token now {})",
                state.resource.latest_grant.expect("a grant was accepted"),
                state.resource.highest
            )),
            prop::NO_DEADLOCK if !state.all_finished() && !self.has_step(state) => {
                let stuck: Vec<String> = state
                    .clients
                    .iter()
                    .enumerate()
                    .filter(|(_, client)| !client.phase.is_finished())
                    .map(|(c, client)| format!("C{c} {}", phase_text(client.phase)))
                    .collect();
                let whom = if stuck.len() == 1 { "it" } else { "them" };
                Some(format!("no step is enabled, yet {}: nothing will ever wake {whom}", stuck.join(", ")))
            }
            prop::NO_HERD if state.herd_seen => Some("a single znode deletion notified more than one waiting client".into()),
            prop::NO_ORPHAN_NODES if state.orphan_nodes(self.protected_names()) > 0 => {
                let tree = state.zk.agreed_tree();
                let dead_owner = tree
                    .child_nodes()
                    .iter()
                    .filter_map(|(seq, node)| Some((seq, node.owner?)))
                    .find(|&(_, c)| !state.zk.is_live(c));
                Some(match dead_owner {
                    Some((&seq, c)) => format!(
                        "{} is owned by C{c}'s session, which has ended (its create was prepared after the session's closeSession and applied after it): no session end will ever delete it, and everyone behind it waits",
                        Path::Child(seq)
                    ),
                    None => "a live session owns a lock node its client does not know about (the reply to its create was lost): it stays until the session ends, and everyone behind it waits".into(),
                })
            }
            _ => None,
        }
    }

    fn describe_state(&self, state: &LockState<Z>) -> String {
        let mut text = String::new();
        for (c, (client, links)) in state.clients.iter().zip(&state.links).enumerate() {
            let node = client
                .seq
                .map(|seq| Path::Child(seq).to_string())
                .unwrap_or_else(|| "-".into());
            let _ = write!(
                text,
                "C{c} {}{} · node {node} · session {}",
                phase_text(client.phase),
                if client.paused { " (paused)" } else { "" },
                session_text(state.zk.session(c as ClientId))
            );
            if self.config.recipe == super::Recipe::Fenced {
                let _ = write!(text, " · token {}", client.token);
            }
            let list = |items: Vec<String>| {
                if items.is_empty() {
                    "[]".to_string()
                } else {
                    format!("[{}]", items.join(", "))
                }
            };
            let _ = writeln!(
                text,
                "\n    C{c}→S {}  S→C{c} {}",
                list(links.to_server.iter().map(|m| m.to_string()).collect()),
                list(links.from_server.iter().map(|m| m.to_string()).collect())
            );
        }
        let tree = state.zk.agreed_tree();
        let watches: Vec<String> = tree
            .watches()
            .iter()
            .map(|w| {
                format!(
                    "C{} {} {}",
                    w.client,
                    if w.kind == WatchKind::Data {
                        "exists/getData"
                    } else {
                        "getChildren"
                    },
                    w.path
                )
            })
            .collect();
        let _ = writeln!(
            text,
            "S: children {} · watches [{}]",
            tree.children(),
            watches.join(", ")
        );
        if self.config.recipe == super::Recipe::Fenced {
            let _ = writeln!(text, "R: highest accepted token {}", state.resource.highest);
        }
        if state.server_down {
            let _ = writeln!(text, "S is down (crashed, not yet restarted)");
        }
        if !state.cut.is_empty() {
            let past = if state.cut_past_read_timeout {
                " (past the read timeout)"
            } else {
                ""
            };
            let _ = writeln!(text, "partition: {} cut off from the rest{past}", state.cut);
        }
        let (used, config) = (&state.faults, &self.config);
        let budgets = [
            (
                "session expiries",
                used.session_expiries,
                config.session_expiries,
            ),
            ("client pauses", used.client_pauses, config.client_pauses),
            ("connection losses", used.message_loss, config.message_loss),
            ("partitions", used.partitions, config.partitions),
            ("crashes", used.crashes, config.crashes),
            (
                "client crashes",
                state.crashed_clients(),
                config.client_crashes,
            ),
        ];
        let budgets: Vec<String> = budgets
            .iter()
            .enumerate()
            .filter(|&(i, &(_, _, budget))| i < 2 || budget > 0)
            .map(|(_, (name, used, budget))| format!("{name} {used}/{budget}"))
            .collect();
        let _ = write!(text, "faults used: {}", budgets.join(", "));
        text
    }
}
