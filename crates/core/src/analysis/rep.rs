//! Which speaker is the rep: the one the user chose, else a guess that is always stated in
//! the result's notes (the signed-in user's name, a role label such as "Rep", the other
//! speaker when one is labelled "Customer", else the first speaker).

use serde::Serialize;

use super::error::IngestError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RepSource {
    /// Chosen by the user (`--rep`).
    Given,
    /// Guessed: the speaker's name matches the signed-in user.
    SignedInUser,
    /// Guessed: the speaker is labelled as the rep ("Rep", "Sales", "Agent", ...).
    RoleLabel,
    /// Guessed: the only other speaker is labelled as the customer.
    OtherIsCustomer,
    /// Guessed: the first speaker (the usual opener of a sales call).
    FirstSpeaker,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepChoice {
    pub name: String,
    pub source: RepSource,
    /// The statement of the guess, for the notes; `None` when the user chose.
    pub note: Option<String>,
}

const REP_LABELS: &[&str] = &[
    "rep",
    "sales rep",
    "sales",
    "salesperson",
    "seller",
    "agent",
    "account executive",
    "ae",
    "sdr",
    "bdr",
];
const CUSTOMER_LABELS: &[&str] = &["customer", "prospect", "client", "buyer", "lead"];

/// Chooses the rep among `speakers` (in order of first appearance, at least one).
pub fn choose(
    speakers: &[&str],
    given: Option<&str>,
    signed_in_user: Option<&str>,
) -> Result<RepChoice, IngestError> {
    if let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) {
        return match find(speakers, given) {
            Some(name) => Ok(RepChoice {
                name: name.to_owned(),
                source: RepSource::Given,
                note: None,
            }),
            None => Err(IngestError::UnknownRep {
                given: given.to_owned(),
                found: speakers.join(", "),
            }),
        };
    }
    let guess = |name: &str, source, why: String| RepChoice {
        name: name.to_owned(),
        source,
        note: Some(format!(
            "rep guessed: '{name}' {why}; choose the rep (--rep NAME on the command line) if \
             this is wrong"
        )),
    };
    if let Some(user) = signed_in_user.map(user_name).filter(|u| !u.is_empty())
        && let Some(name) = find(speakers, &user)
    {
        return Ok(guess(
            name,
            RepSource::SignedInUser,
            "matches the signed-in user".into(),
        ));
    }
    let labelled = |labels: &[&str]| -> Vec<&str> {
        speakers
            .iter()
            .copied()
            .filter(|s| labels.contains(&s.to_lowercase().as_str()))
            .collect()
    };
    if let [name] = labelled(REP_LABELS)[..] {
        return Ok(guess(
            name,
            RepSource::RoleLabel,
            "is labelled as the rep".into(),
        ));
    }
    if speakers.len() == 2
        && let [customer] = labelled(CUSTOMER_LABELS)[..]
    {
        let name = if speakers[0] == customer {
            speakers[1]
        } else {
            speakers[0]
        };
        return Ok(guess(
            name,
            RepSource::OtherIsCustomer,
            format!("is the speaker other than '{customer}'"),
        ));
    }
    Ok(guess(
        speakers[0],
        RepSource::FirstSpeaker,
        "is the first speaker".into(),
    ))
}

/// A speaker equal to `wanted` (ignoring case), else the only speaker whose first name is it.
fn find<'a>(speakers: &[&'a str], wanted: &str) -> Option<&'a str> {
    let wanted = wanted.to_lowercase();
    if let Some(s) = speakers.iter().find(|s| s.to_lowercase() == wanted) {
        return Some(s);
    }
    let first = wanted.split_whitespace().next()?;
    let matches: Vec<&str> = speakers
        .iter()
        .copied()
        .filter(|s| {
            let lower = s.to_lowercase();
            let speaker_first = lower.split_whitespace().next().unwrap_or("");
            speaker_first == wanted || (first.chars().count() > 1 && speaker_first == first)
        })
        .collect();
    match matches[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// "Alice Smith" stays; "alice.smith@acme.com" becomes "alice".
fn user_name(user: &str) -> String {
    let user = user.trim();
    match user.split_once('@') {
        Some((local, _)) => local.split(['.', '_', '-']).next().unwrap_or("").to_owned(),
        None => user.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_rep_matches_case_and_first_name() {
        let s = ["Alice Smith", "Bob Jones"];
        assert_eq!(choose(&s, Some("bob"), None).unwrap().name, "Bob Jones");
        assert_eq!(
            choose(&s, Some("ALICE SMITH"), None).unwrap().source,
            RepSource::Given
        );
        assert!(matches!(
            choose(&s, Some("Carol"), None),
            Err(IngestError::UnknownRep { .. })
        ));
    }

    #[test]
    fn guesses_are_stated() {
        let s = ["Bob", "Alice"];
        let c = choose(&s, None, Some("alice.w@example.com")).unwrap();
        assert_eq!(
            (c.name.as_str(), c.source),
            ("Alice", RepSource::SignedInUser)
        );
        assert!(c.note.unwrap().contains("signed-in user"));
        let c = choose(&["Customer", "Dana"], None, None).unwrap();
        assert_eq!(
            (c.name.as_str(), c.source),
            ("Dana", RepSource::OtherIsCustomer)
        );
        let c = choose(&["Prospect X", "Rep"], None, None).unwrap();
        assert_eq!(c.source, RepSource::RoleLabel);
        let c = choose(&s, None, None).unwrap();
        assert_eq!(
            (c.name.as_str(), c.source),
            ("Bob", RepSource::FirstSpeaker)
        );
        assert!(c.note.unwrap().contains("first speaker"));
    }
}
