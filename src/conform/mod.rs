//! `lockscope conform`: replay lock traces against a real ZooKeeper server, step by step, and
//! show model and reality side by side (docs/conform.md).
//!
//! The harness is every client: it speaks ZooKeeper's wire protocol itself ([`wire`], [`conn`]),
//! holds each request until the step that delivers it and each received frame until the step in
//! which the client reads it, so every step is exactly one real event. The clients' decisions are
//! the model's own recipe code fed with the real replies ([`real`]); what is under test is
//! everything else: the server, the network and the faults. [`replay`] maps each step to a real
//! operation and compares; [`zookeeper`] starts and stops a server.

mod binding;
mod conn;
mod ensemble;
mod random;
mod real;
mod replay;
mod wire;
mod zookeeper;

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use lockscope_models::ensemble::Ensemble;
use lockscope_models::lock::{LockAction, LockModel};

use crate::cli::ConformArgs;
use crate::scenario::{ModelKind, Scenario};
use crate::trace::Trace;
use replay::{Ending, RunReport, Target};

pub use zookeeper::{classpath as zookeeper_classpath, ZooKeeper};

/// One trace, ready to replay.
struct Loaded {
    file: PathBuf,
    trace: Trace,
    world: World,
    actions: Vec<LockAction>,
    summaries: Vec<String>,
}

/// A lock world conform replays: on one server, or on an ensemble of servers.
enum World {
    Single(LockModel),
    Ensemble(LockModel<Ensemble>),
}

impl World {
    fn config(&self) -> &lockscope_models::lock::LockConfig {
        match self {
            World::Single(model) => &model.config,
            World::Ensemble(model) => &model.config,
        }
    }

    /// How many servers the world has (a single server counts 1).
    fn servers(&self) -> u8 {
        match self {
            World::Single(_) => 1,
            World::Ensemble(model) => model.service_config().zab.servers,
        }
    }

    /// Replay `actions` once (see [`replay::run`]).
    fn replay(
        &self,
        target: &mut Target,
        root: &str,
        actions: &[LockAction],
        summaries: &[String],
        property: &str,
        loop_start: Option<usize>,
    ) -> RunReport {
        match self {
            World::Single(model) => replay::run(
                model, target, root, actions, summaries, property, loop_start,
            ),
            World::Ensemble(model) => replay::run(
                model, target, root, actions, summaries, property, loop_start,
            ),
        }
    }
}

/// What the runs of one trace gave.
#[derive(serde::Serialize)]
struct TraceResult {
    file: String,
    property: String,
    runs: u32,
    /// Runs in which every step matched and the violation recurred.
    matched: u32,
    /// Runs in which every step matched but the violation did not show.
    not_recurred: u32,
    diverged: u32,
    unrealisable: u32,
    mean_millis: f64,
    /// The first run in full, and every run that did not match.
    first: RunReport,
    failures: Vec<RunReport>,
}

/// Run the command; returns the exit code (0 matched and recurred, 1 diverged, 2 unrealisable).
pub fn run(args: &ConformArgs) -> Result<u8, String> {
    match &args.random {
        Some(scenario) => random::run(args, scenario),
        None => run_traces(args),
    }
}

/// The server to replay against: the one named, or one of the harness's own; for a world of
/// `servers > 1`, an ensemble of the harness's own, whose links it must hold.
fn target(args: &ConformArgs, servers: u8) -> Result<Target, String> {
    let target = match (&args.zookeeper, servers) {
        (Some(address), 1) => Target {
            address: resolve(address)?,
            spawned: None,
            ensemble: None,
        },
        (Some(address), _) => {
            return Err(format!(
                "--zookeeper {address}: a world of {servers} servers is replayed on an ensemble the harness spawns (it holds the links between the servers): use --spawn"
            ))
        }
        (None, 1) => {
            let server = zookeeper::ZooKeeper::spawn()?;
            Target {
                address: server.address,
                spawned: Some(server),
                ensemble: None,
            }
        }
        (None, _) => {
            let leader = lockscope_models::ensemble::EnsembleConfig::first_leader(servers);
            let real = ensemble::RealEnsemble::spawn(servers, leader)?;
            Target {
                address: real.address(0),
                spawned: None,
                ensemble: Some(real),
            }
        }
    };
    check_reachable(target.address)?;
    Ok(target)
}

/// The lock model of a scenario conform can replay: lock worlds on one server or an ensemble.
fn lock_model(scenario: &Scenario, file: &Path) -> Result<World, String> {
    let spec = &scenario.model;
    if spec.kind != ModelKind::Lock {
        return Err(format!(
            "{}: a ZAB model: conform replays lock worlds (clients of a lock recipe on ZooKeeper); ZAB steps the servers' internals, which no client can drive",
            file.display()
        ));
    }
    let config = crate::registry::lock_config(spec, Some(&scenario.faults));
    let at_file = |err: String| format!("{}: {err}", file.display());
    match &spec.ensemble {
        None => LockModel::new(config).map(World::Single).map_err(at_file),
        Some(ensemble) => {
            let ensemble =
                crate::registry::ensemble_config(spec, ensemble, &scenario.faults, scenario.timing)
                    .map_err(at_file)?;
            LockModel::on_ensemble(config, ensemble)
                .map(World::Ensemble)
                .map_err(at_file)
        }
    }
}

fn write_json(file: &Path, json: serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(&json).expect("results serialise") + "\n";
    crate::check::write_file(file, &text)
}

fn run_traces(args: &ConformArgs) -> Result<u8, String> {
    let loaded: Vec<Loaded> = args
        .traces
        .iter()
        .map(|file| load(file.clone()))
        .collect::<Result<_, _>>()?;
    let servers = loaded.first().map_or(1, |one| one.world.servers());
    if let Some(other) = loaded.iter().find(|one| one.world.servers() != servers) {
        return Err(format!(
            "{}: a world of {} server(s), and {} one of {servers}: replay them in separate calls",
            other.file.display(),
            other.world.servers(),
            loaded[0].file.display()
        ));
    }
    let mut target = target(args, servers)?;
    let mut out = std::io::stdout().lock();
    let mut results = Vec::new();
    let mut unrealisable = Vec::new();
    for (number, one) in loaded.iter().enumerate() {
        let _ = writeln!(
            out,
            "conform {} ({} recipe, {} clients, {} steps, property {}) on {}",
            one.file.display(),
            one.world.config().recipe.name(),
            one.world.config().clients,
            one.actions.len(),
            one.trace.property,
            target.describe()
        );
        let mut result: Option<TraceResult> = None;
        let mut total_millis = 0.0;
        for run in 1..=args.runs {
            let root = format!("/lockscope-{}-{number}-{run}", std::process::id());
            let report = one.world.replay(
                &mut target,
                &root,
                &one.actions,
                &one.summaries,
                &one.trace.property,
                one.trace.loop_start,
            );
            total_millis += report.millis;
            let passed = report.ending == Ending::Matched { recurred: true };
            if run == 1 || !passed {
                print_run(&mut out, run, &report);
            }
            if let Ending::Unrealisable { step, reason } = &report.ending {
                unrealisable.push(format!("{}: step {step}: {reason}", one.file.display()));
            }
            let result = result.get_or_insert_with(|| TraceResult {
                file: one.file.display().to_string(),
                property: one.trace.property.clone(),
                runs: 0,
                matched: 0,
                not_recurred: 0,
                diverged: 0,
                unrealisable: 0,
                mean_millis: 0.0,
                first: report.clone(),
                failures: Vec::new(),
            });
            result.runs += 1;
            match report.ending {
                Ending::Matched { recurred: true } => result.matched += 1,
                Ending::Matched { recurred: false } => result.not_recurred += 1,
                Ending::Unrealisable { .. } => result.unrealisable += 1,
                _ => result.diverged += 1,
            }
            if !passed && run > 1 {
                result.failures.push(report);
            }
            if !unrealisable.is_empty() {
                break;
            }
        }
        let mut result = result.expect("at least one run");
        result.mean_millis = total_millis / f64::from(result.runs);
        let _ = writeln!(
            out,
            "{}: {} of {} run(s) matched every step with the violation recurring, {} matched without it, {} diverged, {} unrealisable ({:.1} ms per replay)\n",
            one.file.display(),
            result.matched,
            result.runs,
            result.not_recurred,
            result.diverged,
            result.unrealisable,
            result.mean_millis
        );
        results.push(result);
        if !unrealisable.is_empty() {
            break;
        }
    }
    if let Some(file) = &args.json {
        let json = serde_json::json!({
            "zookeeper": target.address.to_string(),
            "traces": results,
        });
        write_json(file, json)?;
    }
    drop(target);
    if !unrealisable.is_empty() {
        return Err(format!(
            "a step cannot be realised on a real server:\n{}",
            unrealisable.join("\n")
        ));
    }
    let all_passed = results.iter().all(|r| r.matched == r.runs && r.runs > 0);
    Ok(if all_passed { 0 } else { 1 })
}

/// Read a trace and check that conform can replay it.
fn load(file: PathBuf) -> Result<Loaded, String> {
    let trace = Trace::load(&file).map_err(|err| err.to_string())?;
    let world = lock_model(&trace.scenario, &file)?;
    let replayed = match &world {
        World::Single(model) => crate::trace::replay(model, &trace, &file),
        World::Ensemble(model) => crate::trace::replay(model, &trace, &file),
    }
    .map_err(|err| err.to_string())?;
    let actions = trace
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            serde_json::from_value(step.action.clone())
                .map_err(|err| format!("{}: step {}: {err}", file.display(), i + 1))
        })
        .collect::<Result<_, _>>()?;
    Ok(Loaded {
        file,
        trace,
        world,
        actions,
        summaries: replayed.summaries,
    })
}

fn resolve(address: &str) -> Result<SocketAddr, String> {
    address
        .to_socket_addrs()
        .map_err(|err| format!("--zookeeper {address}: {err}"))?
        .next()
        .ok_or_else(|| format!("--zookeeper {address}: no address"))
}

/// Open a session and close it, waiting for the close: on an ensemble, a close still in flight
/// when the first replay starts holding would be a transaction the model does not have.
fn check_reachable(address: SocketAddr) -> Result<(), String> {
    match conn::Conn::open(address, None, 0) {
        Ok(conn::Handshake::Connected(mut conn)) => {
            let _ = conn.call(wire::op::CLOSE_SESSION, |out| out);
            Ok(())
        }
        Ok(conn::Handshake::Expired) => {
            Err(format!("no ZooKeeper session could be opened at {address}"))
        }
        Err(err) => Err(format!("no ZooKeeper at {address}: {err}")),
    }
}

fn print_run(out: &mut impl Write, run: u32, report: &RunReport) {
    let _ = writeln!(out, "run {run}:");
    for step in &report.steps {
        let verdict = if step.difference.is_some() {
            "DIVERGED"
        } else if step.real.starts_with("cannot be realised") {
            "CANNOT"
        } else {
            "ok"
        };
        let _ = writeln!(out, "  {:>3} {verdict:<8} model: {}", step.step, step.model);
        let _ = writeln!(out, "               real:  {}", step.real);
        if let Some(difference) = &step.difference {
            let _ = writeln!(out, "               differs: {difference}");
        }
    }
    let ending = match &report.ending {
        Ending::Matched { recurred: true } => {
            "every step matched; the violation recurred".to_string()
        }
        Ending::Matched { recurred: false } => {
            "every step matched, but the violation did not recur".to_string()
        }
        Ending::Diverged { step } => format!("DIVERGED at step {step}"),
        Ending::Unrealisable { step, reason } => {
            format!("step {step} cannot be realised: {reason}")
        }
    };
    let _ = writeln!(out, "  reality: {}", report.reality);
    let _ = writeln!(out, "  {ending} ({:.1} ms)", report.millis);
}
