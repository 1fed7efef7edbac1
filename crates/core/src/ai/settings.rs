//! The chain's settings: which providers each capability uses and in what order, each
//! provider's base URL and model, timeouts, retry and breaker tuning. Saved in the local store
//! (`ai_settings`), edited on the Settings page; the CLI may override base URLs, models and
//! the order with environment variables ([`AiSettings::apply_env`]).
//!
//! Keys are not here: they live in the keyring or the environment (`crate::secrets`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::provider::{AuthHeader, Endpoint};
use super::retry::RetryPolicy;
use super::{ProviderId, anthropic, gemini, openai};
use crate::data::local::LocalStore;
use crate::error::{CoreError, Result};
use crate::secrets::SecretString;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct AiSettings {
    pub gemini: ProviderSettings,
    pub openai: ProviderSettings,
    pub anthropic: ProviderSettings,
    pub routes: Routes,
    pub timeouts: Timeouts,
    pub retry: RetrySettings,
    pub breaker: BreakerSettings,
    /// Stream answers (time-to-first-token timeout, earlier detection of a hung provider).
    pub stream: bool,
    pub cache: CacheSettings,
    /// Longest transcript sent in one request (characters); longer ones are analysed in parts
    /// and merged. 240,000 characters is about 60k tokens: it fits the context of every default
    /// model (Gemini 2.5 Flash 1M, GPT-5 mini 400k, Claude Haiku 4.5 200k) with room to answer.
    pub max_input_chars: u32,
}

impl Default for AiSettings {
    fn default() -> Self {
        Self {
            gemini: ProviderSettings::new(gemini::DEFAULT_MODEL),
            openai: ProviderSettings::new(openai::DEFAULT_MODEL),
            anthropic: ProviderSettings::new(anthropic::DEFAULT_MODEL),
            routes: Routes::default(),
            timeouts: Timeouts::default(),
            retry: RetrySettings::default(),
            breaker: BreakerSettings::default(),
            stream: true,
            cache: CacheSettings::default(),
            max_input_chars: 240_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct ProviderSettings {
    pub enabled: bool,
    /// `null` = the official endpoint (or the SDK-standard environment variable in the CLI).
    pub base_url: Option<String>,
    pub model: String,
    /// Used when `model` answers 404 "model not found" (retired under us).
    pub fallback_model: Option<String>,
    /// OpenAI-compatible servers only: `api_key` sends the key in Azure OpenAI's `api-key`
    /// header instead of `Authorization: Bearer`. A setting rather than a guess from the URL:
    /// Azure also serves custom domains and proxies front it under any name.
    pub auth_header: AuthHeader,
    /// OpenAI-compatible servers only: Azure OpenAI's `api-version` query parameter (e.g.
    /// `2024-10-21` for the deployments API); `null` sends none (OpenAI, Azure's v1 API).
    pub api_version: Option<String>,
}

impl ProviderSettings {
    pub fn new(model: &str) -> Self {
        Self {
            enabled: true,
            base_url: None,
            model: model.to_owned(),
            fallback_model: None,
            auth_header: AuthHeader::Bearer,
            api_version: None,
        }
    }
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self::new("")
    }
}

/// The ordered provider list of each capability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct Routes {
    pub call_analysis: Vec<ProviderId>,
    pub roleplay: Vec<ProviderId>,
    pub market_search: Vec<ProviderId>,
}

impl Default for Routes {
    fn default() -> Self {
        let text = vec![
            ProviderId::Gemini,
            ProviderId::OpenAi,
            ProviderId::Anthropic,
        ];
        Self {
            call_analysis: text.clone(),
            roleplay: text.clone(),
            market_search: text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct Timeouts {
    pub connect_ms: u32,
    /// Response headers, or the first streamed token; also the longest silence mid-stream.
    pub first_byte_ms: u32,
    /// One attempt, start to finish.
    pub call_ms: u32,
    /// Everything one request may take across providers, retries and waits.
    pub deadline_ms: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect_ms: 5_000,
            first_byte_ms: 30_000,
            call_ms: 120_000,
            deadline_ms: 240_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct RetrySettings {
    pub max_attempts: u32,
    pub base_ms: u32,
    pub cap_ms: u32,
    /// The longest provider retry hint waited out; longer hints move to the next provider.
    pub max_wait_ms: u32,
}

impl Default for RetrySettings {
    fn default() -> Self {
        let p = RetryPolicy::default();
        Self {
            max_attempts: p.max_attempts,
            base_ms: ms(p.base),
            cap_ms: ms(p.cap),
            max_wait_ms: ms(p.max_wait),
        }
    }
}

impl RetrySettings {
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            base: Duration::from_millis(self.base_ms.into()),
            cap: Duration::from_millis(self.cap_ms.into()),
            max_wait: Duration::from_millis(self.max_wait_ms.into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct BreakerSettings {
    /// Consecutive failed attempts that open the breaker.
    pub failure_threshold: u32,
    /// First cool-down before a half-open probe; doubles after each failed probe.
    pub cooldown_ms: u32,
    pub max_cooldown_ms: u32,
    /// How long a quota that gave no reset time keeps the breaker open.
    pub quota_open_ms: u32,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            failure_threshold: 3,
            cooldown_ms: 30_000,
            max_cooldown_ms: 600_000,
            quota_open_ms: 3_600_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct CacheSettings {
    pub enabled: bool,
    /// A cached answer younger than this is served instead of calling a provider. Older ones
    /// are still served, marked with their age, when every provider fails.
    pub fresh_days: u32,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            fresh_days: 30,
        }
    }
}

fn ms(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

impl AiSettings {
    pub fn provider(&self, id: ProviderId) -> &ProviderSettings {
        match id {
            ProviderId::Gemini => &self.gemini,
            ProviderId::OpenAi => &self.openai,
            ProviderId::Anthropic => &self.anthropic,
        }
    }

    pub fn provider_mut(&mut self, id: ProviderId) -> &mut ProviderSettings {
        match id {
            ProviderId::Gemini => &mut self.gemini,
            ProviderId::OpenAi => &mut self.openai,
            ProviderId::Anthropic => &mut self.anthropic,
        }
    }

    /// The base URL in force for `id`: the setting, else the official endpoint.
    pub fn base_url(&self, id: ProviderId) -> String {
        self.provider(id)
            .base_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| default_base_url(id).to_owned())
    }

    /// Where and how to call `id` with `key`: base URL, auth header style, `api-version`.
    pub fn endpoint(&self, id: ProviderId, key: SecretString) -> Endpoint {
        let p = self.provider(id);
        Endpoint {
            base_url: self.base_url(id),
            key,
            auth_header: p.auth_header,
            api_version: p
                .api_version
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        }
    }

    pub fn route(&self, capability: super::Capability) -> &[ProviderId] {
        match capability {
            super::Capability::CallAnalysis => &self.routes.call_analysis,
            super::Capability::Roleplay => &self.routes.roleplay,
            super::Capability::MarketSearch => &self.routes.market_search,
        }
    }

    /// The CLI's overrides: `GOOGLE_GEMINI_BASE_URL`, `OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`
    /// (as the official SDKs read them), `SALESDESK_{GEMINI,OPENAI,ANTHROPIC}_MODEL`, and
    /// `SALESDESK_AI_PROVIDERS` (e.g. `openai,anthropic`) for the order of every capability.
    pub fn apply_env(&mut self) -> Result<()> {
        self.apply_vars(|name| std::env::var(name).ok())
    }

    pub fn apply_vars(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<()> {
        let set = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        for id in ProviderId::ALL {
            let (url_var, model_var) = provider_vars(id);
            if let Some(url) = set(var(url_var)) {
                self.provider_mut(id).base_url = Some(url);
            }
            if let Some(model) = set(var(model_var)) {
                self.provider_mut(id).model = model;
            }
        }
        // Azure OpenAI from the CLI: `OPENAI_API_VERSION` as the official SDKs' Azure client
        // reads it, and the header style (no SDK convention exists for it).
        if let Some(version) = set(var(API_VERSION_VAR)) {
            self.openai.api_version = Some(version);
        }
        if let Some(style) = set(var(AUTH_HEADER_VAR)) {
            self.openai.auth_header = match style.to_ascii_lowercase().replace('_', "-").as_str() {
                "bearer" => AuthHeader::Bearer,
                "api-key" => AuthHeader::ApiKey,
                _ => {
                    return Err(CoreError::InvalidInput(format!(
                        "{AUTH_HEADER_VAR} is '{style}': use bearer, or api-key for Azure OpenAI"
                    )));
                }
            };
        }
        if let Some(order) = set(var(ORDER_VAR)) {
            let mut list = Vec::new();
            for name in order.split(',').filter(|s| !s.trim().is_empty()) {
                let id = ProviderId::parse(name).ok_or_else(|| {
                    CoreError::InvalidInput(format!(
                        "SALESDESK_AI_PROVIDERS names an unknown provider '{}': use gemini, openai, anthropic",
                        name.trim()
                    ))
                })?;
                if !list.contains(&id) {
                    list.push(id);
                }
            }
            self.routes.call_analysis = list.clone();
            self.routes.roleplay = list.clone();
            self.routes.market_search = list;
        }
        Ok(())
    }

    /// Rejects settings that cannot work, with a message saying which field and what to do.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(CoreError::InvalidInput(msg));
        for id in ProviderId::ALL {
            let p = self.provider(id);
            let name = provider_name(id);
            if p.model.trim().is_empty() {
                return bad(format!(
                    "the {name} model id is empty: enter one (the default is {}) or reset it",
                    default_model(id)
                ));
            }
            if p.model.trim() != p.model || p.model.chars().any(char::is_whitespace) {
                return bad(format!(
                    "the {name} model id '{}' contains spaces: model ids have none",
                    p.model.trim()
                ));
            }
            if let Some(url) = p.base_url.as_deref().filter(|u| !u.trim().is_empty()) {
                check_base_url(name, url)?;
            }
            if let Some(fallback) = &p.fallback_model
                && fallback.trim().chars().any(char::is_whitespace)
            {
                return bad(format!(
                    "the {name} replacement model id '{}' contains spaces",
                    fallback.trim()
                ));
            }
            if id != ProviderId::OpenAi
                && (p.auth_header != AuthHeader::Bearer
                    || p.api_version
                        .as_deref()
                        .is_some_and(|v| !v.trim().is_empty()))
            {
                return bad(format!(
                    "the api-key header and api-version apply to OpenAI-compatible servers only, not {name}"
                ));
            }
            if let Some(v) = p.api_version.as_deref().map(str::trim)
                && !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            {
                return bad(format!(
                    "the {name} api-version '{v}' may contain only letters, digits, '-', '.' and '_' (e.g. 2024-10-21)"
                ));
            }
        }
        for capability in super::Capability::ALL {
            let route = self.route(capability);
            for (i, p) in route.iter().enumerate() {
                if route[..i].contains(p) {
                    return bad(format!(
                        "{} is listed twice for {}: list each provider once",
                        provider_name(*p),
                        capability.label()
                    ));
                }
            }
        }
        if self.timeouts.connect_ms == 0
            || self.timeouts.first_byte_ms == 0
            || self.timeouts.call_ms == 0
            || self.timeouts.deadline_ms == 0
        {
            return bad("AI timeouts must be greater than zero".into());
        }
        Ok(())
    }

    /// The environment variables that [`AiSettings::apply_env`] would apply now, by setting.
    /// Names only: a value may be a private server's address.
    pub fn env_overrides() -> Vec<EnvOverride> {
        env_overrides_from(|name| std::env::var(name).ok())
    }

    pub async fn load(store: &LocalStore) -> Result<Self> {
        Self::load_checked(store).await?.map_err(CoreError::Store)
    }

    /// The saved settings, or (inner `Err`) why the saved row cannot be read although the
    /// store itself works: the Settings page then starts from the defaults and a save
    /// replaces the row.
    pub async fn load_checked(store: &LocalStore) -> Result<std::result::Result<Self, String>> {
        let row: Option<String> =
            sqlx::query_scalar("SELECT settings FROM ai_settings WHERE id = 1")
                .fetch_optional(store.pool())
                .await
                .map_err(|e| store.err(e))?;
        Ok(match row {
            None => Ok(Self::default()),
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                format!("the saved AI settings are unreadable ({e}); save them again in Settings")
            }),
        })
    }

    pub async fn save(&self, store: &LocalStore) -> Result<()> {
        self.validate()?;
        let text = serde_json::to_string(self).map_err(|e| CoreError::Internal(e.to_string()))?;
        let mut tx = store.begin_write().await?;
        sqlx::query(
            "INSERT INTO ai_settings (id, settings, updated_at) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        )
        .bind(text)
        .bind(crate::time::now_rfc3339())
        .execute(tx.conn())
        .await
        .map_err(|e| tx.err(e))?;
        tx.commit().await?;
        Ok(())
    }
}

/// A setting that an environment variable replaces in the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct EnvOverride {
    /// `None` for the provider order (it applies to every capability).
    pub provider: Option<ProviderId>,
    pub setting: EnvSetting,
    pub variable: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EnvSetting {
    BaseUrl,
    Model,
    Order,
    AuthHeader,
    ApiVersion,
}

/// The variables `apply_vars` reads for each provider: base URL, then model.
fn provider_vars(id: ProviderId) -> (&'static str, &'static str) {
    match id {
        ProviderId::Gemini => (gemini::BASE_URL_ENV, "SALESDESK_GEMINI_MODEL"),
        ProviderId::OpenAi => (openai::BASE_URL_ENV, "SALESDESK_OPENAI_MODEL"),
        ProviderId::Anthropic => (anthropic::BASE_URL_ENV, "SALESDESK_ANTHROPIC_MODEL"),
    }
}

const ORDER_VAR: &str = "SALESDESK_AI_PROVIDERS";
const API_VERSION_VAR: &str = "OPENAI_API_VERSION";
const AUTH_HEADER_VAR: &str = "SALESDESK_OPENAI_AUTH_HEADER";

pub fn env_overrides_from(var: impl Fn(&str) -> Option<String>) -> Vec<EnvOverride> {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    let mut out = Vec::new();
    for id in ProviderId::ALL {
        let (url_var, model_var) = provider_vars(id);
        for (name, setting) in [
            (url_var, EnvSetting::BaseUrl),
            (model_var, EnvSetting::Model),
        ] {
            if set(name) {
                out.push(EnvOverride {
                    provider: Some(id),
                    setting,
                    variable: name.to_owned(),
                });
            }
        }
    }
    for (name, setting) in [
        (AUTH_HEADER_VAR, EnvSetting::AuthHeader),
        (API_VERSION_VAR, EnvSetting::ApiVersion),
    ] {
        if set(name) {
            out.push(EnvOverride {
                provider: Some(ProviderId::OpenAi),
                setting,
                variable: name.to_owned(),
            });
        }
    }
    if set(ORDER_VAR) {
        out.push(EnvOverride {
            provider: None,
            setting: EnvSetting::Order,
            variable: ORDER_VAR.to_owned(),
        });
    }
    out
}

fn provider_name(id: ProviderId) -> &'static str {
    match id {
        ProviderId::Gemini => "Gemini",
        ProviderId::OpenAi => "OpenAI",
        ProviderId::Anthropic => "Anthropic",
    }
}

pub fn default_model(id: ProviderId) -> &'static str {
    match id {
        ProviderId::Gemini => gemini::DEFAULT_MODEL,
        ProviderId::OpenAi => openai::DEFAULT_MODEL,
        ProviderId::Anthropic => anthropic::DEFAULT_MODEL,
    }
}

/// A base URL the HTTP client can use: absolute, http(s), with a host, no query or fragment
/// (paths are appended to it) and no credentials (they would end up in logs).
fn check_base_url(name: &str, url: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(CoreError::InvalidInput(format!(
            "the {name} base URL '{}' {why}",
            url.trim()
        )))
    };
    let parsed = match reqwest::Url::parse(url.trim()) {
        Ok(u) => u,
        Err(_) => return bad("is not a URL: enter one like https://api.example.com/v1"),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return bad("must start with http:// or https://");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return bad("has no host name");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return bad("contains a user name or password: put the key in the key field instead");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return bad(
            "must not have a ?query or #fragment: for Azure's api-version use its own field",
        );
    }
    Ok(())
}

pub fn default_base_url(id: ProviderId) -> &'static str {
    match id {
        ProviderId::Gemini => gemini::DEFAULT_BASE_URL,
        ProviderId::OpenAi => openai::DEFAULT_BASE_URL,
        ProviderId::Anthropic => anthropic::DEFAULT_BASE_URL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides() {
        let mut s = AiSettings::default();
        s.apply_vars(|name| match name {
            "OPENAI_BASE_URL" => Some("http://127.0.0.1:9/v1".into()),
            "SALESDESK_ANTHROPIC_MODEL" => Some("claude-x".into()),
            "SALESDESK_AI_PROVIDERS" => Some("anthropic, openai".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.base_url(ProviderId::OpenAi), "http://127.0.0.1:9/v1");
        assert_eq!(s.base_url(ProviderId::Gemini), gemini::DEFAULT_BASE_URL);
        assert_eq!(s.anthropic.model, "claude-x");
        assert_eq!(
            s.routes.call_analysis,
            vec![ProviderId::Anthropic, ProviderId::OpenAi]
        );
        assert!(
            s.apply_vars(|n| (n == "SALESDESK_AI_PROVIDERS").then(|| "bogus".into()))
                .is_err()
        );
    }

    #[test]
    fn env_overrides_name_the_variables_not_their_values() {
        let found = env_overrides_from(|name| match name {
            "OPENAI_BASE_URL" => Some("http://10.0.0.9:11434/v1".into()),
            "SALESDESK_GEMINI_MODEL" => Some("gemini-x".into()),
            "ANTHROPIC_BASE_URL" => Some("   ".into()),
            "SALESDESK_AI_PROVIDERS" => Some("openai".into()),
            _ => None,
        });
        let names: Vec<&str> = found.iter().map(|o| o.variable.as_str()).collect();
        assert_eq!(
            names,
            [
                "SALESDESK_GEMINI_MODEL",
                "OPENAI_BASE_URL",
                "SALESDESK_AI_PROVIDERS"
            ]
        );
        assert_eq!(found[1].provider, Some(ProviderId::OpenAi));
        assert_eq!(found[1].setting, EnvSetting::BaseUrl);
        assert_eq!(found[2].provider, None);
        let json = serde_json::to_string(&found).unwrap();
        assert!(!json.contains("10.0.0.9"), "{json}");
    }

    #[test]
    fn azure_from_the_environment() {
        let mut s = AiSettings::default();
        s.apply_vars(|name| match name {
            "OPENAI_API_VERSION" => Some("2024-10-21".into()),
            "SALESDESK_OPENAI_AUTH_HEADER" => Some("API_KEY".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.openai.auth_header, AuthHeader::ApiKey);
        assert_eq!(s.openai.api_version.as_deref(), Some("2024-10-21"));
        s.validate().unwrap();
        let err = AiSettings::default()
            .apply_vars(|n| (n == "SALESDESK_OPENAI_AUTH_HEADER").then(|| "token".into()))
            .unwrap_err();
        assert!(err.to_string().contains("use bearer, or api-key"), "{err}");
        let names: Vec<String> = env_overrides_from(|n| {
            (n == "OPENAI_API_VERSION" || n == "SALESDESK_OPENAI_AUTH_HEADER").then(|| "x".into())
        })
        .into_iter()
        .map(|o| o.variable)
        .collect();
        assert_eq!(
            names,
            ["SALESDESK_OPENAI_AUTH_HEADER", "OPENAI_API_VERSION"]
        );
    }

    #[test]
    fn azure_endpoint_adds_the_api_version() {
        let mut s = AiSettings::default();
        s.openai.base_url = Some("https://r.example.com/openai/v1/".into());
        s.openai.auth_header = AuthHeader::ApiKey;
        s.openai.api_version = Some(" preview ".into());
        s.validate().unwrap();
        let e = s.endpoint(ProviderId::OpenAi, SecretString::new("test-key-not-real"));
        assert_eq!(e.auth_header, AuthHeader::ApiKey);
        assert_eq!(
            e.url("/chat/completions"),
            "https://r.example.com/openai/v1/chat/completions?api-version=preview"
        );
        assert_eq!(
            e.url("/x?alt=sse"),
            "https://r.example.com/openai/v1/x?alt=sse&api-version=preview"
        );
        let g = s.endpoint(ProviderId::Gemini, SecretString::new("test-key-not-real"));
        assert_eq!(
            g.url("/v1beta/models"),
            format!("{}/v1beta/models", gemini::DEFAULT_BASE_URL)
        );
    }

    #[test]
    fn old_json_gets_defaults() {
        let s: AiSettings =
            serde_json::from_str(r#"{"stream": false, "gemini": {"model": "gemini-x"}}"#).unwrap();
        assert!(!s.stream);
        assert_eq!(s.gemini.model, "gemini-x");
        assert!(s.gemini.enabled);
        assert_eq!(s.openai.model, openai::DEFAULT_MODEL);
    }
}
