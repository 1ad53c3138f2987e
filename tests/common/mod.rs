//! What the integration tests that run the real binary share: running it, and reading its
//! output. Each test crate uses a part of it, so unused parts are not an error there.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Run `lockscope args` in `dir`.
pub fn lockscope(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// Run `lockscope args` in `dir` and insist on a result (exit 0 or 1), not an input error.
pub fn lockscope_result(dir: &Path, args: &[&str]) -> Output {
    let output = lockscope(dir, args);
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&output)
    );
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Run `work` in a thread of its own and give up on it after `limit`, so that a search that
/// loops forever (a broken strong-fairness split, say) fails within minutes instead of hanging
/// the suite until CI's own limit. A panic would not do: the test harness still waits for the
/// looping thread, so a timeout ends the whole test process, with the reason on stderr. A panic
/// in the thread is raised again here with its own message.
pub fn within<T: Send + 'static>(
    limit: std::time::Duration,
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = send.send(work());
    });
    match receive.recv_timeout(limit) {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            // Straight to the process's stderr: the harness's capture would be lost on exit.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("{what} did not end within {limit:?}: ending the test process\n")
                    .as_bytes(),
            );
            std::process::exit(1)
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends its result before it ends"),
        },
    }
}

/// Whether the tests run in CI (`CI=true`, as GitHub Actions, GitLab and `.ci/run` set it; any
/// value but empty, `false` or `0`). There nothing may be skipped for a missing tool, and nothing
/// the tests compare with may be rewritten by them.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.as_str(), "" | "false" | "0"))
}

/// Whether python3 runs, for a test that re-runs an independent Python oracle. Under `CI=true`
/// its absence fails the test; elsewhere the test is skipped with a message.
pub fn python3_runs() -> bool {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        !in_ci(),
        "python3 is missing, and under CI=true the oracle may not be skipped"
    );
    eprintln!("skipped: python3 is not installed, the oracle cannot run");
    false
}

/// Check the bundled scenario `scenarios/<relative>` end to end (search, traces, reports) as
/// `lockscope check` does with its defaults and two threads, its traces in a temporary folder
/// that lives as long as the returned handle.
pub fn check_bundled(relative: &str) -> (lockscope::check::ScenarioOutcome, tempfile::TempDir) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(relative);
    let scenario = lockscope::scenario::Scenario::load(&file).unwrap_or_else(|err| panic!("{err}"));
    check_scenario(&scenario, &file)
}

/// Check `scenario` (read from `file`) as [`check_bundled`] does.
pub fn check_scenario(
    scenario: &lockscope::scenario::Scenario,
    file: &Path,
) -> (lockscope::check::ScenarioOutcome, tempfile::TempDir) {
    let reports = tempfile::tempdir().expect("temporary folder");
    let options = run_options(reports.path(), Default::default());
    let outcome = lockscope::check::run(scenario, file, &options, &mut |_| {})
        .expect("the run writes its traces");
    (outcome, reports)
}

/// A `check` run on two threads that writes its traces under `reports`, with `reduction`.
pub fn run_options(
    reports: &Path,
    reduction: lockscope::search::Reduction,
) -> lockscope::check::RunOptions {
    lockscope::check::RunOptions {
        threads: 2,
        full_space: false,
        report_dir: reports.to_path_buf(),
        only_run: None,
        shard: None,
        symmetry: false,
        reduction,
    }
}
