//! The standard recipe follows the benchmark workload (`docs/benchmark.md`)
//! state for state: its counts must equal those of an independent implementation of that text
//! (a separate Python explicit-state search, `tests/oracle/reference_oracle.py`).

use lockscope::search::{
    search, RandomOptions, SearchLimits, SearchOptions, Stop, Strategy, Verdict,
};
use lockscope_models::lock::{LockConfig, LockModel, Recipe};
use lockscope_models::prop;

fn reference(clients: u8, session_expiries: u8) -> LockModel {
    LockModel::new(LockConfig {
        session_expiries,
        ..LockConfig::new(Recipe::Standard, clients)
    })
    .expect("valid reference configuration")
}

fn options(strategy: Strategy, threads: usize) -> SearchOptions {
    SearchOptions {
        strategy,
        limits: SearchLimits::default(),
        threads,
        full_space: true,
        stop_at_first_violation: false,
        check_liveness: true,
        symmetry: false,
        swarm: None,
        random: RandomOptions::default(),
    }
}

/// (clients, expiries, unique states, transitions, max depth, mutual exclusion violated)
const ORACLE: &[(u8, u8, u64, u64, u32, bool)] = &[
    (1, 0, 9, 8, 8, false),
    (2, 0, 151, 260, 16, false),
    (3, 0, 3_831, 9_828, 24, false),
    (4, 0, 142_549, 488_296, 32, false),
    (2, 1, 749, 1_712, 16, true),
    (3, 1, 32_091, 100_653, 24, true),
];

#[test]
fn complete_counts_match_the_independent_oracle() {
    for &(clients, expiries, states, transitions, depth, violated) in ORACLE {
        for threads in [1, 2] {
            let report = search(
                &reference(clients, expiries),
                &options(Strategy::Bfs, threads),
                &mut |_| {},
            );
            let label = format!("N={clients} E={expiries} threads={threads}");
            assert_eq!(report.stop, Stop::Exhausted, "{label}");
            assert_eq!(report.unique_states, states, "{label}");
            assert_eq!(report.transitions, transitions, "{label}");
            assert_eq!(report.max_depth, depth, "{label}");
            let me = report.property(prop::MUTUAL_EXCLUSION).expect("declared");
            let expected = if violated {
                Verdict::Violated
            } else {
                Verdict::Holds
            };
            assert_eq!(me.verdict, expected, "{label}");
            assert_eq!(
                report
                    .property(prop::NO_DEADLOCK)
                    .expect("declared")
                    .verdict,
                Verdict::Holds,
                "{label}"
            );
            if violated {
                assert_eq!(
                    me.counterexample.as_ref().map(|c| c.steps.len()),
                    Some(11),
                    "{label}: shortest is 11 steps"
                );
            }
        }
    }
}

#[test]
fn depth_first_search_counts_the_same_space() {
    for &(clients, expiries, states, transitions, _, _) in &ORACLE[..5] {
        let report = search(
            &reference(clients, expiries),
            &options(Strategy::Dfs, 1),
            &mut |_| {},
        );
        assert_eq!(
            (report.unique_states, report.transitions),
            (states, transitions),
            "N={clients} E={expiries}"
        );
    }
}

#[test]
fn the_quick_benchmark_agrees_with_the_oracle_on_every_row() {
    let mut out = Vec::new();
    lockscope::bench::run(true, 2, None, &mut out);
    let text = String::from_utf8(out).expect("UTF-8");
    let rows: Vec<&str> = text.lines().skip(2).collect();
    assert_eq!(
        rows.len(),
        14,
        "N=2,3 safety and liveness, N=2,3 full space and first violation, N=2,3 E=0,1 symmetry, two ZAB rows:
{text}"
    );
    for row in rows {
        assert!(row.contains('✓') && !row.contains('✗'), "{row}");
    }
}
