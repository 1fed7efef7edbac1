// Keeps a console window from opening next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    // GTK panics without a display; say what to do instead.
    #[cfg(target_os = "linux")]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "error: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). \
             Run Salesdesk in a desktop session, or under a virtual display with `make run` \
             (which starts Xvfb for you)."
        );
        return ExitCode::from(1);
    }
    match salesdesk_desktop::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
