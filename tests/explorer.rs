//! `lockscope explore` for real: the tests start the Explorer on a scenario or a counterexample
//! (`--trace`), read its HTTP API (the printed address's path replays the trace), and, when
//! Debian's `chromium` is installed (`.ci/run` installs it), load the page in headless Chromium:
//! the initial state and an action appear, a counterexample is stepped through, every property
//! is listed with its status in words, and a screenshot is kept in `target/tmp/explorer.png`. Without Chromium the browser test prints why it is skipped, except
//! under `CI=true`, where a missing browser fails it: a CI job must not pass by checking nothing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// The Explorer process, ended when the test ends (by its own handle, not by name), and the
/// folder it ran in, removed after it: its working directory and, as `TMPDIR`, where it writes
/// its page (a killed Explorer cannot remove that itself).
struct Explorer {
    child: Child,
    port: u16,
    _folder: tempfile::TempDir,
}

impl Drop for Explorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A page in the folder the Explorer is started from, which it must not serve.
const DECOY: &str = "<html><body>a ui folder where the command runs</body></html>";
const DECOY_TEXT: &str = "a ui folder where the command runs";

fn start(scenario: &str) -> Explorer {
    start_with(&[scenario]).0
}

/// Start `lockscope explore ARGS --port P`; returns the Explorer and what it printed on stdout
/// by the time it listened (the counterexample's address, with --trace).
fn start_with(args: &[&str]) -> (Explorer, String) {
    // A port the system says is free now.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let folder = tempfile::tempdir().expect("temporary folder");
    // stateright's Explorer serves a ./ui folder in place of its own page; lockscope's page must
    // not be replaced by one where the user runs the command.
    std::fs::create_dir_all(folder.path().join("ui")).expect("folder created");
    std::fs::write(folder.path().join("ui/index.htm"), DECOY).expect("written");
    let child = Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .arg("explore")
        .args(args)
        .args(["--port", &port.to_string()])
        .current_dir(folder.path())
        .env("TMPDIR", folder.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("lockscope explore starts");
    let mut explorer = Explorer {
        child,
        port,
        _folder: folder,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the Explorer did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The address is printed before the server listens; the pipe stays open while it serves, so
    // read the one line rather than to the end.
    let mut printed = String::new();
    if args.contains(&"--trace") {
        let stdout = explorer.child.stdout.take().expect("stdout is piped");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut printed)
            .expect("the address is printed");
    }
    (explorer, printed)
}

/// A plain HTTP/1.0 GET on the loopback address; returns the body. A server that has just
/// started listening may close or reset a connection before answering (seen on a loaded machine),
/// so the request is repeated until an answer comes, for up to 20 seconds.
fn get(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let response = loop {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout set");
        let mut response = String::new();
        let exchange = write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .and_then(|()| stream.read_to_string(&mut response));
        if exchange.is_ok() && response.contains("\r\n\r\n") {
            break response;
        }
        assert!(
            Instant::now() < deadline,
            "no answer to GET {path} within 20 s (last: {exchange:?}, {response:?})"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200 "),
        "{head}"
    );
    body.to_string()
}

fn scenario(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(relative)
        .display()
        .to_string()
}

#[test]
fn the_explorer_serves_readable_states_and_actions() {
    let explorer = start(&scenario("lock/standard-expiry.toml"));
    let page = get(explorer.port, "/");
    assert!(
        page.contains("<title>lockscope Explorer</title>") && !page.contains(DECOY_TEXT),
        "{page}"
    );
    let initial: serde_json::Value =
        serde_json::from_str(&get(explorer.port, "/.states")).expect("JSON");
    let svg = initial[0]["svg"]
        .as_str()
        .expect("an SVG of the initial state");
    // The state in the narrative's words, not the model's internal names (Init, WaitCreated).
    assert!(svg.contains(">C0 is idle (not acquiring)"), "{svg}");
    let next: serde_json::Value =
        serde_json::from_str(&get(explorer.port, "/.states/0")).expect("JSON");
    let actions: Vec<&str> = next
        .as_array()
        .expect("a list of steps")
        .iter()
        .filter_map(|step| step["action"].as_str())
        .collect();
    assert!(actions.contains(&"C0 starts to acquire"), "{actions:?}");
    let outcome = next[0]["outcome"]
        .as_str()
        .expect("the state after the step");
    assert!(outcome.contains("C0 waits for its create"), "{outcome}");
    assert!(!outcome.contains("WaitCreated"), "{outcome}");
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
    })
}

fn headless(chromium: &Path, args: &[&str]) -> std::process::Output {
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
        ])
        .args(args)
        .output()
        .expect("chromium runs")
}

#[test]
fn the_explorer_page_shows_the_initial_state_and_an_action_in_chromium() {
    let Some(chromium) = chromium() else {
        assert!(
            !common::in_ci(),
            "chromium is not installed, and under CI=true the browser test may not be skipped \
             (apt-get install -y chromium; .ci/run does)"
        );
        eprintln!("skipped: chromium is not installed (apt-get install -y chromium; .ci/run does)");
        return;
    };
    let explorer = start(&scenario("lock/standard-expiry.toml"));
    let url = format!("http://127.0.0.1:{}/#/steps/0", explorer.port);
    let output = headless(&chromium, &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(!dom.contains(DECOY_TEXT), "{dom}");
    assert!(
        dom.contains("C0 is idle (not acquiring)"),
        "the initial state is shown:\n{dom}"
    );
    assert!(
        dom.contains("C0 starts to acquire"),
        "an action is offered:\n{dom}"
    );
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("explorer.png");
    let _ = std::fs::remove_file(&screenshot);
    let output = headless(
        &chromium,
        &[
            "--window-size=1280,900",
            &format!("--screenshot={}", screenshot.display()),
            &url,
        ],
    );
    let size = std::fs::metadata(&screenshot).map_or(0, |m| m.len());
    assert!(
        size > 10_000,
        "a screenshot of the page ({size} bytes): {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A counterexample of the bundled standard-expiry scenario, written by `lockscope check` into a
/// temporary folder that lives as long as the returned handle.
fn counterexample() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let output = common::lockscope(
        dir.path(),
        &[
            "check",
            &scenario("lock/standard-expiry.toml"),
            "--quiet",
            "--report",
            "reports",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    let trace = dir
        .path()
        .join("reports/standard-expiry/mutual_exclusion.trace.json");
    assert!(trace.is_file(), "check wrote {}", trace.display());
    (dir, trace)
}

/// The path of action indices in a printed address `http://.../#/steps/0/3/1?offset=2`.
fn address_path(address: &str) -> (Vec<usize>, usize) {
    let (_, steps) = address
        .trim()
        .split_once("/#/steps/")
        .unwrap_or_else(|| panic!("an Explorer address: {address:?}"));
    let (path, offset) = steps.split_once("?offset=").expect("an offset");
    let path = path
        .split('/')
        .map(|index| index.parse().expect("an action index"))
        .collect();
    (path, offset.parse().expect("a number of steps"))
}

#[test]
fn explore_trace_prints_an_address_whose_path_replays_the_counterexample() {
    let (_dir, file) = counterexample();
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("readable")).expect("JSON");
    let steps = trace["steps"].as_array().expect("steps");
    let (explorer, printed) = start_with(&["--trace", &file.display().to_string()]);
    assert!(
        printed.starts_with(&format!("http://127.0.0.1:{}/#/steps/", explorer.port)),
        "{printed:?}"
    );
    let (path, offset) = address_path(&printed);
    // One index for the initial state, one per step; opened on the initial state.
    assert_eq!(path.len(), steps.len() + 1, "{printed}");
    assert_eq!(offset, steps.len(), "{printed}");
    // Each index chooses, among the steps the Explorer offers after the path so far, the trace's
    // action; the last state is the violation: two clients hold the lock.
    let mut last_outcome = String::new();
    for (k, step) in steps.iter().enumerate() {
        let prefix: Vec<String> = path[..=k].iter().map(|i| i.to_string()).collect();
        let offered: serde_json::Value = serde_json::from_str(&get(
            explorer.port,
            &format!("/.states/{}", prefix.join("/")),
        ))
        .expect("JSON");
        let chosen = offered
            .as_array()
            .expect("a list of steps")
            .iter()
            .find(|offer| offer["actionIndex"] == path[k + 1])
            .unwrap_or_else(|| panic!("step {}: index {} is offered", k + 1, path[k + 1]));
        let action: lockscope_models::lock::LockAction =
            serde_json::from_value(step["action"].clone()).expect("a lock action");
        assert_eq!(
            chosen["action"].as_str(),
            Some(action.to_string().as_str()),
            "step {}",
            k + 1
        );
        last_outcome = chosen["outcome"].as_str().expect("a state").to_string();
    }
    assert_eq!(
        last_outcome.matches("HOLDS THE LOCK").count(),
        2,
        "{last_outcome}"
    );
}

/// `lockscope explore --trace FILE` on a trace it must refuse: exit 2, and its message, which
/// names the file.
fn refused_trace(file: &Path) -> String {
    let dir = file.parent().expect("a folder");
    let file = file.display().to_string();
    let output = common::lockscope(dir, &["explore", "--trace", &file, "--port", "0"]);
    let stderr = common::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("lockscope: {file}")),
        "{stderr}"
    );
    stderr
}

#[test]
fn explore_trace_refuses_a_corrupt_missing_or_diverging_trace_with_exit_2() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let corrupt = dir.path().join("corrupt.trace.json");
    std::fs::write(&corrupt, "{\"format\": \"lockscope-trace/1\", \"steps\": [").expect("written");
    let stderr = refused_trace(&corrupt);
    assert!(stderr.contains("not a lockscope trace"), "{stderr}");
    let stderr = refused_trace(&dir.path().join("missing.trace.json"));
    assert!(stderr.contains("cannot read the trace"), "{stderr}");
    // A trace whose step is not enabled (here the first step is dropped) diverges.
    let (_reports, file) = counterexample();
    let mut trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("readable")).expect("JSON");
    trace["steps"].as_array_mut().expect("steps").remove(0);
    let diverging = dir.path().join("diverging.trace.json");
    std::fs::write(&diverging, trace.to_string()).expect("written");
    let stderr = refused_trace(&diverging);
    assert!(stderr.contains(": divergence: "), "{stderr}");
}

#[test]
fn the_explorer_page_steps_through_a_counterexample_in_chromium() {
    let Some(chromium) = chromium() else {
        assert!(
            !common::in_ci(),
            "chromium is not installed, and under CI=true the browser test may not be skipped"
        );
        eprintln!("skipped: chromium is not installed (apt-get install -y chromium; .ci/run does)");
        return;
    };
    let (_dir, file) = counterexample();
    let (_explorer, printed) = start_with(&["--trace", &file.display().to_string()]);
    let address = printed.trim();
    let (path, steps) = address_path(address);
    let base = address.split_once("?offset=").expect("an offset").0;
    let dom_at = |offset: usize| {
        let output = headless(
            &chromium,
            &["--dump-dom", &format!("{base}?offset={offset}")],
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // Opened on the initial state, with the whole path listed and the next step offered.
    let dom = dom_at(steps);
    assert!(dom.contains(">Initial state<"), "{dom}");
    assert!(
        dom.contains(&format!("initial state ({steps} steps on the path)")),
        "{dom}"
    );
    assert!(dom.contains("C0 is idle (not acquiring)"), "{dom}");
    assert!(dom.contains("(the next step on this path)"), "{dom}");
    // Every property is listed with its status in words: the liveness property too, as decided
    // elsewhere, and no emoji (which show as empty boxes without an emoji font).
    assert!(dom.contains("mutual_exclusion</a>"), "{dom}");
    assert!(
        dom.contains("every_waiter_acquires</span><span class=\"summary\"> (liveness): not decided here; checked by lockscope check"),
        "{dom}"
    );
    for emoji in ['\u{26a0}', '\u{2705}', '\u{1f50e}', '\u{2b06}', '\u{2b07}'] {
        assert!(!dom.contains(emoji), "{emoji} in {dom}");
    }
    // Step forward along it: halfway, then the violation, where both clients hold the lock.
    let dom = dom_at(steps - 6);
    assert!(dom.contains(&format!("after step 6 of {steps}")), "{dom}");
    assert!(dom.contains(">After step 6: S → C0 Children [0]<"), "{dom}");
    // The counterexample's diagram is beside the state, its step-6 row highlighted; on the
    // initial state nothing is.
    let highlight = |dom: &str| -> String {
        let rect = dom
            .split("<rect class=\"current-row\"")
            .nth(1)
            .expect("the diagram's highlight");
        rect.split('>').next().expect("closed").to_string()
    };
    assert!(dom.contains("<div id=\"diagram\" class=\"fit\">"), "{dom}");
    assert!(
        dom.contains("<button id=\"large\" type=\"button\""),
        "a Large type button: {dom}"
    );
    assert!(
        !highlight(&dom).contains("height=\"0\""),
        "{}",
        highlight(&dom)
    );
    assert!(highlight(&dom_at(steps)).contains("height=\"0\""));
    let dom = dom_at(0);
    assert!(
        dom.contains(&format!("after step {steps} of {steps}")),
        "{dom}"
    );
    assert_eq!(dom.matches(">C1 HOLDS THE LOCK").count(), 1, "{dom}");
    assert_eq!(dom.matches(">C0 HOLDS THE LOCK").count(), 1, "{dom}");
    assert_eq!(path.len(), steps + 1);
}
