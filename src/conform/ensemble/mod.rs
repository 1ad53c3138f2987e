//! A real ZooKeeper ensemble on loopback whose every server-to-server link passes through the
//! harness (docs/conform.md, "Ensembles").
//!
//! Each server gets its own configuration, in which it is itself at its real ports and every
//! other server is at a proxy port dedicated to that ordered pair (`reconfigEnabled=false`, so
//! no server learns the others' real addresses). No root and no network namespace is needed.
//! The election runs through byte-passing proxies; the learner links through proxies that read
//! packets and, once the harness holds, keep the broadcast's packets until a step releases them
//! ([`proxy`]).

mod election;
mod packet;
mod proxy;
mod txnlog;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::conn::four_letter_word;
use super::zookeeper::ZooKeeper;

pub use packet::{kind, kind_name, txn, Packet, Proposed};
pub use proxy::{LinkId, Links};

/// The lines every member's configuration adds to a single server's: a long `syncLimit`, since
/// a held PROPOSAL or ACK must not make the leader drop its follower
/// (`LearnerHandler.ping`'s `syncLimitCheck`), and no reconfiguration. `initLimit` (5 s) bounds
/// what a synchronisation that ZooKeeper 3.8 gives up on costs (ZOOKEEPER-4685, see
/// `replay::quorum::failover`) while leaving a loaded machine time to start its servers.
const MEMBER_CONFIG: &str = "initLimit=25\nsyncLimit=250\nreconfigEnabled=false\n";

/// How many times an ensemble is started before the harness gives up on its leader.
const ATTEMPTS: usize = 3;

/// A spawned ensemble: its servers by model id (`S0` is ZooKeeper's server 1) and its links.
pub struct RealEnsemble {
    pub members: Vec<ZooKeeper>,
    pub links: Arc<Links>,
    /// The server that leads (the highest id, as in the model).
    pub leader: u8,
    /// A replay crashed, restarted or cut off a server: the ensemble is no longer the model's
    /// start, and the next replay starts a fresh one.
    pub disturbed: bool,
    /// The proxies' listening threads and their addresses: stopped with the ensemble, so a
    /// fresh ensemble does not leave the previous one's behind.
    proxies: Vec<(SocketAddr, JoinHandle<()>)>,
}

impl RealEnsemble {
    /// Start `servers` servers with proxied links, and wait until `leader` (the highest id, as in
    /// the model) leads and the others follow it, synced. With every log empty the highest id
    /// wins an election in which every server takes part, but servers that start first may
    /// elect one of themselves: so a bare quorum of the highest ids starts first, and an
    /// ensemble that elected another server all the same is started again, and so is one a
    /// member of which could not start (a port picked free may be taken before the server binds
    /// it: ZooKeeper then exits, `UNABLE_TO_BIND_QUORUM_PORT`).
    pub fn spawn(servers: u8, leader: u8) -> Result<RealEnsemble, String> {
        let mut elected = Vec::new();
        for _ in 0..ATTEMPTS {
            match RealEnsemble::start(servers) {
                Ok(ensemble) if ensemble.leader == leader => return Ok(ensemble),
                Ok(ensemble) => elected.push(format!("S{}", ensemble.leader)),
                Err(why) => elected.push(format!("no leader ({why})")),
            }
        }
        Err(format!(
            "the spawned ensemble elected {} in {ATTEMPTS} starts, never S{leader} as the model's",
            elected.join(", ")
        ))
    }

    fn start(servers: u8) -> Result<RealEnsemble, String> {
        let n = usize::from(servers);
        // Every server's client, quorum and election port, held until the servers start: a
        // port picked free and let go could be handed to one of the proxies' listeners below
        // (or to another server), and the server would then fail to bind it.
        let reserved: Vec<[TcpListener; 3]> = (0..n)
            .map(|_| Ok([listen()?, listen()?, listen()?]))
            .collect::<Result<_, String>>()?;
        let ports: Vec<[u16; 3]> = reserved
            .iter()
            .map(|held| Ok([port_of(&held[0])?, port_of(&held[1])?, port_of(&held[2])?]))
            .collect::<Result<_, String>>()?;
        let real: Vec<(u16, u16)> = ports.iter().map(|p| (p[1], p[2])).collect();
        let links = Arc::new(Links::default());
        // proxied[i][j]: the (quorum, election) ports at which server i reaches server j.
        let mut proxied = vec![vec![(0, 0); n]; n];
        let mut listeners = Vec::new();
        for (i, row) in proxied.iter_mut().enumerate() {
            for (j, ports) in row.iter_mut().enumerate() {
                if i == j {
                    *ports = real[j];
                    continue;
                }
                let quorum = listen()?;
                let election = listen()?;
                *ports = (port_of(&quorum)?, port_of(&election)?);
                listeners.push((i, j, quorum, election));
            }
        }
        let at = |port| SocketAddr::from(([127, 0, 0, 1], port));
        let mut proxies = Vec::new();
        for (i, j, quorum, election) in listeners {
            let link = (i as u8, j as u8);
            let (learner_at, election_at) = (at(proxied[i][j].0), at(proxied[i][j].1));
            let learner = proxy::learner_proxy(quorum, at(real[j].0), link, Arc::clone(&links));
            // A server that hears from a lower id connects back to the address the lower one
            // sends: the port at which it reaches that server through the harness.
            let back = at(proxied[j][i].1);
            let election =
                election::election_proxy(election, at(real[j].1), link, back, Arc::clone(&links));
            proxies.extend([(learner_at, learner), (election_at, election)]);
        }
        // The proxies stop with the ensemble, also when a member fails to start.
        let mut ensemble = RealEnsemble {
            members: Vec::with_capacity(n),
            links,
            leader: 0,
            disturbed: false,
            proxies,
        };
        for (i, row) in proxied.iter().enumerate() {
            let servers_lines: String = row
                .iter()
                .enumerate()
                .map(|(j, (quorum, election))| {
                    format!("server.{}=127.0.0.1:{quorum}:{election}\n", j + 1)
                })
                .collect();
            let port = ports[i][0];
            let member = ZooKeeper::prepare(
                &format!("{port}-s{i}"),
                port,
                &format!("{MEMBER_CONFIG}{servers_lines}"),
                Some(i as u8 + 1),
            )?;
            ensemble.members.push(member);
        }
        // A bare quorum first, the highest ids: every quorum of them is all of them, so the
        // highest wins the election; the others then join the leader they find. The highest
        // starts before the rest of its group: a peer that finds it listening has its vote at
        // once, where a peer it could not reach yet backs off its notifications (up to seconds).
        drop(reserved);
        let quorum = n / 2 + 1;
        let mut leader = None;
        let members = &mut ensemble.members;
        for group in [n - quorum..n, 0..n - quorum] {
            for i in group.clone().rev() {
                members[i].launch()?;
                if i == n - 1 {
                    wait_listening(real[i].1)?;
                }
            }
            for i in group {
                if members[i].wait_serving()?.contains("Mode: leader") {
                    leader = Some(i as u8);
                }
            }
        }
        ensemble.leader = leader.ok_or("the spawned ensemble elected no leader")?;
        Ok(ensemble)
    }

    /// Server `server`'s client address.
    pub fn address(&self, server: u8) -> SocketAddr {
        self.members[usize::from(server)].address
    }

    /// SIGKILL server `server`; what its links held is lost with it.
    pub fn crash(&mut self, server: u8) {
        self.members[usize::from(server)].crash();
        self.links.crashed(server);
        self.disturbed = true;
    }

    /// Cut crashed server `server`'s transaction log before the zxid `first`: the writes a
    /// crash lost ([`txnlog`]). Returns how many transactions went.
    pub fn lose_writes(&self, server: u8, first: i64) -> Result<usize, String> {
        let dir = self.members[usize::from(server)]
            .data_dir()
            .join("version-2");
        txnlog::cut_from(&dir, first)
            .map_err(|err| format!("cannot cut {}'s transaction log: {err}", dir.display()))
    }

    /// Start server `server` again on its data directory and ports, not waiting: it looks for
    /// a leader as it starts.
    pub fn restart(&mut self, server: u8) -> Result<(), String> {
        self.disturbed = true;
        self.links.restarted(server);
        self.members[usize::from(server)].launch()
    }

    /// A partition cuts the servers of `side` off from the others ([`Links::partition`]).
    pub fn partition(&mut self, side: u8) {
        self.disturbed = true;
        self.links.partition(side);
    }

    /// What server `server` says it is doing (`srvr`'s `Mode:`: `leader`, `follower`), or `None`
    /// while it does not serve (down, or looking for a leader, or synchronising).
    pub fn mode(&self, server: u8) -> Option<String> {
        let member = &self.members[usize::from(server)];
        if !member.is_running() {
            return None;
        }
        let answer = four_letter_word(member.address, "srvr")?;
        let mode = answer.lines().find_map(|l| l.strip_prefix("Mode: "))?;
        Some(mode.trim().to_string())
    }
}

impl Drop for RealEnsemble {
    fn drop(&mut self) {
        stop_proxies(&self.links, std::mem::take(&mut self.proxies));
    }
}

/// How long the proxies' listening threads may take to end.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Stop the proxies' listening threads: the links stop, and a connection to each listener wakes
/// its thread to see it. Returns how many have not ended within [`STOP_WAIT`] (a listener
/// still waiting for a leader to accept a learner's connection ends once that wait is over).
fn stop_proxies(links: &Links, proxies: Vec<(SocketAddr, JoinHandle<()>)>) -> usize {
    links.stop();
    for (address, _) in &proxies {
        let _ = TcpStream::connect_timeout(address, Duration::from_millis(200));
    }
    let deadline = Instant::now() + STOP_WAIT;
    while proxies.iter().any(|(_, thread)| !thread.is_finished()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    proxies.iter().filter(|(_, t)| !t.is_finished()).count()
}

/// Wait until a server listens on `port` (its election port: it has started its election).
fn wait_listening(port: u16) -> Result<(), String> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        if Instant::now() > deadline {
            return Err(format!(
                "no ZooKeeper server opened its election port {port}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn listen() -> Result<TcpListener, String> {
    TcpListener::bind("127.0.0.1:0").map_err(|err| format!("cannot listen on 127.0.0.1: {err}"))
}

fn port_of(listener: &TcpListener) -> Result<u16, String> {
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every listening thread of the proxies ends when the ensemble stops them.
    #[test]
    fn stopped_proxies_end_their_threads() {
        let links = Arc::new(Links::default());
        links.hold(0);
        let target = listen().expect("a target");
        let target_at = target.local_addr().expect("an address");
        let mut proxies = Vec::new();
        for link in [(0, 1), (1, 0)] {
            let learner = listen().expect("a port");
            let election = listen().expect("a port");
            let (learner_at, election_at) = (
                learner.local_addr().expect("an address"),
                election.local_addr().expect("an address"),
            );
            let l = proxy::learner_proxy(learner, target_at, link, Arc::clone(&links));
            let e =
                election::election_proxy(election, target_at, link, target_at, Arc::clone(&links));
            proxies.extend([(learner_at, l), (election_at, e)]);
        }
        let running = stop_proxies(&links, proxies);
        assert_eq!(running, 0, "listening threads left running");
    }
}
