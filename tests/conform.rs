//! `lockscope conform` against a real ZooKeeper server (never a mock): every committed lock trace
//! replays with every step matching and its violation recurring, a trace the model gets wrong
//! diverges at its step, and the fenced resource takes or refuses the stale write by mode.
//!
//! Needs Debian's `libzookeeper-java` and a JRE (or `ZOOKEEPER_CLASSPATH`). Without them the
//! tests say loudly that they are skipped; under CI (`.ci/run` installs both) they fail instead.

mod common;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{in_ci, lockscope, stderr, stdout};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether a ZooKeeper server can be started here; if not, say so loudly (and fail in CI).
fn zookeeper_here(test: &str) -> bool {
    let java = Command::new("java")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let missing = match (java, lockscope::conform::zookeeper_classpath()) {
        (true, Ok(_)) => return true,
        (false, _) => "java is not installed".to_string(),
        (true, Err(reason)) => reason,
    };
    assert!(
        !in_ci(),
        "{test}: under CI a ZooKeeper server is needed: {missing}"
    );
    eprintln!("SKIPPED {test}: no ZooKeeper server to replay against: {missing}");
    false
}

/// The lock traces committed in scenarios/traces (ZAB traces are not for conform).
fn committed_lock_traces() -> Vec<PathBuf> {
    let mut traces: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios/traces"))
        .expect("scenarios/traces")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.to_string_lossy().ends_with(".trace.json"))
        .filter(|path| {
            let trace: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).expect("readable"))
                    .expect("JSON");
            trace["scenario"]["model"]["kind"] == "lock"
        })
        .collect();
    traces.sort();
    traces
}

/// Run conform on `traces` with `extra` arguments; returns the exit code, stdout and the JSON.
fn conform(traces: &[PathBuf], extra: &[&str]) -> (i32, String, serde_json::Value) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let json = dir.path().join("conform.json");
    let mut args: Vec<String> = vec!["conform".into()];
    args.extend(traces.iter().map(|t| t.display().to_string()));
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend(["--json".into(), json.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = lockscope(root(), &args);
    let code = output.status.code().expect("an exit code");
    let results = std::fs::read_to_string(&json)
        .map(|text| serde_json::from_str(&text).expect("JSON results"))
        .unwrap_or(serde_json::Value::Null);
    assert!(
        code != 2,
        "conform failed: {}{}",
        stdout(&output),
        stderr(&output)
    );
    (code, stdout(&output), results)
}

/// Goal: each lock counterexample lockscope ships is a claim about ZooKeeper that holds: replayed
/// on a real server every step matches and the violation recurs. Method: all of them, twice each,
/// in one conform run that spawns its own server.
#[test]
fn every_committed_lock_trace_replays_matching_with_the_violation_recurring() {
    if !zookeeper_here("every_committed_lock_trace_replays_matching") {
        return;
    }
    let traces = committed_lock_traces();
    assert!(traces.len() >= 12, "found {} lock traces", traces.len());
    // One call per world size: a call replays on one server or on one ensemble.
    let servers = |path: &PathBuf| {
        let trace: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON");
        trace["scenario"]["model"]["servers"].as_u64().unwrap_or(1)
    };
    let (one, ensemble): (Vec<PathBuf>, Vec<PathBuf>) =
        traces.into_iter().partition(|t| servers(t) == 1);
    assert!(!ensemble.is_empty(), "an ensemble trace is committed");
    for traces in [one, ensemble] {
        let (code, out, results) = conform(&traces, &["--runs", "2"]);
        assert_eq!(code, 0, "{out}");
        let results = results["traces"].as_array().expect("one result per trace");
        assert_eq!(results.len(), traces.len());
        for result in results {
            assert_eq!(result["runs"], 2, "{result}");
            assert_eq!(result["matched"], 2, "{}: {out}", result["file"]);
        }
    }
}

/// Goal: the naive recipe's creation watch is what ZooKeeper does: an `exists` answered null
/// leaves a watch on `/lock`, and the client's own create of `/lock` fires it ahead of the
/// `Created` reply, in the model as on the real server (the model once left it out, and conform
/// caught it at this step: docs/conform.md). Method: that schedule (no violation in it, so every
/// step matching is exit 1, "matched without" the violation): step 12 is C1 reading
/// `NodeCreated(/lock)`, model and real, and no step differs.
#[test]
fn the_creation_watch_on_a_missing_lock_node_fires_as_on_a_real_server() {
    if !zookeeper_here("the_creation_watch_on_a_missing_lock_node_fires") {
        return;
    }
    let trace = root().join("tests/conform/naive-creation-watch.trace.json");
    let (code, out, results) = conform(&[trace], &[]);
    assert_eq!(code, 1, "{out}");
    let result = &results["traces"][0];
    assert_eq!(result["not_recurred"], 1, "{result}");
    let steps = result["first"]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 13);
    assert!(steps.iter().all(|s| s["difference"].is_null()), "{out}");
    let step = &steps[11];
    assert!(
        step["model"]
            .as_str()
            .is_some_and(|m| m.starts_with("C1 reads NodeCreated(/lock)"))
            && step["real"] == "C1 reads NodeCreated(/lock)",
        "{step}"
    );
    assert!(
        out.contains("12 ok       model: C1 reads NodeCreated(/lock)"),
        "{out}"
    );
}

/// The resource's writes of a run: (client, token, accepted).
fn writes(result: &serde_json::Value) -> Vec<(String, i64, bool)> {
    serde_json::from_value(result["first"]["writes"].clone()).expect("writes")
}

/// Goal: fencing tokens from the real server do what the model says in both resource modes.
/// Method: the same schedule (C0 writes, its session expires, C1 acquires and writes, then C0's
/// write arrives) with the real czxids as tokens: the unchecked resource accepts C0's stale write
/// after C1's (fenced_resource_safety violated), the checking one rejects it, while both clients
/// still believe they hold the lock.
#[test]
fn the_fenced_resource_in_both_modes() {
    if !zookeeper_here("the_fenced_resource_in_both_modes") {
        return;
    }
    let unchecked =
        root().join("scenarios/traces/broken-unchecked-resource.fenced_resource_safety.trace.json");
    let checking =
        root().join("tests/conform/fenced-checking-resource.mutual_exclusion.trace.json");
    let (code, out, results) = conform(&[unchecked, checking], &[]);
    assert_eq!(code, 0, "{out}");
    let [unchecked, checking] = [&results["traces"][0], &results["traces"][1]].map(writes);
    let tokens = |w: &[(String, i64, bool)]| (w[0].1, w[1].1);
    for w in [&unchecked, &checking] {
        assert_eq!((w[0].0.as_str(), w[1].0.as_str()), ("C1", "C0"), "{w:?}");
        let (later, stale) = tokens(w);
        assert!(stale < later, "C0's czxid is the earlier: {w:?}");
    }
    assert!(unchecked[0].2 && unchecked[1].2, "{unchecked:?}");
    assert!(checking[0].2 && !checking[1].2, "{checking:?}");
    assert!(
        out.contains("an earlier grant's write after a later one's"),
        "{out}"
    );
    assert!(
        out.contains("2 client(s) believe they hold the lock (C0, C1)"),
        "{out}"
    );
}

/// Goal: a step the harness cannot make happen is reported, never skipped. Method: a server the
/// harness did not start (`--zookeeper`) cannot be crashed by it: the naive-crash trace stops at
/// its crash step with exit 2 and the reason.
#[test]
fn a_crash_on_a_server_the_harness_did_not_start_is_unrealisable() {
    if !zookeeper_here("a_crash_on_a_server_the_harness_did_not_start") {
        return;
    }
    let server = lockscope::conform::ZooKeeper::spawn().expect("a server");
    let trace = "scenarios/traces/naive-crash.mutual_exclusion.trace.json";
    let address = server.address.to_string();
    let output = lockscope(root(), &["conform", trace, "--zookeeper", &address]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(stdout(&output).contains("9 CANNOT"), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("step 9: crashing the server needs a server the harness started"),
        "{}",
        stderr(&output)
    );
}

/// Goal: `--spawn` leaves no server behind, also when interrupted. Method: after a run the
/// server's port is closed; a long run interrupted with SIGINT right after it started also leaves
/// the port closed.
#[test]
fn the_spawned_server_stops_with_the_harness() {
    if !zookeeper_here("the_spawned_server_stops_with_the_harness") {
        return;
    }
    let trace = root().join("scenarios/traces/standard-expiry.mutual_exclusion.trace.json");
    let (code, _, results) = conform(std::slice::from_ref(&trace), &["--spawn"]);
    assert_eq!(code, 0);
    let address = results["zookeeper"]
        .as_str()
        .expect("an address")
        .to_string();
    assert!(
        TcpStream::connect(&address).is_err(),
        "{address} still serves"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args(["conform", &trace.display().to_string(), "--runs", "100000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut first = String::new();
    let mut lines =
        std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().expect("piped")));
    if let Some(Ok(line)) = lines.next() {
        first = line;
    }
    let address = first
        .rsplit(' ')
        .next()
        .expect("the first line names the server")
        .to_string();
    assert!(TcpStream::connect(&address).is_ok(), "{first}");
    interrupt(child.id());
    let status = child.wait().expect("the harness ends");
    assert!(!status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&address).is_ok() {
        assert!(
            Instant::now() < deadline,
            "{address} still serves after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn interrupt(pid: u32) {
    let sent = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
}

/// Goal: what conform cannot replay is refused with exit 2 and the reason. Method: a ZAB trace,
/// and a lock trace with no server at the given address.
#[test]
fn zab_traces_and_a_missing_server_are_refused() {
    let zab = "scenarios/traces/zk-4643.committed_log_durability.trace.json";
    let output = lockscope(root(), &["conform", zab]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("a ZAB model: conform replays lock worlds"),
        "{}",
        stderr(&output)
    );
    let lock = "scenarios/traces/standard-expiry.mutual_exclusion.trace.json";
    let output = lockscope(root(), &["conform", lock, "--zookeeper", "127.0.0.1:1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no ZooKeeper at 127.0.0.1:1"),
        "{}",
        stderr(&output)
    );
    let ensemble = "tests/conform/ensemble-lost-wakeup.no_deadlock.trace.json";
    let output = lockscope(root(), &["conform", ensemble, "--zookeeper", "127.0.0.1:1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .contains("a world of 3 servers is replayed on an ensemble the harness spawns"),
        "{}",
        stderr(&output)
    );
}

/// Goal: model-based testing: the model's random runs, not just its counterexamples, are what a
/// real server does, with every fault kind the lock worlds have. Method: two seeded random runs
/// of every bundled lock scenario, each to its end, replayed on one server per scenario: every
/// step matches.
#[test]
fn random_runs_of_every_bundled_lock_scenario_match() {
    if !zookeeper_here("random_runs_of_every_bundled_lock_scenario_match") {
        return;
    }
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios/lock"))
        .expect("scenarios/lock")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 30, "found {}", scenarios.len());
    let mut faults = std::collections::BTreeSet::new();
    for scenario in &scenarios {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let json = dir.path().join("random.json");
        let (file, json_arg) = (scenario.display().to_string(), json.display().to_string());
        let args = [
            "conform", "--random", &file, "--runs", "2", "--seed", "1", "--json", &json_arg,
        ];
        let output = lockscope(root(), &args);
        let code = output.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{file}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        let result: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON written"))
                .expect("JSON");
        let random = &result["random"];
        assert_eq!(random["runs"], 2, "{file}");
        assert!(random["steps"].as_u64().expect("steps") > 0, "{file}");
        for kind in random["faults"].as_object().expect("faults").keys() {
            faults.insert(kind.clone());
        }
        assert!(
            random["failures"].as_array().expect("failures").is_empty(),
            "{file}: {}",
            stdout(&output)
        );
        assert_eq!(code, Some(0), "{file}: {}", stdout(&output));
    }
    for kind in [
        "session expiry",
        "connection loss",
        "pause",
        "partition",
        "crash",
    ] {
        assert!(
            faults.contains(kind),
            "no random run had a {kind}: {faults:?}"
        );
    }
}

/// Goal: a `sync` the model sends is a real `sync` on the wire, answered as the model answers
/// it. Method: thirty seeded random runs of Curator with a sync before its protection lookup on
/// one server; with this seed nine of them lose the create's reply and sync (a decoding of the
/// real answer as anything but `Synced` makes those nine diverge).
#[test]
fn random_runs_that_sync_before_the_lookup_match() {
    if !zookeeper_here("random_runs_that_sync_before_the_lookup_match") {
        return;
    }
    let (code, out, err, results) =
        conform_random("scenarios/lock/curator-orphan-sync.toml", "30", "1");
    assert_eq!(code, Some(0), "{out}{err}");
    let random = &results["random"];
    assert_eq!(random["matched"], 30, "{out}");
    assert_eq!(random["faults"]["connection loss"], 15, "{out}");
}

/// Run `conform --random SCENARIO --runs N --seed S --json`; returns the exit code, stdout,
/// stderr and the JSON (null when none was written).
fn conform_random(
    scenario: &str,
    runs: &str,
    seed: &str,
) -> (Option<i32>, String, String, serde_json::Value) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let json = dir.path().join("random.json");
    let json_arg = json.display().to_string();
    let args = [
        "conform", "--random", scenario, "--runs", runs, "--seed", seed, "--json", &json_arg,
    ];
    let output = lockscope(root(), &args);
    let results = std::fs::read_to_string(&json)
        .map(|text| serde_json::from_str(&text).expect("JSON results"))
        .unwrap_or(serde_json::Value::Null);
    (
        output.status.code(),
        stdout(&output),
        stderr(&output),
        results,
    )
}

/// Goal: on an ensemble, the model's random runs are what three real servers do when the
/// harness releases the packets between them one model message at a time: every REQUEST,
/// PROPOSAL, ACK and COMMIT, every reply, and each server's tree after each step (stale ones
/// included). Method: five seeded runs of the no-fault control, each to its end.
#[test]
fn random_runs_on_an_ensemble_match_every_step() {
    if !zookeeper_here("random_runs_on_an_ensemble_match_every_step") {
        return;
    }
    let (code, out, err, results) = conform_random("scenarios/ensemble/control.toml", "5", "7");
    assert_eq!(code, Some(0), "{out}{err}");
    let random = &results["random"];
    assert_eq!(
        (random["runs"].as_u64(), random["matched"].as_u64()),
        (Some(5), Some(5))
    );
    let steps = random["steps"].as_u64().expect("steps");
    let between = random["server_steps"].as_u64().expect("server steps");
    assert!(steps > 200 && between > steps / 2, "{random}");
    assert!(
        random["reads_behind_leader"].as_u64() > Some(0),
        "no read was answered behind the leader: {random}"
    );
    assert!(
        out.contains("S2 leads), every link between servers held by the harness"),
        "{out}"
    );
}

/// Goal: an ensemble counterexample replays on real servers, including its stale read. Method:
/// the lost wakeup on an ensemble (tests/conform/README.md): at step 32 S1, one transaction
/// behind the leader, lists a node already deleted, and the harness checks S1's real tree
/// against the model's there; the deadlock recurs.
#[test]
fn an_ensemble_trace_replays_with_its_stale_read() {
    if !zookeeper_here("an_ensemble_trace_replays_with_its_stale_read") {
        return;
    }
    let trace = root().join("tests/conform/ensemble-lost-wakeup.no_deadlock.trace.json");
    let (code, out, results) = conform(&[trace], &["--runs", "2"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(results["traces"][0]["matched"], 2, "{out}");
    assert!(
        out.contains("32 ok       model: S1 (1 transaction behind the leader) serves C1's getChildren(/lock) from its own tree: replies Children [0, 1]"),
        "{out}"
    );
    assert!(out.contains("the harness releases S2 → S1 COMMIT"), "{out}");
}

/// Goal: the creation watch on a missing `/lock` is left and fired on an ensemble as on a real
/// one: the client's own server registers it and fires it when it applies the create. Method:
/// four seeded random runs of the naive recipe on three servers, each matching every step (before
/// the model had the watch, run 3 diverged at step 42, where C0's server applied its create of
/// `/lock` behind a NodeCreated event the model did not have).
#[test]
fn on_an_ensemble_the_creation_watch_fires_where_the_create_is_applied() {
    if !zookeeper_here("on_an_ensemble_the_creation_watch_fires") {
        return;
    }
    let (code, out, err, results) = conform_random("tests/conform/ensemble-naive.toml", "4", "7");
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(
        results["random"]["failures"].as_array().map(Vec::len),
        Some(0),
        "{out}"
    );
    assert!(
        out.contains("4 of 4 random run(s) matched every step"),
        "{out}"
    );
}

/// Goal: on an ensemble, a session expiry is what three real servers do: the leader proposes
/// the session's close (the harness attaches a second connection to the session at the leader
/// and closes it), the client's own server drops its connection when it applies the close, the
/// client's reconnect hears SessionExpired, and a write of the closing session is refused with an
/// error transaction. Method: five seeded random runs of the fixed control of zk-1208, each to
/// its end, all matching, with session expiries among their faults.
#[test]
fn random_runs_with_session_expiry_on_an_ensemble_match_every_step() {
    let random = random_runs_matching("scenarios/ensemble/zk-1208-fixed.toml", 5, 7);
    assert!(
        random.is_null() || random["faults"]["session expiry"].as_u64() >= Some(3),
        "{random}"
    );
}

/// `runs` seeded random runs of `scenario` (seed `seed`), all matching every step: the JSON
/// summary, or null when ZooKeeper is missing (skipped, loudly).
fn random_runs_matching(scenario: &str, runs: u32, seed: u32) -> serde_json::Value {
    if !zookeeper_here(scenario) {
        return serde_json::Value::Null;
    }
    let (code, out, err, results) = conform_random(scenario, &runs.to_string(), &seed.to_string());
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(results["random"]["matched"], runs, "{out}");
    results["random"].clone()
}

/// Goal: a leader's crash on an ensemble replays on real servers: the harness SIGKILLs the
/// leader, keeps its followers' connections to it open and silent until the model's follower
/// gives up (then cuts it: the follower leaves broadcast and drops its clients, whose request
/// fails with ConnectionLoss), and the orphan recurs once the survivors elect a leader. Method:
/// the 8-step orphan of scenarios/ensemble/leader-crash.toml, twice (a fresh ensemble for the
/// second run): every step matches, and after the last step S0, which logged C0's create, leads
/// and the node is there with C0's session alive and C0 unaware of it.
#[test]
fn a_leader_crash_on_an_ensemble_replays_with_its_orphan_recurring() {
    if !zookeeper_here("a_leader_crash_on_an_ensemble_replays") {
        return;
    }
    let trace = root().join("tests/conform/ensemble-leader-crash.no_orphan_nodes.trace.json");
    let (code, out, results) = conform(&[trace], &["--runs", "2"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(results["traces"][0]["matched"], 2, "{out}");
    assert!(
        out.contains(
            "    7 ok       model: crash S2\n               real:  the harness SIGKILLs S2"
        ),
        "{out}"
    );
    assert!(
        out.contains("real:  the harness cuts S0's connection to its leader: S0 leaves broadcast; it closes the connections of C0"),
        "{out}"
    );
    let reality = results["traces"][0]["first"]["reality"]
        .as_str()
        .expect("reality");
    assert!(
        reality.starts_with("after the last step the servers were let go")
            && reality.contains("S0 leads")
            && reality.ends_with(
                "lock nodes of live sessions their clients lost track of: [lock-0000000000 (C0)]"
            ),
        "{reality}"
    );
}

/// Goal: failover on an ensemble, not just its first steps, is what real servers do: the crash,
/// the followers giving up, the election (the harness lets only the model's quorum elect, and
/// compares the leader), the synchronisation, the clients reconnecting with their sessions and
/// finishing on the new leader. Method: the first two seeded random runs (seed 2) of
/// leader-crash.toml, each with a crash of the leader and taken to its end: every step matches.
#[test]
fn random_runs_with_a_leader_crash_on_an_ensemble_match_every_step() {
    let random = random_runs_matching("scenarios/ensemble/leader-crash.toml", 2, 2);
    if !random.is_null() {
        assert_eq!(random["faults"]["server crash"], 2, "{random}");
    }
}

/// Goal: a step the real leader cannot be made to take is refused, named, with exit 2. Method:
/// with a live client on the leader, a follower's ACK delivered before the leader's own write of
/// that proposal (the real leader writes and acknowledges its own at once, so it would commit
/// earlier than the model's): run 2 of seed 7 reaches one at step 24, where the client on the
/// leader is releasing its lock (its delete's answer is still to come).
#[test]
fn a_step_the_real_leader_cannot_take_is_refused() {
    if !zookeeper_here("a_step_the_real_leader_cannot_take_is_refused") {
        return;
    }
    let (code, out, err, _) = conform_random("tests/conform/ensemble-leader-client.toml", "4", "7");
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(out.contains("24 CANNOT"), "{out}");
    assert!(
        err.contains("run 2: step 24: S1's ACK of (1,3) reaches S2 before S2 wrote that proposal"),
        "{err}"
    );
}

/// Goal: a client's own connection break on an ensemble, its reconnection to another server
/// (which moves the session's owner) and the late write its old server forwards are what real
/// servers do: the fixed leader refuses the late write with SessionMoved, and a late last
/// release has its delete refused but its closeSession carried out (conform found that the model
/// once refused the pair as a whole); and with a sync before Curator's lookup, the follower's
/// forwarded sync and the leader's SYNC behind its COMMIT. Method: seeded random runs of
/// zk-710-fixed.toml (every break there makes a late write), of lagging-lookup.toml (the breaks
/// in every order) and of lagging-lookup-sync.toml (7 of its 20 runs sync through a follower),
/// each to its end: every step matches.
#[test]
fn random_runs_with_own_connection_breaks_on_an_ensemble_match_every_step() {
    if !zookeeper_here("random_runs_with_own_connection_breaks_on_an_ensemble") {
        return;
    }
    for (scenario, seed, breaks) in [
        ("scenarios/ensemble/zk-710-fixed.toml", "11", 4),
        ("scenarios/ensemble/lagging-lookup.toml", "1", 14),
        ("scenarios/ensemble/lagging-lookup-sync.toml", "1", 14),
    ] {
        let (code, out, err, results) = conform_random(scenario, "20", seed);
        assert_eq!(code, Some(0), "{scenario}: {out}{err}");
        let random = &results["random"];
        assert_eq!(random["matched"], 20, "{scenario}: {out}");
        assert_eq!(
            random["faults"]["connection loss"], breaks,
            "{scenario}: {out}"
        );
    }
}

/// Goal: ZOOKEEPER-710's orphan needs a leader without the owner check: on a real 3.8 ensemble
/// the late create diverges at its step, refused SessionMoved. Method: zk-710.toml's shortest
/// orphan (C0's create forwarded by S0 reaches the leader after C0 moved to S2): steps 1 to 10
/// match, step 11 differs.
#[test]
fn a_late_write_from_a_moved_session_is_refused_session_moved_by_a_real_leader() {
    if !zookeeper_here("a_late_write_from_a_moved_session_is_refused") {
        return;
    }
    let trace = root().join("tests/conform/zk-710-late-create.no_orphan_nodes.trace.json");
    let (code, out, results) = conform(&[trace], &[]);
    assert_eq!(code, 1, "{out}");
    let result = &results["traces"][0];
    assert_eq!(result["diverged"], 1, "{out}");
    assert_eq!(result["first"]["ending"]["diverged"]["step"], 11, "{out}");
    let difference = result["first"]["steps"][10]["difference"]
        .as_str()
        .expect("a difference");
    assert!(
        difference.starts_with("proposal: model create /lock/lock-0000000001 by C0")
            && difference.contains("real error SessionMoved of session 0x"),
        "{difference}"
    );
    assert!(
        out.contains("the harness closes C0's connection to S0, which keeps serving"),
        "{out}"
    );
}

/// Goal: a trace the model gets wrong diverges against the real server at its step, with what
/// differed. Method: the shortest orphan of ZOOKEEPER-1208 (`zookeeper = "zk-1208"`, a flaw that
/// ZooKeeper 3.8 has fixed): the leader S2 expires C0's session (step 3, a second connection
/// attaches to the session at S2 and closes it), then prepares C0's forwarded create (step 4).
/// The model's flawed leader proposes the create; the real one refuses the closing session and
/// proposes an error transaction: DIVERGED at step 4, steps 1 to 3 matched, and in reality no
/// node was created, so none is orphaned. The same ten steps on the fixed code match every step.
#[test]
fn a_model_of_a_fixed_server_bug_diverges_at_its_step() {
    if !zookeeper_here("a_model_of_a_fixed_server_bug_diverges_at_its_step") {
        return;
    }
    let flawed = root().join("tests/conform/zk-1208-create-after-close.no_orphan_nodes.trace.json");
    let fixed =
        root().join("tests/conform/zk-1208-fixed-create-after-close.no_orphan_nodes.trace.json");
    let (code, out, results) = conform(&[flawed, fixed], &[]);
    assert_eq!(code, 1, "{out}");
    let [flawed, fixed] = [&results["traces"][0], &results["traces"][1]];
    assert_eq!(flawed["diverged"], 1, "{out}");
    assert_eq!(flawed["first"]["ending"]["diverged"]["step"], 4, "{out}");
    let steps = flawed["first"]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 4, "{out}");
    assert!(
        steps[..3].iter().all(|s| s["difference"].is_null()),
        "{out}"
    );
    assert!(
        steps[2]["real"]
            .as_str()
            .is_some_and(|r| r.contains("at the leader S2 and sends closeSession")),
        "{out}"
    );
    let difference = steps[3]["difference"].as_str().expect("a difference");
    assert!(
        difference.starts_with("proposal: model create /lock/lock-0000000000 by C0 (session 0x")
            && difference.contains("real error SessionExpired of session 0x"),
        "{difference}"
    );
    assert!(
        out.contains("    4 DIVERGED model: S0 → S2 FORWARD"),
        "{out}"
    );
    assert!(out.contains("DIVERGED at step 4"), "{out}");
    assert_eq!(
        flawed["first"]["reality"], "lock nodes of live sessions their clients lost track of: []",
        "{out}"
    );
    assert_eq!(fixed["not_recurred"], 1, "{out}");
    let steps = fixed["first"]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 10, "{out}");
    assert!(steps.iter().all(|s| s["difference"].is_null()), "{out}");
    assert!(
        steps[3]["model"]
            .as_str()
            .is_some_and(|m| m.contains("of a closing session: refused SessionExpired")),
        "{out}"
    );
}

/// Goal: a partition between servers, and the timeouts and expiry that follow it, are what real
/// servers do, and CURATOR-206 recurs on them: the holder cut off in a minority keeps believing
/// it holds while the majority expires its session and hands the lock on. Method: three traces
/// in one call. The 28-step counterexample of scenarios/ensemble/minority-holder.toml (the
/// proxies sever S0's links to S1 and S2 at step 21, the leader S2 expires C0's session, S1
/// commits it and C1 acquires): every step matches and two clients hold the lock. Its Curator
/// control (the same schedule with the Curator recipe: S0 times out and drops C0, which reads
/// Disconnected and releases before the expiry): every step matches and only C1 holds. And a
/// leader cut off in the minority (the same start, minority-leader.toml's partition): its
/// closeSession reaches no follower (bound from what the severed links dropped), the followers
/// time out, and the leader steps down when the harness closes its ends of their connections.
#[test]
fn a_holder_cut_off_in_a_minority_still_holds_when_the_majority_expires_it() {
    if !zookeeper_here("a_holder_cut_off_in_a_minority_still_holds") {
        return;
    }
    let traces = [
        "minority-holder.mutual_exclusion.trace.json",
        "minority-holder-curator-control.mutual_exclusion.trace.json",
        "minority-leader-steps-down.mutual_exclusion.trace.json",
    ]
    .map(|name| root().join("tests/conform").join(name));
    let (code, out, results) = conform(&traces, &[]);
    assert_eq!(code, 1, "{out}");
    let [holder, control, leader] = [0, 1, 2].map(|i| &results["traces"][i]);
    assert_eq!(holder["matched"], 1, "{out}");
    assert_eq!(
        holder["first"]["reality"],
        "after the last step the servers were let go (every held packet and connection close passed on); S2 leads: 2 client(s) believe they hold the lock (C0, C1)",
        "{out}"
    );
    let steps = holder["first"]["steps"].as_array().expect("steps");
    assert!(
        steps[20]["real"]
            .as_str()
            .is_some_and(|r| r.starts_with("the proxies drop everything between {S1, S2}")),
        "{out}"
    );
    for (trace, steps) in [(control, 30), (leader, 26)] {
        assert_eq!(trace["not_recurred"], 1, "{out}");
        let replayed = trace["first"]["steps"].as_array().expect("steps");
        assert_eq!(replayed.len(), steps, "{out}");
        assert!(replayed.iter().all(|s| s["difference"].is_null()), "{out}");
    }
    assert!(
        out.contains("22 ok       model: S0 times out; S0 left broadcast: C0 disconnected; notifies C0: Disconnected"),
        "{out}"
    );
    assert!(
        out.contains("25 ok       model: S2 times out; S2 applies closeSession of C0 (1,3)\n               real:  the harness closes S2's end of its followers' connections (what its syncLimit timer does to late followers): S2 finds no quorum synced and steps down"),
        "{out}"
    );
}

/// Goal: random walks through a partition of the leader, with failover, are what real servers
/// do: the cut, the followers' and the leader's timeouts, the majority electing without the
/// cut-off leader, the clients reconnecting to the new leader, the heal and the old leader
/// joining. Method: the first run of seed 2 of tests/conform/ensemble-minority-failover.toml
/// (70 steps: S2 cut off, both followers and S2 time out, S1 and S2 elect S2 after the heal,
/// S0 joins it and the new leader proposes while the model still synchronises S0), and two
/// runs of a client crash on an ensemble (holder-crash.toml): every step matches.
#[test]
fn random_runs_with_a_partition_or_a_client_crash_on_an_ensemble_match_every_step() {
    let failover = random_runs_matching("tests/conform/ensemble-minority-failover.toml", 1, 2);
    if failover.is_null() {
        return;
    }
    assert_eq!(
        failover["faults"]["partition between servers"], 1,
        "{failover}"
    );
    let crash = random_runs_matching("scenarios/ensemble/holder-crash.toml", 2, 7);
    assert_eq!(crash["faults"]["client crash"], 2, "{crash}");
}
