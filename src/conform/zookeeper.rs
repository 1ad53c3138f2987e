//! A ZooKeeper server the harness starts on loopback, crashes (SIGKILL) and restarts on the same
//! data directory and port, and always stops: when dropped, when the harness is killed (the
//! child is told to die with it) and on Ctrl-C or SIGTERM (a handler kills every server started).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::conn::four_letter_word;

/// Where Debian's `libzookeeper-java` puts the server and a logging backend for it.
const DEBIAN_CLASSPATH: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";
/// How to get it, for the error when it is missing.
pub const INSTALL_HINT: &str = "install it (Debian: apt-get install --no-install-recommends libzookeeper-java default-jre-headless) or set ZOOKEEPER_CLASSPATH to the jars of a ZooKeeper 3.8 server";
/// How long a start may take before it counts as failed.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The servers alive now (process id, directory), for the signal handler.
static RUNNING: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

/// One spawned server.
pub struct ZooKeeper {
    pub address: SocketAddr,
    classpath: String,
    dir: PathBuf,
    process: Option<Child>,
}

/// The classpath to start the server with, or why there is none.
pub fn classpath() -> Result<String, String> {
    if let Ok(classpath) = std::env::var("ZOOKEEPER_CLASSPATH") {
        if !classpath.is_empty() {
            let missing: Vec<&str> = classpath
                .split(':')
                .filter(|entry| !entry.ends_with('*') && !Path::new(entry).exists())
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "ZOOKEEPER_CLASSPATH names what is not there ({}): {INSTALL_HINT}",
                    missing.join(", ")
                ));
            }
            return Ok(classpath);
        }
    }
    let missing: Vec<&str> = DEBIAN_CLASSPATH
        .split(':')
        .filter(|jar| !Path::new(jar).exists())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no ZooKeeper server found ({} missing, ZOOKEEPER_CLASSPATH unset): {INSTALL_HINT}",
            missing.join(", ")
        ));
    }
    Ok(DEBIAN_CLASSPATH.to_string())
}

impl ZooKeeper {
    /// Start a server on a free loopback port with a fresh data directory, and wait until it
    /// serves.
    pub fn spawn() -> Result<ZooKeeper, String> {
        let port = free_port()?;
        let mut server = ZooKeeper::prepare(&port.to_string(), port, "", None)?;
        server.start()?;
        Ok(server)
    }

    /// A server's directory and configuration, not started: `tag` names its directory, `port`
    /// is its client port, `extra` more configuration lines, `id` its `myid` in an ensemble.
    pub fn prepare(tag: &str, port: u16, extra: &str, id: Option<u8>) -> Result<ZooKeeper, String> {
        let classpath = classpath()?;
        install_signal_handler();
        let dir =
            std::env::temp_dir().join(format!("lockscope-zookeeper-{}-{tag}", std::process::id()));
        let written = |file: PathBuf, text: String| {
            std::fs::write(&file, text)
                .map_err(|err| format!("cannot write {}: {err}", file.display()))
        };
        std::fs::create_dir_all(dir.join("data"))
            .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
        if let Some(id) = id {
            written(dir.join("data").join("myid"), format!("{id}\n"))?;
        }
        written(
            dir.join("zoo.cfg"),
            format!(
                "tickTime=200\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
                 maxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=srvr\n\
                 maxSessionTimeout=120000\nforceSync=no\n{extra}",
                dir.join("data").display()
            ),
        )?;
        Ok(ZooKeeper {
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            classpath,
            dir,
            process: None,
        })
    }

    /// Start (or restart) the process on this server's configuration and data, and wait until
    /// it serves.
    pub fn start(&mut self) -> Result<(), String> {
        self.launch()?;
        self.wait_serving().map(|_| ())
    }

    /// Start the process, not waiting: an ensemble's members serve only once a quorum is up.
    pub fn launch(&mut self) -> Result<(), String> {
        let log = std::fs::File::create(self.dir.join("zookeeper.log"))
            .map_err(|err| format!("cannot write the server's log: {err}"))?;
        let mut command = Command::new("java");
        command
            .args([
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
            ])
            .arg(&self.classpath)
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(self.dir.join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|err| err.to_string())?)
            .stderr(log);
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|err| {
            format!("cannot start java (the ZooKeeper server): {err}; {INSTALL_HINT}")
        })?;
        RUNNING
            .lock()
            .expect("not poisoned")
            .push((child.id(), self.dir.clone()));
        self.process = Some(child);
        Ok(())
    }

    /// Wait until the server serves (`srvr` reports its mode); returns that answer.
    pub fn wait_serving(&mut self) -> Result<String, String> {
        let deadline = Instant::now() + START_LIMIT;
        while Instant::now() < deadline {
            if let Some(answer) =
                four_letter_word(self.address, "srvr").filter(|a| a.contains("Mode:"))
            {
                return Ok(answer);
            }
            if let Some(status) = self
                .process
                .as_mut()
                .and_then(|p| p.try_wait().ok())
                .flatten()
            {
                return Err(format!(
                    "the ZooKeeper server exited at start ({status}); its log: {}",
                    self.dir.join("zookeeper.log").display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "the ZooKeeper server did not serve within {START_LIMIT:?}; its log: {}",
            self.dir.join("zookeeper.log").display()
        ))
    }

    /// Its data directory (`dataDir`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Whether the process is up (a replay that ends with the server crashed leaves it down).
    pub fn is_running(&self) -> bool {
        self.process.is_some()
    }

    /// SIGKILL the process: a crash, keeping what it wrote to its data directory.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
            RUNNING
                .lock()
                .expect("not poisoned")
                .retain(|(pid, _)| *pid != child.id());
        }
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        self.crash();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free port on 127.0.0.1 (free when asked: the server binds it a moment later).
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|err| format!("cannot find a free port on 127.0.0.1: {err}"))
}

/// Ctrl-C and SIGTERM kill the servers before the harness exits (Drop does not run then).
fn install_signal_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if let Ok(running) = RUNNING.lock() {
                for (pid, dir) in running.iter() {
                    kill(*pid);
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            std::process::exit(130);
        });
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn kill(pid: u32) {
    // SAFETY: kill(2) on a process this harness started and has not reaped.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn kill(pid: u32) {
    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
}

/// The server gets SIGKILL when the harness dies, however it dies (Linux: `PR_SET_PDEATHSIG`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn die_with_parent(_command: &mut Command) {}
