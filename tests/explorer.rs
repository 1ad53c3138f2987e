//! `lockscope explore` for real: the test starts the Explorer on a scenario, reads its HTTP API,
//! and, when Debian's `chromium` is installed (`.ci/run` installs it), loads the page in headless
//! Chromium, checks that the initial state and an action appear, and keeps a screenshot in
//! `target/tmp/explorer.png`. Without Chromium the browser test prints why it is skipped, except
//! under `CI=true`, where a missing browser fails it: a CI job must not pass by checking nothing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// The Explorer process, ended when the test ends (by its own handle, not by name).
struct Explorer {
    child: Child,
    port: u16,
}

impl Drop for Explorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(scenario: &str) -> Explorer {
    // A port the system says is free now.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args(["explore", scenario, "--port", &port.to_string()])
        // The Explorer serves a ./ui folder instead of its own files if there is one.
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lockscope explore starts");
    let explorer = Explorer { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the Explorer did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    explorer
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
    let initial: serde_json::Value =
        serde_json::from_str(&get(explorer.port, "/.states")).expect("JSON");
    let svg = initial[0]["svg"]
        .as_str()
        .expect("an SVG of the initial state");
    assert!(svg.contains(">C0: Init"), "{svg}");
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
    assert!(outcome.contains("C0: WaitCreated"), "{outcome}");
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
    assert!(
        dom.contains("C0: Init"),
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
