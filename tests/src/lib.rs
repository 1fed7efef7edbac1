//! Salesdesk's test kit: wire-faithful fakes of the remote services that cannot run on a test
//! machine, and helpers shared by the cross-crate tests in `tests/tests/`.
//!
//! Nothing here is product code: the desktop app and the CLI never link it.

pub mod fakes;
pub mod harness;
pub mod logs;
