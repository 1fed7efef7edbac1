//! Call analysis: transcripts in, a [`report::CallAnalysis`] out.

pub mod report;
