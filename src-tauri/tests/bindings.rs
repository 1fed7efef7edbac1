//! Fails when `ui/src/lib/bindings.ts` no longer matches the Rust types and commands.
//! `UPDATE_BINDINGS=1 cargo test --test bindings` (or `make bindings`) rewrites it.

use std::path::PathBuf;

#[test]
fn typescript_bindings_are_fresh() {
    let checked_in = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings.ts");
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = fresh_dir.path().join("bindings.ts");
    salesdesk_desktop::export_bindings(&fresh).expect("export bindings");
    let fresh_text = std::fs::read_to_string(&fresh).unwrap();

    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&checked_in, &fresh_text).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&checked_in).unwrap_or_default();
    assert!(
        current == fresh_text,
        "ui/src/lib/bindings.ts is stale: the Rust types or commands changed. \
         Run `make bindings` and commit the result."
    );
    // The contract the UI relies on is really in there.
    for name in [
        "health",
        "listAnalyses",
        "getAnalysis",
        "CallAnalysis",
        "CommandError",
    ] {
        assert!(fresh_text.contains(name), "bindings lack {name}");
    }
}
