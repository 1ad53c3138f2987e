//! The algorithm on hand-built graphs with known fair and unfair cycles, independent of any model.

use super::*;

/// Build a graph from (source, target, task) edges; action index = position among the source's edges.
fn graph(states: usize, edges: &[(u32, u32, Option<Task>)]) -> Graph {
    let mut sorted = edges.to_vec();
    sorted.sort_by_key(|&(s, _, _)| s);
    let mut g = Graph::default();
    let mut index = std::collections::HashMap::new();
    for (s, t, task) in sorted {
        let i: &mut u8 = index.entry(s).or_default();
        g.push_edge(s, t, *i, task);
        *i += 1;
    }
    g.finish(states);
    g
}

/// Follow a lasso's cycle from its entry; returns the states visited.
fn walk(g: &Graph, lasso: &Lasso) -> Vec<u32> {
    let mut at = lasso.entry;
    let mut visited = vec![at];
    for &action in &lasso.cycle {
        let e = g
            .edges(at)
            .find(|&e| g.action[e] == action)
            .expect("the action exists");
        at = g.target[e];
        visited.push(at);
    }
    visited
}

#[test]
fn no_pending_obligation_means_no_violation() {
    let g = graph(2, &[(0, 1, Some(0)), (1, 0, Some(0))]);
    assert_eq!(find_violation(&g, &[0, 0], 0), None);
}

#[test]
fn a_fair_cycle_where_the_obligation_stays_pending_is_found() {
    // 0 → 1 → 2 → 1 (tasks 0 and 1 alternate); obligation 0 pending in 1 and 2.
    let g = graph(3, &[(0, 1, Some(0)), (1, 2, Some(0)), (2, 1, Some(1))]);
    let lasso = find_violation(&g, &[0, 1, 1], 0).expect("violated");
    assert_eq!((lasso.obligation, lasso.entry), (0, 1));
    let visited = walk(&g, &lasso);
    assert_eq!(
        visited.first(),
        visited.last(),
        "the cycle returns to its entry"
    );
    assert!(visited.len() >= 2);
}

#[test]
fn a_cycle_that_starves_a_continuously_enabled_task_is_unfair() {
    // In 1 and 2 task 5 is always enabled (an edge to 3, where the obligation is met) but never
    // taken inside the cycle: weak fairness forces it, so the property holds.
    let g = graph(
        4,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 1, Some(0)),
            (1, 3, Some(5)),
            (2, 3, Some(5)),
            (3, 3, Some(0)),
        ],
    );
    assert_eq!(find_violation(&g, &[0, 1, 1, 0], 0), None);
}

#[test]
fn a_task_disabled_somewhere_on_the_cycle_need_not_be_taken() {
    // Task 5 leaves the cycle only from state 1; in state 2 it is disabled, so it is not
    // continuously enabled and the cycle is fair.
    let g = graph(
        4,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 1, Some(1)),
            (1, 3, Some(5)),
            (3, 3, Some(0)),
        ],
    );
    let lasso = find_violation(&g, &[0, 1, 1, 0], 0).expect("violated");
    let visited = walk(&g, &lasso);
    assert!(
        visited.contains(&2),
        "the fair cycle visits the state where task 5 is disabled: {visited:?}"
    );
}

#[test]
fn faults_are_not_fairness_obligations() {
    // The only way out of the cycle is a fault (no task): staying in the cycle is fair.
    let g = graph(3, &[(0, 0, Some(0)), (0, 1, None), (1, 1, Some(0))]);
    let lasso = find_violation(&g, &[1, 0, 0], 0).expect("violated");
    assert_eq!(lasso.entry, 0);
    assert_eq!(walk(&g, &lasso), vec![0, 0]);
}

#[test]
fn a_stuck_state_with_a_pending_obligation_is_a_stutter_lasso() {
    let g = graph(2, &[(0, 1, Some(0))]);
    assert_eq!(
        find_violation(&g, &[0, 1], 0),
        Some(Lasso {
            obligation: 0,
            entry: 1,
            cycle: vec![]
        })
    );
}

#[test]
fn leaving_the_pending_states_breaks_the_cycle() {
    // The cycle 1 → 2 → 1 passes through 2 where the obligation is met: no violation.
    let g = graph(3, &[(0, 1, Some(0)), (1, 2, Some(0)), (2, 1, Some(0))]);
    assert_eq!(find_violation(&g, &[0, 1, 0], 0), None);
}

#[test]
fn the_violation_with_the_earliest_entry_is_reported() {
    // Obligation 1 is violated from state 1, obligation 0 only from state 3.
    let g = graph(
        5,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 1, Some(0)),
            (0, 3, Some(1)),
            (3, 4, Some(0)),
            (4, 3, Some(0)),
        ],
    );
    let lasso = find_violation(&g, &[0, 2, 2, 1, 1], 0).expect("violated");
    assert_eq!((lasso.obligation, lasso.entry), (1, 1));
}

#[test]
fn the_reported_cycle_takes_every_task_that_stays_enabled() {
    // A component {1, 2, 3} where tasks 0, 1, 2 are enabled everywhere and each taken somewhere.
    let edges = [
        (0, 1, Some(0)),
        (1, 2, Some(0)),
        (1, 1, Some(1)),
        (1, 3, Some(2)),
        (2, 1, Some(0)),
        (2, 2, Some(1)),
        (2, 3, Some(2)),
        (3, 1, Some(0)),
        (3, 3, Some(1)),
        (3, 2, Some(2)),
    ];
    let g = graph(4, &edges);
    let lasso = find_violation(&g, &[0, 1, 1, 1], 0).expect("violated");
    let mut at = lasso.entry;
    let mut tasks = 0u64;
    for &action in &lasso.cycle {
        let e = g.edges(at).find(|&e| g.action[e] == action).unwrap();
        tasks |= 1 << g.task[e];
        at = g.target[e];
    }
    assert_eq!(tasks, 0b111);
    assert_eq!(at, lasso.entry);
}
