//! A throwaway PostgreSQL cluster per test run.
//!
//! `initdb` into a temp dir, a free port on 127.0.0.1, the unix socket in the same temp dir.
//! The server is a direct child of a supervisor thread and is started through `setpriv
//! --pdeathsig SIGQUIT`, so the kernel tells it to shut down if the test process dies in any
//! way (panic, abort, SIGKILL) and no postgres outlives the tests. A normal drop stops it with
//! `pg_ctl stop -m immediate` (the data is thrown away, there is nothing to flush) and removes
//! the directory; directories left by killed runs are swept at the next start.
//!
//! initdb and postgres refuse to run as root. When the tests run as root (CI), the cluster
//! runs as the unprivileged `nobody` user (setpriv switches uid/gid; the temp dir is handed to
//! it); as any other user it runs as that user.

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// The cluster's superuser, named as on Supabase (where `postgres` is not a superuser).
pub const SUPERUSER: &str = "supabase_admin";

const DIR_PREFIX: &str = "salesdesk-pg-";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running cluster. Dropping it stops the server and deletes its files.
pub struct PgCluster {
    dir: Option<tempfile::TempDir>,
    bin_dir: PathBuf,
    port: u16,
    password: String,
    runner: Runner,
    kill: Arc<AtomicBool>,
    exited: Arc<AtomicBool>,
    supervisor: Option<JoinHandle<()>>,
}

/// How server-side programs are launched: directly, or through setpriv (to switch to an
/// unprivileged user, and to set the parent-death signal).
#[derive(Clone)]
struct Runner {
    setpriv: Option<PathBuf>,
    user: Option<(u32, u32)>,
}

impl Runner {
    fn detect() -> Result<Self> {
        let setpriv = find_in_path("setpriv");
        let user = if is_root() {
            if setpriv.is_none() {
                bail!(
                    "running as root, PostgreSQL must run as another user, which needs `setpriv` \
                     (package util-linux)"
                );
            }
            Some(nobody_ids())
        } else {
            None
        };
        Ok(Self { setpriv, user })
    }

    fn command(&self, program: &Path, death_signal: bool) -> Command {
        let Some(setpriv) = &self.setpriv else {
            return Command::new(program);
        };
        let mut cmd = Command::new(setpriv);
        if let Some((uid, gid)) = self.user {
            cmd.arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--clear-groups");
        }
        if death_signal {
            // SIGQUIT = immediate shutdown: the postmaster takes its backends down with it.
            cmd.arg("--pdeathsig=SIGQUIT");
        }
        cmd.arg("--").arg(program);
        cmd
    }
}

impl PgCluster {
    /// initdb + start. Fails with the server log's tail if the server does not come up.
    pub fn start() -> Result<Self> {
        sweep_stale_dirs();
        let bin_dir = find_bin_dir()?;
        let runner = Runner::detect()?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
            .tempdir()
            .context("cannot create a temp dir for the test cluster")?;
        let password = random_hex(16);
        let pwfile = dir.path().join("pwfile");
        fs::write(&pwfile, &password)?;
        if let Some((uid, gid)) = runner.user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .context("cannot hand the temp dir to the unprivileged user")?;
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid))?;
        }

        let output = runner
            .command(&bin_dir.join("initdb"), false)
            .arg("-D")
            .arg(dir.path().join("data"))
            .args([
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .context("cannot run initdb")?;
        if !output.status.success() {
            bail!(
                "initdb failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }

        let mut cluster = Self {
            dir: Some(dir),
            bin_dir,
            port: 0,
            password,
            runner,
            kill: Arc::new(AtomicBool::new(false)),
            exited: Arc::new(AtomicBool::new(false)),
            supervisor: None,
        };
        // A port found free can be taken by someone else before the server binds it: retry.
        let mut last_error = None;
        for _ in 0..5 {
            match cluster.launch() {
                Ok(()) => return Ok(cluster),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow!("postgres did not start")))
    }

    fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("cluster dir present until drop")
            .path()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir().join("data")
    }

    fn launch(&mut self) -> Result<()> {
        self.port = free_port()?;
        self.kill = Arc::new(AtomicBool::new(false));
        self.exited = Arc::new(AtomicBool::new(false));
        let log_path = self.dir().join(format!("postgres-{}.log", self.port));
        let log = fs::File::create(&log_path)?;
        let mut cmd = self.runner.command(&self.bin_dir.join("postgres"), true);
        cmd.arg("-D")
            .arg(self.data_dir())
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(self.dir())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                // Throwaway data: durability buys nothing and costs seconds.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=32MB",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);

        // The supervisor thread spawns the server and outlives it: the parent-death signal
        // is tied to the thread that forked, so a short-lived spawning thread would kill it.
        let (tx, rx) = mpsc::channel();
        let kill = Arc::clone(&self.kill);
        let exited = Arc::clone(&self.exited);
        let supervisor = thread::Builder::new()
            .name(format!("postgres-{}", self.port))
            .spawn(move || {
                let mut child = match cmd.spawn() {
                    Ok(child) => {
                        let _ = tx.send(Ok(()));
                        child
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        exited.store(true, Ordering::SeqCst);
                        return;
                    }
                };
                loop {
                    match child.try_wait() {
                        Ok(Some(_)) | Err(_) => break,
                        Ok(None) => {}
                    }
                    if kill.load(Ordering::SeqCst) {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    thread::sleep(Duration::from_millis(25));
                }
                exited.store(true, Ordering::SeqCst);
            })?;
        rx.recv()
            .map_err(|_| anyhow!("postgres supervisor thread died"))?
            .context("cannot start postgres")?;
        self.supervisor = Some(supervisor);

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.exited.load(Ordering::SeqCst) {
                self.join_supervisor();
                bail!("postgres exited during start-up:\n{}", tail(&log_path));
            }
            let ready = Command::new(self.bin_dir.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop_server();
                bail!(
                    "postgres did not accept connections within {START_TIMEOUT:?}:\n{}",
                    tail(&log_path)
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The unix socket directory (the temp dir).
    pub fn socket_dir(&self) -> &Path {
        self.dir()
    }

    pub fn superuser_password(&self) -> &str {
        &self.password
    }

    /// A `postgres://` URL for `user` / `password` on database `db`, over TCP.
    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }

    pub fn superuser_url(&self, db: &str) -> String {
        self.url(SUPERUSER, &self.password, db)
    }

    /// The server's major version (e.g. 15).
    pub fn major_version(&self) -> Result<u32> {
        let out = Command::new(self.bin_dir.join("postgres"))
            .arg("--version")
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .find_map(|w| w.split('.').next().and_then(|m| m.parse().ok()))
            .ok_or_else(|| anyhow!("cannot read the postgres version from {text:?}"))
    }

    fn stop_server(&mut self) {
        if self.supervisor.is_none() {
            return;
        }
        if !self.exited.load(Ordering::SeqCst) {
            let _ = self
                .runner
                .command(&self.bin_dir.join("pg_ctl"), false)
                .arg("stop")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "immediate", "-w", "-t", "10"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        self.join_supervisor();
    }

    fn join_supervisor(&mut self) {
        // Whatever pg_ctl managed, make sure the child is gone before the files are.
        self.kill.store(true, Ordering::SeqCst);
        if let Some(handle) = self.supervisor.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop_server();
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// The directory with initdb / postgres / pg_ctl: `SALESDESK_PG_BINDIR`, else `pg_config
/// --bindir`, else the newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), else PATH.
pub fn find_bin_dir() -> Result<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("SALESDESK_PG_BINDIR").map(PathBuf::from) {
        if has_server(&dir) {
            return Ok(dir);
        }
        bail!(
            "SALESDESK_PG_BINDIR={} has no initdb/postgres",
            dir.display()
        );
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_server(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    if let Some(initdb) = find_in_path("initdb")
        && let Some(dir) = initdb.parent()
        && has_server(dir)
    {
        return Ok(dir.to_owned());
    }
    bail!(
        "no PostgreSQL server binaries found (initdb, postgres). Install the server \
         (Debian: apt-get install postgresql) or set SALESDESK_PG_BINDIR"
    )
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

fn is_root() -> bool {
    // /proc/self belongs to the process's effective uid.
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn nobody_ids() -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() > 3 && fields[0] == "nobody")
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .unwrap_or((65534, 65534))
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("/dev/urandom is readable");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Removes cluster dirs left by test processes that no longer exist (killed before their drop
/// ran). Their servers are already gone: the parent-death signal took them down.
fn sweep_stale_dirs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(DIR_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
