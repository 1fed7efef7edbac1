//! Throughput and memory of the storage client against the Supabase Storage fake on 127.0.0.1,
//! next to curl moving the same file through the same fake. Not run by the test suite:
//! `cargo bench -p salesdesk-testkit --bench storage` (1 GiB; `SALESDESK_BENCH_MIB=256` for a
//! shorter run). Peak memory is the process's peak RSS (Linux `VmHWM`, reset before each
//! phase); the fake runs in the same process and streams to disk too, so a flat figure means
//! neither side buffers the file. curl moves the same bytes through the same fake three ways:
//! one standard POST (the fastest path the server has), the same 6 MB TUS chunks the client
//! sends (the like-for-like figure for files over 6 MB), and a download to a file.
//!
//! With the conformance test's three variables set (`SALESDESK_CONFORMANCE_STORAGE_URL`,
//! `_JWT_SECRET`, `_DATABASE_URL`; see docs/files.md) the same figures are taken against that
//! real Storage server instead (a bare server gets the test kit's gateway in front, for the
//! client and curl alike; a user is created on the project for the run).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use salesdesk_core::data::local::LocalStore;
use salesdesk_core::files::{StaticToken, StorageConfig, SupabaseStorage, Transfer};
use salesdesk_core::secrets::SecretString;
use salesdesk_testkit::fakes::supabase_storage::StorageFake;
use salesdesk_testkit::gateway::Gateway;
use salesdesk_testkit::supabase::{Claims, Role, create_project_user, mint_token};

const SECRET: &str = "bench-secret-bench-secret-bench-secret-000";

fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// (peak RSS of the phase, peak minus the RSS when it started) in MiB.
fn peak_rss_mib(idle: Option<f64>) -> Option<(f64, f64)> {
    let peak = status_mib("VmHWM:")?;
    Some((peak, peak - idle?))
}

fn reset_peak() {
    // "5" resets the peak RSS counter (Linux 4.0+); elsewhere the figure is the lifetime peak.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn write_file(path: &Path, mib: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..mib {
        for c in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&block).expect("write");
    }
    f.flush().expect("flush");
}

fn report(what: &str, bytes: u64, took: Duration, rss: Option<(f64, f64)>) {
    let mibps = bytes as f64 / (1024.0 * 1024.0) / took.as_secs_f64();
    match rss {
        Some((peak, above)) => println!(
            "{what:<28} {:>8.2} s {mibps:>9.1} MiB/s   peak RSS {peak:>7.1} MiB ({above:>+6.1} MiB above idle)",
            took.as_secs_f64()
        ),
        None => println!(
            "{what:<28} {:>8.2} s {mibps:>9.1} MiB/s",
            took.as_secs_f64()
        ),
    }
}

fn curl(args: &[&str]) -> Option<Duration> {
    curl_to("/dev/null", args)
}

/// Runs curl with its output written to `out`; the time it took, if it succeeded.
fn curl_to(out: &str, args: &[&str]) -> Option<Duration> {
    let start = Instant::now();
    let ok = std::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", "-o", out, "--noproxy", "*"])
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    ok.then(|| start.elapsed())
}

/// The same resumable upload as the client's, by curl: the creation `POST`, then every 6 MB
/// chunk as a `PATCH` over one kept-alive connection (`--next`). The chunks are cut into files
/// beforehand, outside the timing (curl cannot send a byte range of a file).
fn curl_tus(
    origin: &str,
    auth: &str,
    src: &Path,
    dir: &Path,
    bytes: u64,
    object: &str,
) -> Option<Duration> {
    use base64::Engine;
    let chunk = salesdesk_core::files::supabase::CHUNK_SIZE;
    let parts = dir.join("curl-parts");
    std::fs::create_dir_all(&parts).ok()?;
    let mut input = std::fs::File::open(src).ok()?;
    let mut names = Vec::new();
    let mut offset = 0u64;
    while offset < bytes {
        use std::io::Read;
        let len = chunk.min(bytes - offset);
        let mut buf = vec![0u8; len as usize];
        input.read_exact(&mut buf).ok()?;
        let name = parts.join(format!("{offset}"));
        std::fs::write(&name, &buf).ok()?;
        names.push((offset, name));
        offset += len;
    }
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let metadata = format!(
        "Upload-Metadata: bucketName {},objectName {},contentType {}",
        b64("call-recordings"),
        b64(object),
        b64("audio/wav")
    );
    let headers = dir.join("curl-create-headers");
    let headers_s = headers.to_string_lossy().into_owned();
    let start = Instant::now();
    curl(&[
        "-X",
        "POST",
        "-D",
        &headers_s,
        "-H",
        auth,
        "-H",
        "Tus-Resumable: 1.0.0",
        "-H",
        &format!("Upload-Length: {bytes}"),
        "-H",
        &metadata,
        "-H",
        "x-upsert: true",
        &format!("{origin}/storage/v1/upload/resumable"),
    ])?;
    let location = std::fs::read_to_string(&headers)
        .ok()?
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_owned())
        })?;
    let url = if location.starts_with("http") {
        location
    } else {
        format!("{origin}{location}")
    };
    let mut args: Vec<String> = Vec::new();
    for (i, (offset, name)) in names.iter().enumerate() {
        if i > 0 {
            args.push("--next".into());
            args.extend(
                [
                    "-sS",
                    "--fail-with-body",
                    "-o",
                    "/dev/null",
                    "--noproxy",
                    "*",
                ]
                .map(String::from),
            );
        }
        args.extend([
            "-X".into(),
            "PATCH".into(),
            "-H".into(),
            auth.into(),
            "-H".into(),
            "Tus-Resumable: 1.0.0".into(),
            "-H".into(),
            format!("Upload-Offset: {offset}"),
            "-H".into(),
            "Content-Type: application/offset+octet-stream".into(),
            "-H".into(),
            "x-upsert: true".into(),
            "--data-binary".into(),
            format!("@{}", name.display()),
            url.clone(),
        ]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(&refs)?;
    let took = start.elapsed();
    let _ = std::fs::remove_dir_all(&parts);
    Some(took)
}

/// Where the bench sends its bytes: the fake, or a real server named by the conformance
/// variables.
struct Target {
    origin: String,
    token: String,
    /// Object paths start with this (the user's folder on a real server, whose policies want it).
    prefix: String,
    label: String,
    _fake: Option<StorageFake>,
    _gateway: Option<Gateway>,
}

impl Target {
    async fn new() -> Self {
        let vars = (
            std::env::var("SALESDESK_CONFORMANCE_STORAGE_URL"),
            std::env::var("SALESDESK_CONFORMANCE_JWT_SECRET"),
            std::env::var("SALESDESK_CONFORMANCE_DATABASE_URL"),
        );
        let (Ok(url), Ok(secret), Ok(db)) = vars else {
            let fake = StorageFake::start(SECRET).await;
            let token = mint_token(
                SECRET,
                &Claims::for_session(
                    uuid::Uuid::new_v4(),
                    uuid::Uuid::new_v4(),
                    "bench@example.com",
                ),
            );
            return Self {
                origin: fake.origin(),
                token,
                prefix: String::new(),
                label: "storage fake on 127.0.0.1 (bytes on disk)".into(),
                _fake: Some(fake),
                _gateway: None,
            };
        };
        let url = url.trim_end_matches('/').to_owned();
        let (origin, gateway) = match url.strip_suffix("/storage/v1") {
            Some(project) => (project.to_owned(), None),
            None => {
                let g = Gateway::start(&url).await;
                (g.origin(), Some(g))
            }
        };
        let owner = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&db)
            .await
            .expect("connect to the project database");
        let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
        let user = create_project_user(&owner, &secret, &email, Role::Rep)
            .await
            .expect("create the bench user");
        Self {
            origin,
            token: user.token,
            prefix: format!("{}/", user.id),
            label: format!(
                "real Storage server{} (bench user {})",
                if gateway.is_some() {
                    ", behind the test kit's gateway"
                } else {
                    ""
                },
                user.id
            ),
            _fake: None,
            _gateway: gateway,
        }
    }
}

#[tokio::main]
async fn main() {
    let mib: usize = std::env::var("SALESDESK_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let bytes = (mib as u64) << 20;
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("bench.wav");
    write_file(&src, mib);
    let target = Target::new().await;
    let (origin, token, prefix) = (
        target.origin.clone(),
        target.token.clone(),
        target.prefix.clone(),
    );
    let store = LocalStore::open(&dir.path().join("salesdesk.db"))
        .await
        .expect("store");
    let http = salesdesk_core::ai::http_client_builder(Duration::from_secs(5))
        .no_proxy()
        .build()
        .expect("http");
    let client = SupabaseStorage::new(
        http,
        StorageConfig::new(origin.clone()),
        Arc::new(StaticToken(SecretString::new(token.clone()))),
        store,
    );
    println!("{mib} MiB, {}", target.label);
    let a_wav = format!("{prefix}bench/a.wav");

    reset_peak();
    let idle = status_mib("VmRSS:");
    let start = Instant::now();
    client
        .upload(
            "call-recordings",
            &a_wav,
            &src,
            "audio/wav",
            true,
            &Transfer::default(),
        )
        .await
        .expect("upload");
    report(
        "salesdesk upload (TUS)",
        bytes,
        start.elapsed(),
        peak_rss_mib(idle),
    );

    reset_peak();
    let idle = status_mib("VmRSS:");
    let dest = dir.path().join("back.wav");
    let start = Instant::now();
    client
        .download("call-recordings", &a_wav, &dest, None, &Transfer::default())
        .await
        .expect("download");
    report(
        "salesdesk download (+SHA)",
        bytes,
        start.elapsed(),
        peak_rss_mib(idle),
    );
    let _ = std::fs::remove_file(&dest);

    let auth = format!("Authorization: Bearer {token}");
    let base = format!("{origin}/storage/v1/object");
    let src_s = src.to_string_lossy().into_owned();
    match curl(&[
        "-X",
        "POST",
        "-T",
        &src_s,
        "-H",
        &auth,
        "-H",
        "Content-Type: audio/wav",
        "-H",
        "x-upsert: true",
        &format!("{base}/call-recordings/{prefix}bench/curl.wav"),
    ]) {
        Some(t) => report("curl upload (one POST)", bytes, t, None),
        None => println!("curl upload: curl missing or failed"),
    }
    let tus_object = format!("{prefix}bench/curl-tus.wav");
    match curl_tus(&origin, &auth, &src, dir.path(), bytes, &tus_object) {
        Some(t) => report("curl upload (TUS, 6 MB)", bytes, t, None),
        None => println!("curl TUS upload: curl missing or failed"),
    }
    let curl_back = dir
        .path()
        .join("curl-back.wav")
        .to_string_lossy()
        .into_owned();
    match curl_to(
        &curl_back,
        &[
            "-H",
            &auth,
            &format!("{base}/authenticated/call-recordings/{prefix}bench/curl.wav"),
        ],
    ) {
        // To a file, as the client writes one (curl does not fsync; the client does).
        Some(t) => {
            report("curl download (to a file)", bytes, t, None);
            // The same durability as the client's: the file on disk before it counts as done.
            let start = Instant::now();
            let synced = std::process::Command::new("sync")
                .arg(&curl_back)
                .status()
                .is_ok_and(|s| s.success());
            if synced {
                report("curl download + fsync", bytes, t + start.elapsed(), None);
            }
        }
        None => println!("curl download: curl missing or failed"),
    }
    // On a real server, leave no bench objects behind (the fake goes away by itself).
    if target._fake.is_none() {
        let curl_obj = format!("{prefix}bench/curl.wav");
        let _ = client
            .delete("call-recordings", &[&a_wav, &curl_obj, &tus_object])
            .await;
    }
}
