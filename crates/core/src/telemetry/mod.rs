//! Tracing, set up once per process: human-readable lines on stderr and JSON lines in a daily
//! rotating file in the data directory (`logs/salesdesk.log.YYYY-MM-DD`, a week kept).
//!
//! Nothing logged may carry a key, token, transcript or file content: log ids and sizes.

use std::path::Path;
use std::sync::OnceLock;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// Keeps the file writer flushing until the process ends.
static FILE_GUARD: OnceLock<WorkerGuard> = OnceLock::new();

/// How much goes to stderr when `RUST_LOG` is not set.
#[derive(Debug, Clone, Copy)]
pub enum StderrLevel {
    /// Warnings and errors only (the CLI: stdout is for results).
    Quiet,
    /// Info and above (the desktop app).
    Info,
}

/// Installs the global subscriber. Safe to call more than once: later calls do nothing.
/// When the log directory cannot be created, logs go to stderr only and a warning says so.
pub fn init(log_dir: &Path, stderr: StderrLevel) {
    let stderr_default = match stderr {
        StderrLevel::Quiet => "warn",
        StderrLevel::Info => "info",
    };
    let stderr_filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(stderr_default));
    let stderr_layer = fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(stderr_filter);

    let file = std::fs::create_dir_all(log_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("salesdesk.log")
                .max_log_files(7)
                .build(log_dir)
                .map_err(|e| e.to_string())
        });
    let (file_layer, file_error) = match file {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let _ = FILE_GUARD.set(guard);
            let layer = fmt::layer()
                .json()
                .with_writer(writer)
                .with_filter(EnvFilter::new("info,sqlx=warn"));
            (Some(layer), None)
        }
        Err(e) => (None, Some(e)),
    };

    let installed = tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer)
        .try_init()
        .is_ok();
    if installed && let Some(e) = file_error {
        tracing::warn!(dir = %log_dir.display(), error = %e, "cannot write log files; logging to stderr only");
    }
}
