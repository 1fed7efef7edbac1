//! Running analyses the UI may cancel, by the job id the UI chose.

use std::collections::HashMap;
use std::sync::Mutex;

use salesdesk_core::analysis::job::CancelFlag;

#[derive(Default)]
pub struct Jobs {
    running: Mutex<HashMap<String, CancelFlag>>,
}

impl Jobs {
    /// Registers a job (when the UI gave it an id) and returns its cancel flag.
    pub fn start(&self, id: Option<&str>) -> CancelFlag {
        let flag = CancelFlag::default();
        if let Some(id) = id {
            self.lock().insert(id.to_owned(), flag.clone());
        }
        flag
    }

    pub fn finish(&self, id: Option<&str>) {
        if let Some(id) = id {
            self.lock().remove(id);
        }
    }

    /// Cancels a running job; an unknown or finished job is not an error (it may have just
    /// ended).
    pub fn cancel(&self, id: &str) {
        if let Some(flag) = self.lock().get(id) {
            flag.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancelFlag>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}
