// Builds the Tauri context from the root `tauri.conf.json`, and declares the app's commands so
// that capabilities can allow exactly those (a command not listed here cannot be invoked).
fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "health",
        "list_analyses",
        "search_analyses",
        "get_analysis",
        "delete_analysis",
        "restore_analysis",
        "pick_transcript_file",
        "preview_transcript",
        "analyze_transcript",
        "cancel_analysis",
        "probe_providers",
        "set_provider_key",
        "delete_provider_key",
        "get_team_settings",
        "save_team_settings",
        "account_status",
        "sign_up",
        "sign_in",
        "sign_out",
        "request_password_reset",
        "verify_email",
        "update_password",
        "pick_import_file",
        "import_browser_export",
        "sync_status",
        "discard_rejected_change",
        "sync_now",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("failed to run the Tauri build script");
}
