//! The team project's settings on this device: the Supabase project URL and anon (publishable)
//! key, and the team database URL. They live in the local `team_settings` table, except the
//! database password, which goes to the keyring and is write-only: nothing here ever returns it.

use serde::{Deserialize, Serialize};

use super::setup::{ENV_DATABASE_URL, TeamSetup};
use crate::auth::{ENV_ANON_KEY, ENV_URL};
use crate::data::local::LocalStore;
use crate::error::{CoreError, Result};
use crate::secrets::SecretString;
use crate::time::now_rfc3339;

/// What the Settings page shows. Never the database password: only whether one is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct TeamSettingsView {
    /// `https://PROJECT.supabase.co`, or `null` in local mode.
    pub supabase_url: Option<String>,
    /// The project's anon or publishable key (public by design: it only identifies the project).
    pub anon_key: Option<String>,
    /// The team database URL without its password.
    pub database_url: Option<String>,
    pub database_password_set: bool,
    /// Settings taken from environment variables (they win over the saved ones), by variable.
    pub from_environment: Vec<String>,
    /// True when the project URL and key are set: sign-in is possible.
    pub configured: bool,
}

/// What the Settings page saves. Empty or missing fields clear the setting.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct TeamSettingsInput {
    pub supabase_url: Option<String>,
    pub anon_key: Option<String>,
    /// `postgres://USER@HOST:PORT/DB`. A password written into the URL is moved to the keyring.
    pub database_url: Option<String>,
    /// `null`: keep the saved password; `""`: remove it; anything else replaces it.
    pub database_password: Option<String>,
}

impl std::fmt::Debug for TeamSettingsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamSettingsInput")
            .field("supabase_url", &self.supabase_url)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field(
                "database_password",
                &self.database_password.as_ref().map(|_| "***"),
            )
            .finish_non_exhaustive()
    }
}

/// The settings in force: saved ones, overridden by the environment where the setup allows.
#[derive(Clone, Default)]
pub struct EffectiveSettings {
    pub supabase_url: Option<String>,
    pub anon_key: Option<String>,
    /// With the password when one is known (from the environment URL or the keyring).
    pub database_url: Option<SecretString>,
    pub from_environment: Vec<String>,
}

#[derive(sqlx::FromRow, Default)]
struct Row {
    supabase_url: Option<String>,
    anon_key: Option<String>,
    database_url: Option<String>,
}

async fn saved(store: &LocalStore) -> Result<Row> {
    let row = sqlx::query_as::<_, Row>(
        "SELECT supabase_url, anon_key, database_url FROM team_settings WHERE id = 1",
    )
    .fetch_optional(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(row.unwrap_or_default())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The project URL and anon key in force (environment first when the setup allows); never
/// touches the keyring.
pub async fn project(
    store: &LocalStore,
    setup: &TeamSetup,
) -> Result<(Option<String>, Option<String>)> {
    let row = saved(store).await?;
    let mut url = row.supabase_url;
    let mut key = row.anon_key;
    if setup.env_overrides {
        url = env(ENV_URL).or(url);
        key = env(ENV_ANON_KEY).or(key);
    }
    Ok((url, key))
}

/// The settings in force. Reads the keyring only when a database URL is saved.
pub async fn effective(store: &LocalStore, setup: &TeamSetup) -> Result<EffectiveSettings> {
    let row = saved(store).await?;
    let mut out = EffectiveSettings {
        supabase_url: row.supabase_url,
        anon_key: row.anon_key,
        database_url: None,
        from_environment: Vec::new(),
    };
    if setup.env_overrides {
        if let Some(v) = env(ENV_URL) {
            out.supabase_url = Some(v);
            out.from_environment.push(ENV_URL.to_owned());
        }
        if let Some(v) = env(ENV_ANON_KEY) {
            out.anon_key = Some(v);
            out.from_environment.push(ENV_ANON_KEY.to_owned());
        }
        if let Some(v) = env(ENV_DATABASE_URL) {
            out.database_url = Some(SecretString::new(v));
            out.from_environment.push(ENV_DATABASE_URL.to_owned());
            return Ok(out);
        }
    }
    if let Some(url) = row.database_url {
        let password = setup.password_vault.load().await?;
        out.database_url = Some(with_password(&url, password.as_ref())?);
    }
    Ok(out)
}

/// The view for the Settings page.
pub async fn view(store: &LocalStore, setup: &TeamSetup) -> Result<TeamSettingsView> {
    let row = saved(store).await?;
    let password_set = match &row.database_url {
        Some(_) => setup.password_vault.load().await?.is_some(),
        None => false,
    };
    let mut view = TeamSettingsView {
        supabase_url: row.supabase_url,
        anon_key: row.anon_key,
        database_url: row.database_url,
        database_password_set: password_set,
        from_environment: Vec::new(),
        configured: false,
    };
    if setup.env_overrides {
        if let Some(v) = env(ENV_URL) {
            view.supabase_url = Some(v);
            view.from_environment.push(ENV_URL.to_owned());
        }
        if let Some(v) = env(ENV_ANON_KEY) {
            view.anon_key = Some(v);
            view.from_environment.push(ENV_ANON_KEY.to_owned());
        }
        if let Some(v) = env(ENV_DATABASE_URL) {
            let (url, password) = split_password(&v)?;
            view.database_url = Some(url);
            view.database_password_set = password.is_some();
            view.from_environment.push(ENV_DATABASE_URL.to_owned());
        }
    }
    view.configured = view.supabase_url.is_some() && view.anon_key.is_some();
    Ok(view)
}

/// Validates and saves. Everything is checked before anything is written, so a bad field
/// leaves the saved settings (and the saved password) as they were.
pub async fn save(store: &LocalStore, setup: &TeamSetup, input: TeamSettingsInput) -> Result<()> {
    let supabase_url = clean(input.supabase_url)
        .map(|u| check_project_url(&u))
        .transpose()?;
    let anon_key = clean(input.anon_key)
        .map(|k| check_anon_key(&k))
        .transpose()?;
    if supabase_url.is_some() != anon_key.is_some() {
        return Err(CoreError::InvalidInput(
            "set both the project URL and its anon (publishable) key, or neither (local mode)"
                .into(),
        ));
    }
    let (database_url, password_in_url) = match clean(input.database_url) {
        Some(url) => {
            let (url, password) = split_password(&url)?;
            (Some(url), password)
        }
        None => (None, None),
    };
    // What to do with the keyring entry: Some(Some(p)) store p, Some(None) remove, None keep.
    let had_database = saved(store).await?.database_url.is_some();
    let password_change = match (input.database_password, password_in_url) {
        // No database, no password: never leave one in the keyring without its URL (and do
        // not touch the keyring at all when there never was one).
        _ if database_url.is_none() => had_database.then_some(None),
        (Some(p), _) if p.is_empty() => Some(None),
        (Some(p), _) => Some(Some(SecretString::new(p))),
        (None, Some(p)) => Some(Some(p)),
        (None, None) => None,
    };
    if let Some(Some(p)) = &password_change
        && (p.expose().len() > 1024 || p.expose().contains(['\n', '\r', '\0']))
    {
        return Err(CoreError::InvalidInput(
            "the database password cannot contain line breaks and must be under 1024 characters"
                .into(),
        ));
    }
    match password_change {
        Some(Some(p)) => setup.password_vault.save(p).await?,
        Some(None) => setup.password_vault.clear().await?,
        None => {}
    }
    sqlx::query(
        "INSERT INTO team_settings (id, supabase_url, anon_key, database_url, updated_at) \
         VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET supabase_url = excluded.supabase_url, \
         anon_key = excluded.anon_key, database_url = excluded.database_url, \
         updated_at = excluded.updated_at",
    )
    .bind(supabase_url)
    .bind(anon_key)
    .bind(database_url)
    .bind(now_rfc3339())
    .execute(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(())
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn check_project_url(url: &str) -> Result<String> {
    let bad = |why: &str| {
        CoreError::InvalidInput(format!(
            "the project URL {why}: use the URL shown in the Supabase dashboard, like \
             https://PROJECT.supabase.co"
        ))
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| bad("is not a URL"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(bad("must start with https://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host name"));
    }
    if parsed.query().is_some() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("must not carry a query or credentials"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn check_anon_key(key: &str) -> Result<String> {
    if key.len() > 4096 || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CoreError::InvalidInput(
            "the anon key must be one line without spaces (copy it from the project's API \
             settings)"
                .into(),
        ));
    }
    Ok(key.to_owned())
}

/// Splits a `postgres://` URL into the URL without its password and the password.
pub fn split_password(url: &str) -> Result<(String, Option<SecretString>)> {
    let bad = |why: &str| {
        CoreError::InvalidInput(format!(
            "the database URL {why}: use postgres://USER@HOST:PORT/DATABASE (the password goes \
             in its own field)"
        ))
    };
    let mut parsed = reqwest::Url::parse(url).map_err(|_| bad("is not a URL"))?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(bad("must start with postgres://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host name"));
    }
    if parsed.username().is_empty() {
        return Err(bad("has no user name"));
    }
    let password = parsed
        .password()
        .map(|p| SecretString::new(percent_decode(p).unwrap_or_else(|| p.to_owned())));
    parsed
        .set_password(None)
        .map_err(|()| bad("cannot hold a password"))?;
    Ok((parsed.to_string(), password))
}

/// Puts `password` back into a URL saved without it.
fn with_password(url: &str, password: Option<&SecretString>) -> Result<SecretString> {
    let mut parsed = reqwest::Url::parse(url).map_err(|_| {
        CoreError::Store("the saved team database URL is unreadable; save it again".into())
    })?;
    if let Some(p) = password {
        parsed.set_password(Some(p.expose())).map_err(|()| {
            CoreError::Store("the saved team database URL cannot hold a password".into())
        })?;
    }
    Ok(SecretString::new(parsed.to_string()))
}

fn percent_decode(s: &str) -> Option<String> {
    // `url` keeps userinfo percent-encoded; decoding by hand avoids a dependency for 10 lines.
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A URL safe to print: the password replaced.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(not a URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_database_url_is_split_off_and_decoded() {
        let (url, pw) = split_password(
            "postgres://salesdesk_app:p%40ss-not-real@db.example.test:6543/postgres",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://salesdesk_app@db.example.test:6543/postgres"
        );
        assert_eq!(pw.unwrap().expose(), "p@ss-not-real");
        let back = with_password(&url, Some(&SecretString::new("p@ss-not-real"))).unwrap();
        assert_eq!(
            split_password(back.expose()).unwrap().1.unwrap().expose(),
            "p@ss-not-real"
        );
    }

    #[test]
    fn bad_urls_get_errors_that_say_what_to_type() {
        for bad in [
            "mysql://u@h/db",
            "postgres:///db",
            "not a url",
            "postgres://h/db",
        ] {
            let e = split_password(bad).unwrap_err().to_string();
            assert!(e.contains("postgres://USER@HOST"), "{bad}: {e}");
        }
        assert!(check_project_url("ftp://x.supabase.co").is_err());
        assert!(check_project_url("https://x.supabase.co?x=1").is_err());
        assert_eq!(
            check_project_url("https://x.supabase.co/").unwrap(),
            "https://x.supabase.co"
        );
        assert!(check_anon_key("two words").is_err());
        assert!(!redact_url("postgres://u:secret-not-real@h/db").contains("secret"));
    }
}
