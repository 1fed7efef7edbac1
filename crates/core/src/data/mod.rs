//! Data: the local SQLite store every page reads from, and the records kept in it.
//! (The remote Postgres store and the sync engine join here in team mode.)

pub mod analyses;
pub mod campaigns;
pub mod clients;
pub mod fields;
pub mod local;
pub mod materials;
mod record;
pub mod remote;
pub mod signups;
