//! Writing results to stdout; errors here (a closed pipe) become `Failure`s, not panics.

use std::io::Write;

use serde::Serialize;

use crate::Failure;

pub fn print_line(line: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    Ok(())
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        code: 2,
        message: format!("cannot encode the result as JSON: {e}"),
    })?;
    print_line(&text)
}
