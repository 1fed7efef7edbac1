//! Salesdesk's test kit: isolated environments for tests (their own data directory, HOME and
//! XDG folders), drivers for the real desktop app, and wire-faithful fakes of the remote
//! services that cannot run on a test machine.

pub mod desktop;
pub mod isolated;
