//! Captures everything a test's code logs through `tracing` (at every level, every target,
//! spans included), so a test can check that no key ever reaches a log line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
pub struct CapturedLogs {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().map(|b| b.clone()).unwrap_or_default())
            .into_owned()
    }

    /// A subscriber writing TRACE and up, as text with all fields, into this buffer. Install it
    /// with `tracing::subscriber::set_default` in a current-thread runtime test.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(self.clone())
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .finish()
    }
}

pub struct Writer(Arc<Mutex<Vec<u8>>>);

impl Write for Writer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(data);
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = Writer;
    fn make_writer(&'a self) -> Self::Writer {
        Writer(self.buf.clone())
    }
}
