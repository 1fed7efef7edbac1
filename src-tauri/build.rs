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
        "list_materials",
        "pending_materials",
        "queue_material",
        "upload_material",
        "cancel_material_transfer",
        "discard_material",
        "update_material",
        "delete_material",
        "restore_material",
        "pin_material",
        "unpin_material",
        "preview_material",
        "pick_material_files",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("failed to run the Tauri build script");
}
