//! JSON from transcription services: a plain `[{speaker, start, end, text}]` array, or an
//! object with a `segments` array (OpenAI `verbose_json`, and `diarized_json` whose segments
//! carry a `speaker`), or AssemblyAI's `utterances` (times in milliseconds). Other times are
//! seconds, as numbers or `hh:mm:ss.mmm` strings.

use serde_json::{Map, Value};

use super::parse_timecode;
use crate::analysis::error::IngestError;
use crate::analysis::transcript::{Transcript, TranscriptFormat, Turn};

const FORMAT: &str = "JSON";

pub fn parse(text: &str) -> Result<Transcript, IngestError> {
    // serde_json's messages give a line and column, never the content.
    let value: Value = serde_json::from_str(text).map_err(|e| IngestError::Malformed {
        format: FORMAT,
        reason: format!("invalid JSON ({e})"),
    })?;
    // AssemblyAI's `utterances` carry times in milliseconds; everything else in seconds.
    let mut time_scale = 1.0;
    let segments = match &value {
        Value::Array(items) => items,
        Value::Object(obj) => obj
            .get("segments")
            .and_then(Value::as_array)
            .or_else(|| {
                time_scale = 0.001;
                obj.get("utterances").and_then(Value::as_array)
            })
            .ok_or_else(|| IngestError::Malformed {
                format: FORMAT,
                reason: "expected a list of segments ([{\"speaker\", \"start\", \"end\", \
                         \"text\"}]) or an object with a \"segments\" array"
                    .into(),
            })?,
        _ => {
            return Err(IngestError::Malformed {
                format: FORMAT,
                reason: "expected a list of segments or an object with a \"segments\" array".into(),
            });
        }
    };
    if segments.is_empty() {
        return Err(IngestError::Empty);
    }
    let mut turns = Vec::with_capacity(segments.len());
    let mut last_speaker: Option<String> = None;
    let mut any_speaker = false;
    let mut unattributed = 0usize;
    for (i, seg) in segments.iter().enumerate() {
        let obj = seg.as_object().ok_or_else(|| IngestError::Malformed {
            format: FORMAT,
            reason: format!("segment {} is not an object", i + 1),
        })?;
        let text = field(obj, &["text", "transcript"])
            .and_then(Value::as_str)
            .ok_or_else(|| IngestError::Malformed {
                format: FORMAT,
                reason: format!("segment {} has no \"text\" string", i + 1),
            })?;
        let speaker = match field(obj, &["speaker", "speaker_label", "speaker_name", "name"]) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(format!("Speaker {n}")),
            _ => None,
        };
        let speaker = match speaker {
            Some(s) => {
                any_speaker = true;
                last_speaker = Some(s.clone());
                s
            }
            None => match &last_speaker {
                Some(s) => s.clone(),
                None => {
                    unattributed += 1;
                    continue;
                }
            },
        };
        turns.push(Turn {
            speaker,
            start: time(obj, &["start", "start_time", "startTime"], i)?.map(|t| t * time_scale),
            end: time(obj, &["end", "end_time", "endTime"], i)?.map(|t| t * time_scale),
            text: text.to_owned(),
        });
    }
    if !any_speaker {
        return Err(IngestError::NoSpeakers {
            format: FORMAT,
            hint: "its segments have no \"speaker\" field (OpenAI verbose_json does not \
                   identify speakers): transcribe with speaker diarization (for example \
                   response_format diarized_json) or add a \"speaker\" to each segment"
                .into(),
        });
    }
    let mut notes = Vec::new();
    if unattributed > 0 {
        notes.push(format!(
            "ignored {unattributed} segment(s) before the first one with a speaker"
        ));
    }
    Transcript::finish(TranscriptFormat::Json, turns, notes)
}

fn field<'a>(obj: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| obj.get(*n))
}

fn time(obj: &Map<String, Value>, names: &[&str], i: usize) -> Result<Option<f64>, IngestError> {
    match field(obj, names) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => parse_timecode(s)
            .or_else(|| s.trim().parse::<f64>().ok())
            .map(Some)
            .ok_or_else(|| IngestError::Malformed {
                format: FORMAT,
                reason: format!(
                    "segment {} has an unreadable time '{}'",
                    i + 1,
                    s.chars().take(20).collect::<String>()
                ),
            }),
        Some(_) => Err(IngestError::Malformed {
            format: FORMAT,
            reason: format!(
                "segment {} has a time that is neither a number nor a string",
                i + 1
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn assemblyai_utterances_are_in_milliseconds() {
        let t = super::parse(
            r#"{"utterances":[{"speaker":"A","start":250,"end":4250,"text":"Hi there."},
                {"speaker":"B","start":4500,"end":6000,"text":"Hello."}]}"#,
        )
        .unwrap();
        assert_eq!(t.turns[0].start, Some(0.25));
        assert_eq!(t.turns[1].end, Some(6.0));
    }
}
