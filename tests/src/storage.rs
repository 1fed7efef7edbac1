//! What the storage-client tests share: reproducible test files with their SHA-256, a storage
//! client built the way the tests build it, and uploads/downloads without progress or cancel.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use salesdesk_core::data::local::LocalStore;
use salesdesk_core::files::{
    Downloaded, FileError, StorageConfig, SupabaseStorage, TokenSource, Transfer, Uploaded,
};
use sha2::{Digest, Sha256};

/// The first bytes of a WAV file (enough for the buckets' type sniffing).
pub const WAV: &[u8] = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00";
/// The first bytes of a PNG file.
pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
];

/// `bytes` extended to `len` with xorshift64 output from `start`. Hand-written rather than a
/// random crate: the tests need the same incompressible content on every run and machine.
pub fn fill_pseudo_random(mut bytes: Vec<u8>, len: usize, start: u64) -> Vec<u8> {
    let mut x = start;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// `head` then pseudo-random bytes, `len` in all; `seed` varies the content of files of the
/// same length (seed 0 gives what the storage tests always used).
pub fn seeded_bytes(head: &[u8], len: usize, seed: u64) -> Vec<u8> {
    let start = 0x9E37_79B9_7F4A_7C15 ^ len as u64 ^ seed.wrapping_mul(0x1000_0001);
    fill_pseudo_random(head.to_vec(), len, start)
}

/// Writes [`seeded_bytes`] to `path`; returns their SHA-256 (hex).
pub fn write_seeded(path: &Path, head: &[u8], len: usize, seed: u64) -> String {
    let bytes = seeded_bytes(head, len, seed);
    std::fs::write(path, &bytes).expect("write test file");
    sha(&bytes)
}

/// SHA-256 as lowercase hex, the form the storage client reports.
pub fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 (hex) of the file at `p`.
pub fn sha_file(p: &Path) -> String {
    sha(&std::fs::read(p).expect("read"))
}

/// A transfer that cancels itself once `at` bytes are done.
pub fn cancel_at(at: u64) -> Transfer {
    let t = Transfer::default();
    let flag = t.cancel.clone();
    Transfer {
        on_progress: Some(Arc::new(move |p| {
            if p.done >= at {
                flag.cancel();
            }
        })),
        ..t
    }
}

/// An HTTP client that ignores proxy settings of the machine (the servers are on 127.0.0.1).
pub fn test_http(timeout: Duration) -> reqwest::Client {
    salesdesk_core::ai::http_client_builder(timeout)
        .no_proxy()
        .build()
        .expect("http client")
}

/// A storage client over [`test_http`] with `connect_timeout`.
pub fn storage_client(
    connect_timeout: Duration,
    config: StorageConfig,
    tokens: Arc<dyn TokenSource>,
    store: LocalStore,
) -> SupabaseStorage {
    SupabaseStorage::new(test_http(connect_timeout), config, tokens, store)
}

/// Uploads and downloads with a default [`Transfer`] (no progress, no cancel): what most
/// storage tests do, without repeating the argument.
pub trait PlainTransfers {
    fn storage(&self) -> &SupabaseStorage;

    /// [`SupabaseStorage::upload`] with a default transfer.
    fn upload_file(
        &self,
        bucket: &str,
        key: &str,
        src: &Path,
        content_type: &str,
        upsert: bool,
    ) -> impl Future<Output = Result<Uploaded, FileError>> {
        async move {
            self.storage()
                .upload(bucket, key, src, content_type, upsert, &Transfer::default())
                .await
        }
    }

    /// [`SupabaseStorage::download`] with a default transfer.
    fn download_file(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
        expected_sha256: Option<&str>,
    ) -> impl Future<Output = Result<Downloaded, FileError>> {
        async move {
            self.storage()
                .download(bucket, key, dest, expected_sha256, &Transfer::default())
                .await
        }
    }

    /// Downloads `bucket/key` to `dest` expecting `digest`, and checks the file on disk has
    /// it too (panics otherwise).
    fn download_checked(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
        digest: &str,
    ) -> impl Future<Output = Downloaded> {
        async move {
            let got = self
                .download_file(bucket, key, dest, Some(digest))
                .await
                .unwrap_or_else(|e| panic!("download {bucket}/{key}: {e:?}"));
            assert_eq!(sha_file(dest), digest, "{bucket}/{key} on disk");
            got
        }
    }
}

impl PlainTransfers for SupabaseStorage {
    fn storage(&self) -> &SupabaseStorage {
        self
    }
}

/// An 8 kHz 8-bit mono PCM WAV file holding `samples` (one a byte).
pub fn wav_8khz_mono(samples: Vec<u8>) -> Vec<u8> {
    let mut b = b"RIFF".to_vec();
    b.extend(u32::try_from(36 + samples.len()).unwrap().to_le_bytes());
    b.extend(b"WAVEfmt ");
    b.extend(16u32.to_le_bytes());
    b.extend(1u16.to_le_bytes());
    b.extend(1u16.to_le_bytes());
    b.extend(8000u32.to_le_bytes());
    b.extend(8000u32.to_le_bytes());
    b.extend(1u16.to_le_bytes());
    b.extend(8u16.to_le_bytes());
    b.extend(b"data");
    b.extend(u32::try_from(samples.len()).unwrap().to_le_bytes());
    b.extend(samples);
    b
}
