//! The error every command returns: a kind the UI branches on and a message for the user.

use salesdesk_core::ErrorKind;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}
