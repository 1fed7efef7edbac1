//! Driving the real desktop app: the built binary in a real WebKit window, through tauri-driver
//! (which runs WebKitWebDriver) over the WebDriver protocol.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::isolated::IsolatedEnv;

/// The workspace root (the folder holding `tauri.conf.json`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The desktop binary under test: `SALESDESK_DESKTOP_BIN`, else the debug build in the
/// workspace's target directory.
pub fn desktop_binary() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("SALESDESK_DESKTOP_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let bin = target.join("debug").join("salesdesk-desktop");
    if !bin.exists() {
        bail!(
            "the desktop app is not built ({} is missing): run `cargo build -p salesdesk-desktop` first",
            bin.display()
        );
    }
    Ok(bin)
}

/// Finds `tauri-driver` on PATH or in cargo's bin folder.
pub fn tauri_driver_binary() -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("tauri-driver"))
                .collect()
        })
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        candidates.push(PathBuf::from(home).join("bin/tauri-driver"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cargo/bin/tauri-driver"));
    }
    candidates.into_iter().find(|p| p.is_file()).context(
        "tauri-driver is not installed: run `cargo install tauri-driver --locked` (make test does)",
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

/// A running tauri-driver; killed (with the WebKitWebDriver and app it started) on drop.
pub struct TauriDriver {
    child: Child,
    pub port: u16,
}

impl TauriDriver {
    pub fn start(env: &IsolatedEnv) -> anyhow::Result<Self> {
        Self::start_with(env, &[])
    }

    /// [`Self::start`] with extra environment variables for the app (test hooks).
    pub fn start_with(env: &IsolatedEnv, extra: &[(&str, &Path)]) -> anyhow::Result<Self> {
        let port = free_port();
        let native_port = free_port();
        let mut cmd = Command::new(tauri_driver_binary()?);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        env.apply(&mut cmd);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Own process group, so drop can end the driver and everything it started.
            cmd.process_group(0);
        }
        let child = cmd.spawn().context("start tauri-driver")?;
        let driver = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("tauri-driver did not listen on port {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// WebDriver capabilities that launch `application` in tauri-driver.
    pub fn capabilities(
        application: &std::path::Path,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": application }),
        );
        caps
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            // SIGTERM the whole group first so WebKitWebDriver can close the app cleanly.
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where tests leave artifacts (screenshots): `SALESDESK_ARTIFACTS` or `<workspace>/artifacts`.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("SALESDESK_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("artifacts"));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The app's store in `env` (the data directory the desktop app will open) with one analysis
/// saved as the offline provider saves it; close the handle before the app starts.
pub async fn open_with_analysis(
    env: &IsolatedEnv,
    title: &str,
    transcript: &str,
    score: u32,
) -> (
    salesdesk_core::Salesdesk,
    salesdesk_core::data::analyses::CallAnalysisRecord,
) {
    let core = salesdesk_core::Salesdesk::open(salesdesk_core::DataPaths::at(env.data_dir()))
        .await
        .unwrap();
    let saved = core
        .save_analysis(salesdesk_core::data::analyses::NewAnalysis {
            title: title.into(),
            transcript: transcript.into(),
            analysis: serde_json::json!({ "score": score }),
            provider: "offline".into(),
            model: Some("offline-v1".into()),
        })
        .await
        .unwrap();
    (core, saved)
}
