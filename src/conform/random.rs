//! `lockscope conform --random SCENARIO`: model-based testing. Seeded random runs of the
//! scenario's model (the random search's own walks, each to its end, past any violation) are
//! replayed against the real server, and every step compared, not just counterexamples.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use lockscope_models::ensemble::EnsembleStep;
use lockscope_models::lock::{LockAction, LockModel, LockState, Msg};
use lockscope_models::ActorId;
use lockscope_models::Explain;
use stateright::Model;

use super::replay::{self, Ending, Replayed, RunReport};
use crate::cli::ConformArgs;
use crate::scenario::Scenario;
use crate::search::RandomOptions;

/// What the random runs gave.
#[derive(serde::Serialize)]
struct RandomResult {
    scenario: String,
    seed: u64,
    runs: u32,
    matched: u32,
    diverged: u32,
    unrealisable: u32,
    /// Steps replayed, and the faults among them by kind.
    steps: usize,
    faults: BTreeMap<&'static str, usize>,
    /// On an ensemble: the steps the servers took among themselves (packets released between
    /// them, the leader's own writes), and the reads answered by a server behind the leader.
    server_steps: usize,
    reads_behind_leader: usize,
    mean_millis: f64,
    /// Every run that did not match, in full, with its run number.
    failures: Vec<(u32, RunReport)>,
}

pub fn run(args: &ConformArgs, file: &Path) -> Result<u8, String> {
    let scenario = Scenario::load(file).map_err(|err| err.to_string())?;
    match super::lock_model(&scenario, file)? {
        super::World::Single(model) => run_on(args, file, &scenario, &model, 1),
        super::World::Ensemble(model) => {
            let servers = model.service_config().zab.servers;
            run_on(args, file, &scenario, &model, servers)
        }
    }
}

/// The random runs of `model`, on a target of `servers` servers.
fn run_on<Z: Replayed>(
    args: &ConformArgs,
    file: &Path,
    scenario: &Scenario,
    model: &LockModel<Z>,
    servers: u8,
) -> Result<u8, String>
where
    LockModel<Z>: crate::search::Checkable<Action = LockAction, State = LockState<Z>>,
{
    let options = RandomOptions {
        seed: args.seed.unwrap_or(scenario.check.seed),
        runs: u64::from(args.runs),
        steps: scenario.check.steps,
        only_run: None,
        shard: None,
        scheduler: scenario.check.scheduler,
    };
    let mut target = super::target(args, servers)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "conform --random {} ({} recipe, {} clients, seed {}, {} runs of at most {} steps, the {} scheduler) on {}",
        file.display(),
        model.config.recipe.name(),
        model.config.clients,
        options.seed,
        args.runs,
        options.steps,
        options.scheduler.name(),
        target.describe()
    );
    let mut result = RandomResult {
        scenario: file.display().to_string(),
        seed: options.seed,
        runs: 0,
        matched: 0,
        diverged: 0,
        unrealisable: 0,
        steps: 0,
        faults: BTreeMap::new(),
        server_steps: 0,
        reads_behind_leader: 0,
        mean_millis: 0.0,
        failures: Vec::new(),
    };
    let mut total_millis = 0.0;
    let mut unrealisable = None;
    for run in 0..args.runs {
        let actions = crate::search::random_walk(model, &options, u64::from(run));
        let (summaries, behind) = narrate(model, &actions);
        result.reads_behind_leader += behind;
        result.server_steps += actions
            .iter()
            .filter(|a| matches!(a, LockAction::Ensemble(_)))
            .count();
        let root = format!("/lockscope-{}-random-{run}", std::process::id());
        let report = replay::run(model, &mut target, &root, &actions, &summaries, "", None);
        total_millis += report.millis;
        result.runs += 1;
        result.steps += actions.len();
        for kind in actions.iter().filter_map(fault_kind) {
            *result.faults.entry(kind).or_default() += 1;
        }
        let verdict = match &report.ending {
            Ending::Matched { .. } => {
                result.matched += 1;
                "every step matched"
            }
            Ending::Diverged { .. } => {
                result.diverged += 1;
                "DIVERGED"
            }
            Ending::Unrealisable { step, reason } => {
                result.unrealisable += 1;
                unrealisable = Some(format!("run {run}: step {step}: {reason}"));
                "cannot be realised"
            }
        };
        let faults: Vec<&str> = actions.iter().filter_map(fault_kind).collect();
        let _ = writeln!(
            out,
            "run {run}: {} steps, faults [{}]: {verdict} ({:.1} ms)",
            actions.len(),
            faults.join(", "),
            report.millis
        );
        if !matches!(report.ending, Ending::Matched { .. }) {
            super::print_run(&mut out, run, &report);
            result.failures.push((run, report));
        }
        if unrealisable.is_some() {
            break;
        }
    }
    result.mean_millis = total_millis / f64::from(result.runs.max(1));
    let faults: Vec<String> = result
        .faults
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "{}: {} of {} random run(s) matched every step, {} diverged, {} unrealisable; {} steps replayed{}, faults: {} ({:.1} ms per run)",
        file.display(),
        result.matched,
        result.runs,
        result.diverged,
        result.unrealisable,
        result.steps,
        if servers > 1 {
            format!(
                " ({} between the servers, {} reads answered behind the leader)",
                result.server_steps, result.reads_behind_leader
            )
        } else {
            String::new()
        },
        if faults.is_empty() {
            "none".to_string()
        } else {
            faults.join(", ")
        },
        result.mean_millis
    );
    if let Some(json) = &args.json {
        super::write_json(
            json,
            serde_json::json!({
                "zookeeper": target.address.to_string(),
                "random": result,
            }),
        )?;
    }
    drop(target);
    if let Some(reason) = unrealisable {
        return Err(format!(
            "a step cannot be realised on a real server:\n{}: {reason}",
            file.display()
        ));
    }
    Ok(if result.matched == result.runs { 0 } else { 1 })
}

/// The model's sentence for each step of a walk, and how many of its reads a server behind the
/// leader answered.
fn narrate<Z: Replayed>(model: &LockModel<Z>, actions: &[LockAction]) -> (Vec<String>, usize)
where
    LockModel<Z>: Model<Action = LockAction, State = LockState<Z>>,
{
    let mut state = model.init_states().swap_remove(0);
    let mut behind = 0;
    let summaries = actions
        .iter()
        .map(|&action| {
            if let LockAction::Deliver {
                from: ActorId::Client(c),
                msg: Msg::Request(request),
                ..
            } = action
            {
                behind += usize::from(state.zk.read_behind_leader(c, request));
            }
            let next = model.next_state(&state, action).expect("a walk's step");
            let summary = model.describe_step(&state, &action, &next);
            state = next;
            summary
        })
        .collect();
    (summaries, behind)
}

/// The fault a step is, if it is one.
fn fault_kind(action: &LockAction) -> Option<&'static str> {
    match action {
        LockAction::ExpireSession { .. } => Some("session expiry"),
        LockAction::LoseConnection { .. } => Some("connection loss"),
        LockAction::Pause { .. } => Some("pause"),
        LockAction::CrashClient { .. } => Some("client crash"),
        LockAction::Partition { .. } => Some("partition"),
        LockAction::ReadTimeout => Some("read timeout"),
        LockAction::CrashServer => Some("crash"),
        LockAction::Ensemble(step) => match step {
            EnsembleStep::Crash { .. } => Some("server crash"),
            EnsembleStep::SpuriousTimeout { .. } => Some("spurious timeout"),
            EnsembleStep::Partition { .. } => Some("partition between servers"),
            _ => None,
        },
        _ => None,
    }
}
