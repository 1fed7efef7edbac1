//! Reading and saving the AI settings from a front end (the desktop Settings page): what is
//! saved, the defaults to reset to, which environment variables override what, and a save
//! that the running chain picks up at once (no restart).
//!
//! Validation is [`AiSettings::validate`]: a rejected save changes nothing, saved or running.

use serde::Serialize;

use super::ProviderId;
use super::settings::{AiSettings, EnvOverride, default_base_url};
use crate::error::Result;
use crate::{AiSetup, Salesdesk};

/// The AI settings as the Settings page shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct AiSettingsView {
    /// As saved (without environment overrides).
    pub settings: AiSettings,
    /// The current stable defaults, for "reset to default".
    pub defaults: AiSettings,
    /// The official endpoint each provider uses when its base URL is unset.
    pub official_base_urls: OfficialBaseUrls,
    /// Environment variables set now that override a setting in the CLI.
    pub env_overrides: Vec<EnvOverride>,
    /// Whether this front end applies them too (the CLI does; the desktop app does not).
    pub env_applies: bool,
    /// Why the saved settings could not be read (then `settings` are the defaults, and a save
    /// replaces what was saved).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct OfficialBaseUrls {
    pub gemini: String,
    pub openai: String,
    pub anthropic: String,
}

impl Salesdesk {
    pub async fn ai_settings(&self, setup: &AiSetup) -> Result<AiSettingsView> {
        Ok(match AiSettings::load_checked(self.store()).await? {
            Ok(settings) => view(settings, setup),
            Err(problem) => AiSettingsView {
                problem: Some(problem),
                ..view(AiSettings::default(), setup)
            },
        })
    }

    /// Validates and saves `settings`, then applies them to the running chain (with the
    /// environment's overrides on top where `setup` allows them).
    pub async fn save_ai_settings(
        &self,
        setup: &AiSetup,
        settings: AiSettings,
    ) -> Result<AiSettingsView> {
        let mut effective = settings.clone();
        if setup.env_overrides {
            effective.apply_env()?;
        }
        // Both checks before the write, so a rejected save leaves the store and chain as they were.
        settings.validate()?;
        effective.validate()?;
        settings.save(self.store()).await?;
        if let Some(chain) = self.built_chain() {
            chain.set_settings(effective)?;
        }
        Ok(view(settings, setup))
    }
}

fn view(settings: AiSettings, setup: &AiSetup) -> AiSettingsView {
    AiSettingsView {
        settings,
        defaults: AiSettings::default(),
        official_base_urls: OfficialBaseUrls {
            gemini: default_base_url(ProviderId::Gemini).to_owned(),
            openai: default_base_url(ProviderId::OpenAi).to_owned(),
            anthropic: default_base_url(ProviderId::Anthropic).to_owned(),
        },
        env_overrides: AiSettings::env_overrides(),
        env_applies: setup.env_overrides,
        problem: None,
    }
}
