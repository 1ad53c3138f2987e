//! Every bundled scenario is a test: it runs the real model end to end and must meet its own
//! `[expect]`. A failure names the file. Each trace written is replayed and must reproduce.

use std::path::{Path, PathBuf};

use lockscope::check::{self, RunOptions};
use lockscope::commands::scenario_files;
use lockscope::scenario::Scenario;
use lockscope::search::Verdict;

fn run(relative: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(relative);
    let scenario = Scenario::load(&file).unwrap_or_else(|err| panic!("{err}"));
    assert!(
        !scenario.description.trim().is_empty(),
        "{relative}: every bundled scenario teaches something"
    );
    assert!(
        !scenario.expect.is_empty(),
        "{relative}: every bundled scenario states its expectations"
    );
    let reports = tempfile::tempdir().expect("temporary folder");
    let options = RunOptions {
        threads: 2,
        full_space: false,
        report_dir: reports.path().to_path_buf(),
        only_run: None,
        shard: None,
        symmetry: false,
        reduction: Default::default(),
    };
    let outcome =
        check::run(&scenario, &file, &options, &mut |_| {}).expect("the run writes its traces");
    for property in &outcome.properties {
        if let Some(met) = property.expectation_met() {
            assert!(
                met,
                "{relative}: {} is {} but the scenario expects {:?}",
                property.name, property.verdict, property.expected
            );
        }
        if property.verdict == Verdict::Violated {
            let path = property
                .trace_path
                .as_ref()
                .expect("a violation has a trace");
            assert!(
                path.exists(),
                "{relative}: trace {} written",
                path.display()
            );
        }
    }
    assert!(outcome.ok(), "{relative}");
}

macro_rules! scenario_tests {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run($file);
            }
        )*

        /// Every file under scenarios/ has a test above, so none is silently left unchecked.
        const TESTED: &[&str] = &[$($file),*];
    };
}

scenario_tests! {
    lock_naive => "lock/naive.toml",
    lock_naive_two_clients => "lock/naive-two-clients.toml",
    lock_herd => "lock/herd.toml",
    lock_standard => "lock/standard.toml",
    lock_standard_repeated => "lock/standard-repeated.toml",
    lock_standard_expiry => "lock/standard-expiry.toml",
    lock_standard_pause_expiry => "lock/standard-pause-expiry.toml",
    lock_standard_retry => "lock/standard-retry.toml",
    lock_fenced_pause_expiry => "lock/fenced-pause-expiry.toml",
    lock_broken_unchecked_resource => "lock/broken-unchecked-resource.toml",
    lock_broken_skip_recheck => "lock/broken-skip-recheck.toml",
    lock_broken_watch_lowest => "lock/broken-watch-lowest.toml",
    lock_broken_lost_wakeup => "lock/broken-lost-wakeup.toml",
    lock_naive_forever => "lock/naive-forever.toml",
    lock_random_expiry => "lock/random-expiry.toml",
    lock_standard_orphan => "lock/standard-orphan.toml",
    lock_naive_connection_loss => "lock/naive-connection-loss.toml",
    lock_standard_forever => "lock/standard-forever.toml",
    lock_standard_forever_expiry => "lock/standard-forever-expiry.toml",
    lock_broken_unsynchronised_event_thread => "lock/broken-unsynchronised-event-thread.toml",
    lock_broken_node_version_token => "lock/broken-node-version-token.toml",
    lock_standard_partition => "lock/standard-partition.toml",
    lock_standard_crash => "lock/standard-crash.toml",
    lock_naive_crash => "lock/naive-crash.toml",
    lock_random_all_faults => "lock/random-all-faults.toml",
    lock_curator => "lock/curator.toml",
    lock_curator_orphan => "lock/curator-orphan.toml",
    lock_curator_crash => "lock/curator-crash.toml",
    lock_curator_partition => "lock/curator-partition.toml",
    lock_curator_expiry => "lock/curator-expiry.toml",
    ensemble_control => "ensemble/control.toml",
    ensemble_zk_1208 => "ensemble/zk-1208.toml",
    ensemble_zk_1208_fixed => "ensemble/zk-1208-fixed.toml",
    ensemble_leader_crash => "ensemble/leader-crash.toml",
    ensemble_minority_holder => "ensemble/minority-holder.toml",
    ensemble_minority_holder_curator => "ensemble/minority-holder-curator.toml",
    ensemble_minority_holder_curator_pause => "ensemble/minority-holder-curator-pause.toml",
    ensemble_minority_holder_fenced => "ensemble/minority-holder-fenced.toml",
    ensemble_minority_leader => "ensemble/minority-leader.toml",
    ensemble_holder_crash => "ensemble/holder-crash.toml",
    ensemble_zk_710 => "ensemble/zk-710.toml",
    ensemble_zk_710_fixed => "ensemble/zk-710-fixed.toml",
    zab_fixed => "zab/fixed.toml",
    zab_fixed_one_crash => "zab/fixed-one-crash.toml",
    zab_fixed_one_crash_queued => "zab/fixed-one-crash-queued.toml",
    zab_fixed_two_crashes => "zab/fixed-two-crashes.toml",
    zab_zk_4643 => "zab/zk-4643.toml",
    zab_zk_4646 => "zab/zk-4646.toml",
    zab_zk_4712 => "zab/zk-4712.toml",
    zab_zk_3911 => "zab/zk-3911.toml",
    zab_fixed_two_writes_one_crash => "zab/fixed-two-writes-one-crash.toml",
    zab_zk_4685 => "zab/zk-4685.toml",
    zab_zk_3023 => "zab/zk-3023.toml",
    zab_zk_4394 => "zab/zk-4394.toml",
    zab_zk_2845 => "zab/zk-2845.toml",
    zab_zk_2845_timeouts => "zab/zk-2845-timeouts.toml",
    zab_fixed_timeouts => "zab/fixed-timeouts.toml",
    zab_stale_ack_after_trunc => "zab/stale-ack-after-trunc.toml",
    zab_v3_6_3_9_1 => "zab/v3.6-3.9.1.toml",
    zab_v3_6_3_9_1_two_crashes => "zab/v3.6-3.9.1-two-crashes.toml",
    zab_v3_9_2 => "zab/v3.9.2.toml",
    zab_liveness_no_faults => "zab/liveness-no-faults.toml",
    zab_liveness_two_servers_crash => "zab/liveness-two-servers-crash.toml",
    zab_liveness_election_race => "zab/liveness-election-race.toml",
    zab_liveness_election_strong => "zab/liveness-election-strong.toml",
    zab_liveness_split_brain => "zab/liveness-split-brain.toml",
    zab_minority_partition => "zab/minority-partition.toml",
    zab_fle_fixed_one_crash => "zab/fle-fixed-one-crash.toml",
    zab_fle_zk_4712 => "zab/fle-zk-4712.toml",
    zab_fle_liveness_no_faults => "zab/fle-liveness-no-faults.toml",
    bench_reference_n2_e0 => "bench/reference-n2-e0.toml",
    bench_reference_n3_e0 => "bench/reference-n3-e0.toml",
    bench_reference_n4_e0 => "bench/reference-n4-e0.toml",
    bench_reference_n5_e0 => "bench/reference-n5-e0.toml",
    bench_reference_n2_e1 => "bench/reference-n2-e1.toml",
    bench_reference_n3_e1 => "bench/reference-n3-e1.toml",
    bench_reference_n4_e1 => "bench/reference-n4-e1.toml",
}

#[test]
fn every_bundled_scenario_has_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let files = scenario_files(std::slice::from_ref(&root)).expect("scenarios/ exists");
    let untested: Vec<PathBuf> = files
        .into_iter()
        .filter(|file| !TESTED.iter().any(|t| root.join(t) == *file))
        .collect();
    assert!(
        untested.is_empty(),
        "scenarios without a test in tests/scenarios.rs: {untested:?}"
    );
}
