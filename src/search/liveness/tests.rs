//! The algorithm on hand-built graphs with known fair and unfair cycles, independent of any model.

use std::io::Write;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use super::*;

/// `find_violation` in a thread of its own, given up on after 30 seconds (these graphs take
/// microseconds). A bug that makes the search loop forever (a split that removes no state, a
/// Tarjan step that does not advance) would otherwise hang the suite until CI's limit, and a
/// panic is not enough: the test harness still waits for the looping thread, and for any other
/// test caught in the same loop. So a timeout ends the whole test process, with the reason on
/// stderr. A panic in the thread is raised again here with its own message.
fn violation(g: &Graph, pending: &[u64], strong: u64) -> Option<Lasso> {
    violation_blocked(g, pending, strong, &[])
}

/// The bound every state in `blocked` is blocked by, in [`violation_blocked`].
const EPOCHS: Bound = Bound {
    key: "epochs",
    value: 2,
};

/// [`violation`] where the states in `blocked` are stuck only because of [`EPOCHS`].
fn violation_blocked(g: &Graph, pending: &[u64], strong: u64, blocked: &[u32]) -> Option<Lasso> {
    let (g, pending, blocked) = (g.clone(), pending.to_vec(), blocked.to_vec());
    let (send, receive) = std::sync::mpsc::channel();
    let search = std::thread::spawn(move || {
        let mut bound = |s: u32| blocked.contains(&s).then_some(EPOCHS);
        let _ = send.send(find_violation(&g, &pending, strong, &mut bound));
    });
    match receive.recv_timeout(Duration::from_secs(30)) {
        Ok(lasso) => lasso,
        Err(RecvTimeoutError::Timeout) => {
            // Straight to the process's stderr: the harness's capture would be lost on exit.
            let _ = writeln!(
                std::io::stderr(),
                "find_violation did not end within 30 s: ending the test process"
            );
            std::process::exit(1)
        }
        Err(RecvTimeoutError::Disconnected) => match search.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the search sends its result before it ends"),
        },
    }
}

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
    assert_eq!(violation(&g, &[0, 0], 0), None);
}

#[test]
fn a_fair_cycle_where_the_obligation_stays_pending_is_found() {
    // 0 → 1 → 2 → 1 (tasks 0 and 1 alternate); obligation 0 pending in 1 and 2.
    let g = graph(3, &[(0, 1, Some(0)), (1, 2, Some(0)), (2, 1, Some(1))]);
    let lasso = violation(&g, &[0, 1, 1], 0).expect("violated");
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
    assert_eq!(violation(&g, &[0, 1, 1, 0], 0), None);
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
    let lasso = violation(&g, &[0, 1, 1, 0], 0).expect("violated");
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
    let lasso = violation(&g, &[1, 0, 0], 0).expect("violated");
    assert_eq!(lasso.entry, 0);
    assert_eq!(walk(&g, &lasso), vec![0, 0]);
}

#[test]
fn a_stuck_state_with_a_pending_obligation_is_a_stutter_lasso() {
    let g = graph(2, &[(0, 1, Some(0))]);
    assert_eq!(
        violation(&g, &[0, 1], 0),
        Some(Lasso {
            obligation: 0,
            entry: 1,
            cycle: vec![],
            bound: None,
        })
    );
}

#[test]
fn leaving_the_pending_states_breaks_the_cycle() {
    // The cycle 1 → 2 → 1 passes through 2 where the obligation is met: no violation.
    let g = graph(3, &[(0, 1, Some(0)), (1, 2, Some(0)), (2, 1, Some(0))]);
    assert_eq!(violation(&g, &[0, 1, 0], 0), None);
}

/// From state 0, task 0 leads to the cycle 1 ⇄ 2 and task 1 to the cycle 3 ⇄ 4: a pending
/// obligation is violated from whichever cycle's states it is pending in.
fn two_cycles_entered_at_1_and_3() -> Graph {
    graph(
        5,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 1, Some(0)),
            (0, 3, Some(1)),
            (3, 4, Some(0)),
            (4, 3, Some(0)),
        ],
    )
}

#[test]
fn the_violation_with_the_earliest_entry_is_reported() {
    // Obligation 1 is violated from state 1, obligation 0 only from state 3.
    let g = two_cycles_entered_at_1_and_3();
    let lasso = violation(&g, &[0, 2, 2, 1, 1], 0).expect("violated");
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
    let lasso = violation(&g, &[0, 1, 1, 1], 0).expect("violated");
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

#[test]
fn a_cycle_takes_the_only_task_rather_than_a_fault_beside_it() {
    // The component {1, 2}: faults lead 1 → 2 → 1, and task 0, enabled in both, is taken only by
    // 1's self-loop (from 2 it leaves towards 3, where the obligation is met). The fault edges
    // come first in 1's list, so a cycle that skipped the component's one task, or took any edge
    // but task 0's, would be the faults' loop: unfair, task 0 starved.
    let edges = [
        (0, 1, Some(0)),
        (1, 2, None),
        (1, 1, Some(0)),
        (2, 1, None),
        (2, 3, Some(0)),
        (3, 3, Some(0)),
    ];
    let g = graph(4, &edges);
    let lasso = violation(&g, &[0, 1, 1, 0], 0).expect("violated");
    assert_eq!(lasso.entry, 1);
    assert!(fair_under(&g, &lasso, 0), "cycle {:?}", lasso.cycle);
}

#[test]
fn paths_inside_a_component_are_shortest() {
    // 0 → 1 → 2 → 3 and 0 → 2: the way to 3 is through 2, reached first straight from 0. A search
    // that let 1 become 2's parent again (a state visited twice) would go 0 → 1 → 2 → 3.
    let g = graph(
        4,
        &[
            (0, 1, Some(0)),
            (0, 2, Some(0)),
            (1, 2, Some(0)),
            (2, 3, Some(0)),
        ],
    );
    let (path, end) = path_to_state(&g, 0, &|_| true, &|s| s == 3);
    assert_eq!((path, end), (vec![1, 0], 3));
}

#[test]
fn a_cycle_visits_a_state_where_a_task_it_never_takes_is_disabled() {
    // The component {1, 2}: task 0 loops on 1, faults lead 1 → 2 → 1, and task 1 is enabled in 1
    // only (it leaves towards 3, where the obligation is met). A fair cycle may leave task 1
    // untaken only by passing through 2, where it is disabled; 1's self-loop alone starves it.
    let edges = [
        (0, 1, Some(0)),
        (1, 1, Some(0)),
        (1, 2, None),
        (1, 3, Some(1)),
        (2, 1, None),
        (3, 3, Some(0)),
    ];
    let g = graph(4, &edges);
    let lasso = violation(&g, &[0, 1, 1, 0], 0).expect("violated");
    assert!(walk(&g, &lasso).contains(&2), "cycle {:?}", lasso.cycle);
    assert!(fair_under(&g, &lasso, 0), "cycle {:?}", lasso.cycle);
}

/// Whether `lasso`'s cycle is fair: every weak task enabled in all its states is taken on it,
/// and every strong task enabled in some state of it is taken on it.
fn fair_under(g: &Graph, lasso: &Lasso, strong: u64) -> bool {
    let visited = walk(g, lasso);
    let states = &visited[..visited.len() - 1];
    let mut at = lasso.entry;
    let mut taken = 0u64;
    for &action in &lasso.cycle {
        let e = g.edges(at).find(|&e| g.action[e] == action).unwrap();
        if g.task[e] != NO_TASK {
            taken |= 1 << g.task[e];
        }
        at = g.target[e];
    }
    let everywhere = states.iter().fold(u64::MAX, |all, &s| all & g.enabled(s));
    let somewhere = states.iter().fold(0, |any, &s| any | g.enabled(s));
    everywhere & !strong & !taken == 0 && somewhere & strong & !taken == 0
}

/// The cycle 1 → 2 → 1 (task 0) where task 5 leaves towards the goal from state 1 only: weak
/// fairness lets the cycle starve it (it is disabled in 2), strong fairness does not (it is
/// enabled again and again).
fn intermittently_enabled_exit() -> Graph {
    graph(
        4,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 1, Some(0)),
            (1, 3, Some(5)),
            (3, 3, Some(0)),
        ],
    )
}

#[test]
fn a_task_enabled_again_and_again_breaks_the_cycle_only_under_strong_fairness() {
    let g = intermittently_enabled_exit();
    let pending = [0, 1, 1, 0];
    let weak = violation(&g, &pending, 0).expect("weakly fair cycle");
    assert!(fair_under(&g, &weak, 0));
    assert_eq!(violation(&g, &pending, 1 << 5), None);
    // Strong fairness of a task that is not the way out changes nothing.
    assert!(violation(&g, &pending, 1 << 0).is_some());
}

#[test]
fn a_strong_task_taken_on_the_cycle_keeps_it_fair() {
    // Task 5 is enabled only in 1 and taken inside (1 → 2), besides leaving to 3.
    let g = graph(
        4,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(5)),
            (2, 1, Some(0)),
            (1, 3, Some(5)),
            (3, 3, Some(0)),
        ],
    );
    let lasso = violation(&g, &[0, 1, 1, 0], 1 << 5).expect("still violated");
    assert!(fair_under(&g, &lasso, 1 << 5));
}

#[test]
fn a_weak_task_that_stays_enabled_is_not_excused_by_strong_fairness_elsewhere() {
    // The other direction: a cycle fair under strong fairness of task 5 (never enabled on it)
    // but not under weak fairness of task 6, which stays enabled on it and is never taken.
    let g = graph(
        4,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 1, Some(0)),
            (1, 3, Some(6)),
            (2, 3, Some(6)),
            (3, 3, Some(0)),
        ],
    );
    let pending = [0, 1, 1, 0];
    assert_eq!(violation(&g, &pending, 0), None);
    assert_eq!(violation(&g, &pending, 1 << 5), None);
    // Made strong, task 6 is still enabled on the cycle and never taken: no violation either.
    assert_eq!(violation(&g, &pending, 1 << 6), None);
}

#[test]
fn removing_the_states_of_a_starved_strong_task_can_leave_a_fair_inner_cycle() {
    // One component {1, 2, 3, 4}: the loop 1 → 2 → 3 → 1 passes through 3, where strong task 5
    // is enabled (and leads out to 5); the loop 1 → 4 → 1 never enables it. The split removes
    // 3; then 2 is on no cycle, and {1, 4} is the fair part.
    let g = graph(
        6,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 3, Some(0)),
            (3, 1, Some(0)),
            (3, 5, Some(5)),
            (1, 4, Some(1)),
            (4, 1, Some(1)),
            (5, 5, Some(0)),
        ],
    );
    let pending = [0, 1, 1, 1, 1, 0];
    let lasso = violation(&g, &pending, 1 << 5).expect("the inner cycle is fair");
    assert!(fair_under(&g, &lasso, 1 << 5));
    let visited = walk(&g, &lasso);
    assert!(
        !visited.contains(&3),
        "the cycle avoids state 3: {visited:?}"
    );
    assert!(visited.contains(&4), "{visited:?}");
}

#[test]
fn splits_recurse_until_every_strong_task_is_taken_or_absent() {
    // Component {1, 2, 3, 4}. Strong task 5 is enabled only in 4 (leading out), strong task 6
    // in 3 (leading out) and also on the edge 4 → 3 inside. So only task 5 is starved at
    // first: the split removes 4. What is left, {1, 2, 3}, is strongly connected but now
    // starves task 6 (its only inside edge went with 4): a second split removes 3 and leaves
    // {1, 2}, which is fair. With task 6 also on the edge 3 → 1, {1, 2, 3} is fair after one split.
    let edges = |six_inside: bool| {
        vec![
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (1, 4, Some(0)),
            (2, 1, Some(0)),
            (2, 3, Some(0)),
            (3, 1, Some(if six_inside { 6 } else { 0 })),
            (3, 5, Some(6)),
            (4, 3, Some(6)),
            (4, 5, Some(5)),
            (5, 5, Some(0)),
        ]
    };
    let pending = [0, 1, 1, 1, 1, 0];
    let strong = (1 << 5) | (1 << 6);
    let g = graph(6, &edges(false));
    let lasso = violation(&g, &pending, strong).expect("{1, 2} is fair");
    let visited = walk(&g, &lasso);
    assert!(fair_under(&g, &lasso, strong));
    assert!(visited.iter().all(|s| [1, 2].contains(s)), "{visited:?}");
    let g = graph(6, &edges(true));
    let lasso = violation(&g, &pending, strong).expect("{1, 2, 3} is fair");
    assert!(fair_under(&g, &lasso, strong));
    let visited = walk(&g, &lasso);
    assert!(visited.contains(&3) && !visited.contains(&4), "{visited:?}");
}

#[test]
fn a_split_that_leaves_no_cycle_means_no_violation() {
    // The only cycle passes through 2, where strong task 5 is enabled and leads out.
    let g = graph(
        4,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 1, Some(0)),
            (2, 3, Some(5)),
            (3, 3, Some(0)),
        ],
    );
    assert!(violation(&g, &[0, 1, 1, 0], 0).is_some());
    assert_eq!(violation(&g, &[0, 1, 1, 0], 1 << 5), None);
}

/// A pending obligation that is violated both ways: by a state where no task is enabled (a stutter
/// lasso) and by a fair cycle. Whichever the breadth-first search reached first is the entry (its
/// stem is the shorter), and the lasso is the kind that belongs to that entry: a cycle inside the
/// component from the cycle's entry, an empty cycle at the stuck state. Each graph is also built
/// with the two branches' state ids swapped, so an entry chosen by anything but "least id" fails.
#[test]
fn the_earliest_entry_decides_between_a_stuck_state_and_a_fair_cycle() {
    // From 0: task 0 leads to `cycle`, which loops with `cycle + 1`; task 1 leads to `stuck`,
    // which has no step at all. Everything but 0 keeps the obligation pending.
    let world = |cycle: u32, stuck: u32| {
        graph(
            4,
            &[
                (0, cycle, Some(0)),
                (cycle, cycle + 1, Some(0)),
                (cycle + 1, cycle, Some(0)),
                (0, stuck, Some(1)),
            ],
        )
    };
    let pending = [0, 1, 1, 1];
    // The cycle {1, 2} comes first: its lasso enters at 1 and goes round inside it.
    let g = world(1, 3);
    let lasso = violation(&g, &pending, 0).expect("violated");
    assert_eq!((lasso.obligation, lasso.entry), (0, 1));
    assert_eq!(
        walk(&g, &lasso),
        vec![1, 2, 1],
        "round the cycle, not a stutter"
    );
    // The stuck state 1 comes first: a stutter there, not a cycle (and not a cycle built from 1
    // through a component it is not part of).
    let g = world(2, 1);
    assert_eq!(
        violation(&g, &pending, 0),
        Some(Lasso {
            obligation: 0,
            entry: 1,
            cycle: vec![],
            bound: None,
        })
    );
}

/// Among obligations violated from the same entry the lowest is reported, and a violation whose
/// entry comes later never replaces one found for a lower obligation: the comparison of entries
/// is strict one way and not the other.
#[test]
fn ties_go_to_the_lowest_obligation_and_later_entries_never_win() {
    // The cycle {1, 2} keeps both obligations pending.
    let g = graph(3, &[(0, 1, Some(0)), (1, 2, Some(0)), (2, 1, Some(0))]);
    let lasso = violation(&g, &[0, 0b11, 0b11], 0).expect("violated");
    assert_eq!((lasso.obligation, lasso.entry), (0, 1));
    // Obligation 0 is violated from 1, obligation 1 only from 3 (the mirror image of
    // `the_violation_with_the_earliest_entry_is_reported`).
    let g = two_cycles_entered_at_1_and_3();
    let lasso = violation(&g, &[0, 1, 1, 2, 2], 0).expect("violated");
    assert_eq!((lasso.obligation, lasso.entry), (0, 1));
}

/// A fair cycle entered from a pending state that is on no cycle: Tarjan's search reaches the
/// cycle from outside it, and only distinct indices for the cycle's states keep it one component
/// (with equal ones it falls apart into single states and the violation is missed).
#[test]
fn a_cycle_entered_from_a_pending_state_outside_it_is_found() {
    let g = graph(
        4,
        &[
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 3, Some(0)),
            (3, 2, Some(0)),
        ],
    );
    let lasso = violation(&g, &[0, 1, 1, 1], 0).expect("violated");
    assert_eq!((lasso.obligation, lasso.entry), (0, 2));
    assert_eq!(walk(&g, &lasso), vec![2, 3, 2]);
}

#[test]
fn a_stuck_state_that_only_a_bound_blocks_is_a_bounded_lasso() {
    let g = graph(2, &[(0, 1, Some(0))]);
    assert_eq!(
        violation_blocked(&g, &[0, 1], 0, &[1]),
        Some(Lasso {
            obligation: 0,
            entry: 1,
            cycle: vec![],
            bound: Some(EPOCHS),
        })
    );
}

#[test]
fn a_genuine_violation_wins_over_an_earlier_bounded_one() {
    // 0 → 1 (stuck, blocked by the bound) and 0 → 2 ⇄ 3 (a fair cycle no bound explains), all
    // pending: the cycle is reported though its entry comes later.
    let g = graph(
        4,
        &[
            (0, 1, Some(0)),
            (0, 2, Some(0)),
            (2, 3, Some(1)),
            (3, 2, Some(1)),
        ],
    );
    let lasso = violation_blocked(&g, &[1, 1, 1, 1], 0, &[1]).expect("violated");
    assert_eq!((lasso.entry, lasso.bound), (2, None));
    assert_eq!(walk(&g, &lasso), vec![2, 3, 2]);
}

#[test]
fn a_cycle_is_bounded_only_when_the_bound_blocks_every_state_of_it() {
    let g = graph(3, &[(0, 1, Some(0)), (1, 2, Some(1)), (2, 1, Some(1))]);
    let pending = [1, 1, 1];
    let partly = violation_blocked(&g, &pending, 0, &[1]).expect("violated");
    assert_eq!((partly.entry, partly.bound), (1, None));
    let whole = violation_blocked(&g, &pending, 0, &[1, 2]).expect("violated");
    assert_eq!((whole.entry, whole.bound), (1, Some(EPOCHS)));
}
