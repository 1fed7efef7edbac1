//! The [`Salesdesk`] handle: one open data directory and the operations front ends call.

use std::sync::Arc;

use crate::ai::call_analysis::{AnalysisInput, CallAnalyzer, OfflineFallback};
use crate::ai::chain::{Chain, ChainParts};
use crate::ai::settings::AiSettings;
use crate::analysis::report::CallAnalysis;
use crate::data::analyses::{self, AnalysisSummary, CallAnalysisRecord, NewAnalysis};
use crate::data::local::LocalStore;
use crate::error::Result;
use crate::health::{Health, RowCounts, StoreHealth};
use crate::paths::DataPaths;
use crate::secrets::Keys;

#[derive(Debug, Clone)]
pub struct Salesdesk {
    paths: DataPaths,
    store: LocalStore,
    ai: Arc<tokio::sync::OnceCell<Arc<Chain>>>,
}

/// How a front end sets up the AI chain: where keys come from and whether the environment
/// may override base URLs, models and the provider order.
#[derive(Debug, Clone)]
pub struct AiSetup {
    pub keys: Keys,
    pub env_overrides: bool,
}

impl AiSetup {
    /// The CLI: keys and overrides from the environment.
    pub fn cli() -> Self {
        Self {
            keys: Keys::cli(),
            env_overrides: true,
        }
    }

    /// The desktop app: keys from the keyring (then the environment); settings as saved.
    pub fn desktop() -> Self {
        Self {
            keys: Keys::desktop(),
            env_overrides: false,
        }
    }
}

impl Salesdesk {
    /// Opens the data directory: creates it if needed, opens the store and migrates it.
    pub async fn open(paths: DataPaths) -> Result<Self> {
        paths.ensure_exists()?;
        let store = LocalStore::open(&paths.store_file()).await?;
        Ok(Self {
            paths,
            store,
            ai: Arc::default(),
        })
    }

    /// The AI chain over this store, built on first use with `setup` (later calls return the
    /// same chain and ignore `setup`).
    pub async fn ai_chain(&self, setup: AiSetup) -> Result<Arc<Chain>> {
        self.ai
            .get_or_try_init(|| async {
                let mut settings = AiSettings::load(&self.store).await?;
                if setup.env_overrides {
                    settings.apply_env()?;
                }
                let chain =
                    Chain::build(ChainParts::new(settings, setup.keys, self.store.clone())).await?;
                Ok::<_, crate::CoreError>(Arc::new(chain))
            })
            .await
            .cloned()
    }

    /// AI call analysis: the providers in order, then the cache, then `offline`. Returns an
    /// analysis whenever the offline analyzer can produce one; `served_from` says which.
    pub async fn analyze_with_ai(
        &self,
        setup: AiSetup,
        offline: Arc<dyn OfflineFallback>,
        input: &AnalysisInput,
    ) -> Result<CallAnalysis> {
        let chain = self.ai_chain(setup).await?;
        CallAnalyzer::new(chain, offline).analyze(input).await
    }

    /// [`Salesdesk::health`] plus the `providers` section; with `probe`, each provider's models
    /// list is fetched (cached for 5 minutes) to check it alone.
    pub async fn health_with_providers(&self, setup: AiSetup, probe: bool) -> Health {
        let mut report = self.health().await;
        match self.ai_chain(setup).await {
            Ok(chain) => {
                report.providers = if probe {
                    chain.probe_providers(false).await
                } else {
                    chain.providers_health().await
                };
            }
            Err(e) => tracing::warn!(error = %e, "AI chain unavailable for the health report"),
        }
        report
    }

    pub fn paths(&self) -> &DataPaths {
        &self.paths
    }

    pub fn store(&self) -> &LocalStore {
        &self.store
    }

    /// Checks the store and counts its rows. Never fails: problems are in the report.
    pub async fn health(&self) -> Health {
        let mut report = Health {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_dir: self.paths.root().display().to_string(),
            store_path: self.store.path().display().to_string(),
            log_dir: self.paths.log_dir().display().to_string(),
            schema_version: 0,
            store: StoreHealth {
                ok: true,
                message: None,
            },
            counts: RowCounts::default(),
            providers: Vec::new(),
        };
        let checked = async {
            self.store.check().await?;
            let version = self.store.schema_version().await?;
            let analyses = analyses::count(&self.store).await?;
            Ok::<_, crate::CoreError>((version, analyses))
        }
        .await;
        match checked {
            Ok((version, analyses)) => {
                report.schema_version = i32::try_from(version).unwrap_or(i32::MAX);
                report.counts.call_analyses = i32::try_from(analyses).unwrap_or(i32::MAX);
            }
            Err(e) => {
                tracing::warn!(error = %e, "store health check failed");
                report.store = StoreHealth {
                    ok: false,
                    message: Some(e.to_string()),
                };
            }
        }
        report
    }

    pub async fn list_analyses(&self) -> Result<Vec<AnalysisSummary>> {
        analyses::list(&self.store).await
    }

    pub async fn get_analysis(&self, id: &str) -> Result<CallAnalysisRecord> {
        analyses::get(&self.store, id).await
    }

    pub async fn save_analysis(&self, new: NewAnalysis) -> Result<CallAnalysisRecord> {
        let mut tx = self.store.begin_write().await?;
        let record = analyses::insert(&mut tx, new).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn delete_analysis(&self, id: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        analyses::soft_delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn restore_analysis(&self, id: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        analyses::restore(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Waits for pending writes (the AI chain's too) and closes the store's connections.
    pub async fn close(&self) {
        if let Some(chain) = self.ai.get() {
            chain.flush().await;
        }
        self.store.close().await;
    }
}
