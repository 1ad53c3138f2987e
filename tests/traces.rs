//! Every committed regression trace (scenarios/traces) still replays to the violation it records.

use std::path::Path;

mod common;

#[test]
fn every_committed_trace_still_violates_what_it_says() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/traces");
    let mut traces: Vec<_> = std::fs::read_dir(&folder)
        .expect("scenarios/traces exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.to_string_lossy().ends_with(".trace.json"))
        .collect();
    traces.sort();
    assert!(
        traces.len() >= 6,
        "the regression traces are there: {traces:?}"
    );
    for trace in traces {
        let output = common::lockscope(
            Path::new(env!("CARGO_MANIFEST_DIR")),
            &["replay", trace.to_str().expect("a UTF-8 path")],
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}: the violation recurs (exit 1)\n{stdout}{}",
            trace.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("violated"), "{}: {stdout}", trace.display());
    }
}

/// Goal: the lock world's single-server behaviour is byte-identical across refactorings of the
/// model (the service interface of issue 19 first): same steps in the same order, same
/// sentences, same scenario fields. Method: check each bundled lock scenario whose trace is
/// committed here, as `lockscope check` does, and compare the trace it writes with the committed
/// file byte for byte.
#[test]
fn every_committed_lock_trace_is_regenerated_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut compared = 0;
    for entry in std::fs::read_dir(root.join("scenarios/traces")).expect("scenarios/traces exists")
    {
        let committed = entry.expect("readable").path();
        let name = committed
            .file_name()
            .and_then(|name| name.to_str())
            .expect("a UTF-8 name")
            .to_string();
        let Some((scenario, property)) = name
            .strip_suffix(".trace.json")
            .and_then(|stem| stem.split_once('.'))
        else {
            continue;
        };
        let relative = format!("lock/{scenario}.toml");
        if !root.join("scenarios").join(&relative).exists() {
            continue;
        }
        let (_outcome, reports) = common::check_bundled(&relative);
        let written = reports
            .path()
            .join(scenario)
            .join(format!("{property}.trace.json"));
        let written = std::fs::read(&written)
            .unwrap_or_else(|err| panic!("{relative} wrote no {}: {err}", written.display()));
        assert!(
            written == std::fs::read(&committed).expect("readable"),
            "{relative}: the regenerated trace differs from {name}"
        );
        compared += 1;
    }
    assert!(compared >= 11, "the lock traces are there: {compared}");
}
