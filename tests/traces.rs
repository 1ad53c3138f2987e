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
