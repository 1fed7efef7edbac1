//! The [`Salesdesk`] handle: one open data directory and the operations front ends call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ai::call_analysis::{AnalysisInput, CallAnalyzer, OfflineFallback};
use crate::ai::chain::{Chain, ChainParts};
use crate::ai::settings::AiSettings;
use crate::analysis::job::{
    self, AnalyzeProgress, AnalyzeStage, CancelFlag, TranscriptPreview, TranscriptSource,
};
use crate::analysis::report::CallAnalysis;
use crate::analysis::{self, AnalyzeOptions, input};
use crate::data::analyses::{self, AnalysisSummary, CallAnalysisRecord, NewAnalysis, SearchQuery};
use crate::data::local::LocalStore;
use crate::error::{CoreError, Result};
use crate::files::Transfer;
use crate::files::offline::{self, OfflineFiles};
use crate::health::{Health, RowCounts, StoreHealth};
use crate::materials::{MaterialLibrary, Resumed, TeamFiles};
use crate::paths::DataPaths;
use crate::secrets::{Keys, SecretString};
use crate::team::{
    AccountStatus, SignUpResult, Team, TeamSettingsInput, TeamSettingsView, TeamSetup, VerifyInput,
};

#[derive(Debug, Clone)]
pub struct Salesdesk {
    paths: DataPaths,
    store: LocalStore,
    ai: Arc<tokio::sync::OnceCell<Arc<Chain>>>,
    /// Set by front ends that want analyses judged by the AI chain (see [`Salesdesk::with_ai`]).
    ai_setup: Option<AiSetup>,
    /// Team mode: settings, the session, the keeper (see [`Salesdesk::with_team`]).
    team: Arc<Team>,
    /// A fixed team-mode file storage (see [`Salesdesk::with_team_files`]); without it, files
    /// follow the team state at each call (see [`Salesdesk::materials`]).
    team_files: Option<TeamFiles>,
    /// The Storage client for the team project in force, rebuilt when it changes.
    team_storage: Arc<crate::team::TeamStorage>,
    /// The sync engine while team mode is on (see [`Salesdesk::start_sync`]).
    sync: Arc<crate::sync::BackgroundSync>,
    /// The library's background uploads and pinned downloads (see [`Salesdesk::start_file_jobs`]).
    file_jobs: Arc<crate::file_jobs::FileJobs>,
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
            ai_setup: None,
            team: Arc::new(Team::new(TeamSetup::desktop())),
            team_files: None,
            team_storage: Arc::default(),
            sync: Arc::default(),
            file_jobs: Arc::default(),
        })
    }

    /// Team mode set up this way (where the session and database password are kept, whether
    /// the environment wins). The default is the desktop's: the OS keyring, saved settings.
    pub fn with_team(mut self, setup: TeamSetup) -> Self {
        self.team = Arc::new(Team::new(setup));
        self
    }

    pub fn team(&self) -> &Arc<Team> {
        &self.team
    }

    /// Starts refreshing the team session in the background (the desktop app; the CLI does
    /// not need it). Must be called inside a tokio runtime.
    pub fn start_session_keeper(&self) {
        self.team.start_keeper(self.store.clone());
    }

    /// Runs the sync engine in the background whenever a team database is set up and someone
    /// is signed in (the desktop app; the CLI runs single rounds). Returns at once, online or
    /// not. Must be called inside a tokio runtime.
    pub fn start_sync(&self) {
        self.sync.start(self.team.clone(), self.store.clone());
    }

    /// [`Self::start_sync`] with other tunables (tests: short timers and backoff). Takes effect
    /// only before the first start.
    pub fn with_sync_config(mut self, config: crate::sync::SyncConfig) -> Self {
        self.sync = Arc::new(crate::sync::BackgroundSync::new(config));
        self
    }

    /// Whether the background sync engine is running now.
    pub async fn sync_running(&self) -> bool {
        self.sync.is_running().await
    }

    /// Queued and refused changes, last push and pull, the last error; "syncing" while a round
    /// runs. Reads the local store only.
    pub async fn sync_status(&self) -> Result<crate::sync::SyncStatus> {
        self.sync.status(&self.store).await
    }

    /// One sync round now ("Sync now", or the network is back): the session is refreshed too
    /// when it is due. Errors say why nothing could be synced (local mode, signed out, no
    /// usable team database, offline).
    pub async fn sync_now(&self) -> Result<crate::sync::SyncReport> {
        self.team.wake.notify_one();
        // The network may be back: pinned downloads and joining uploads go too.
        self.file_jobs.wake();
        self.sync.sync_now(&self.team, &self.store).await
    }

    /// Gives up a change the team database refused (see [`crate::sync::discard_rejected`]).
    pub async fn discard_rejected_change(&self, table: &str, row_id: &str) -> Result<bool> {
        crate::sync::discard_rejected(&self.store, table, row_id).await
    }

    pub async fn team_settings(&self) -> Result<TeamSettingsView> {
        self.team.settings(&self.store).await
    }

    pub async fn save_team_settings(&self, input: TeamSettingsInput) -> Result<TeamSettingsView> {
        let result = self.team.save_settings(&self.store, input).await;
        self.sync.changed();
        self.file_jobs.wake();
        result
    }

    /// A fresh access token for the sync engine and storage (refreshed first when needed).
    pub async fn access_token(&self) -> Result<SecretString> {
        self.team.access_token(&self.store).await
    }

    /// The signed-in team session as the sync engine's token source.
    pub fn team_tokens(&self) -> Arc<dyn crate::sync::TokenSource> {
        Arc::new(crate::team::TeamTokens::new(
            self.team.clone(),
            self.store.clone(),
        ))
    }

    /// The team database URL with its password; `None` in local mode.
    pub async fn team_database_url(&self) -> Result<Option<SecretString>> {
        self.team.database_url(&self.store).await
    }

    pub async fn account_status(&self) -> Result<AccountStatus> {
        self.team.status(&self.store).await
    }

    pub async fn sign_in(&self, email: &str, password: &SecretString) -> Result<AccountStatus> {
        let result = self.team.sign_in(&self.store, email, password).await;
        self.sync.changed();
        self.file_jobs.wake();
        result
    }

    pub async fn sign_up(&self, email: &str, password: &SecretString) -> Result<SignUpResult> {
        let result = self.team.sign_up(&self.store, email, password).await;
        self.sync.changed();
        self.file_jobs.wake();
        result
    }

    pub async fn request_password_reset(&self, email: &str) -> Result<()> {
        self.team.request_password_reset(&self.store, email).await
    }

    pub async fn verify_email(&self, input: VerifyInput) -> Result<AccountStatus> {
        let result = self.team.verify(&self.store, input).await;
        self.sync.changed();
        self.file_jobs.wake();
        result
    }

    pub async fn update_password(&self, new_password: &SecretString) -> Result<()> {
        self.team.update_password(&self.store, new_password).await
    }

    /// Imports the old browser app's export (docs/import.md), idempotently, in one transaction.
    pub async fn import_export(&self, path: &Path) -> Result<crate::import::ImportReport> {
        crate::import::import_file(&self.store, path).await
    }

    pub async fn sign_out(&self, everywhere: bool) -> Result<crate::auth::SignOutReport> {
        let result = self.team.sign_out(&self.store, everywhere).await;
        self.sync.changed();
        self.file_jobs.wake();
        result
    }

    /// Analyses from this handle go through the AI chain set up this way (providers in
    /// order, then the cache, then the offline analyzer). Without it they are offline only.
    pub fn with_ai(mut self, setup: AiSetup) -> Self {
        self.ai_setup = Some(setup);
        self
    }

    /// The AI chain over this store, built on first use with `setup` (later calls return the
    /// same chain and ignore `setup`).
    pub async fn ai_chain(&self, setup: AiSetup) -> Result<Arc<Chain>> {
        self.ai
            .get_or_try_init(|| async {
                // Saved settings that this build cannot use (unreadable, or from a build with
                // laxer rules) must not cost the user their analyses: run on the defaults and
                // let the Settings page show and repair the saved row.
                let mut settings = match AiSettings::load_checked(&self.store).await? {
                    Ok(saved) if saved.validate().is_ok() => saved,
                    _ => {
                        tracing::warn!(
                            "the saved AI settings are not usable; using the defaults until they are saved again in Settings"
                        );
                        AiSettings::default()
                    }
                };
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

    /// The chain if it was built already (settings changes go to it directly).
    pub(crate) fn built_chain(&self) -> Option<Arc<Chain>> {
        self.ai.get().cloned()
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
            sync: None,
        };
        let checked = async {
            self.store.check().await?;
            let version = self.store.schema_version().await?;
            let analyses = analyses::count(&self.store).await?;
            Ok::<_, crate::CoreError>((version, analyses))
        }
        .await;
        report.sync = self
            .sync_status()
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "sync status unavailable"))
            .ok();
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

    /// Searches saved analyses by text (title and transcript), date range and score range.
    pub async fn search_analyses(&self, query: SearchQuery) -> Result<Vec<AnalysisSummary>> {
        analyses::search(&self.store, &query).await
    }

    /// Analyzes a transcript (any supported format, any common encoding) with the offline
    /// analyzer and saves it. A transcript that cannot be used is a
    /// [`CoreError::Transcript`] and nothing is saved.
    pub async fn analyze_transcript(
        &self,
        transcript: Vec<u8>,
        options: AnalyzeOptions,
    ) -> Result<CallAnalysisRecord> {
        self.analyze_and_save(transcript, options, None).await
    }

    /// [`Self::analyze_transcript`] on a file; the title defaults to the file's name.
    pub async fn analyze_transcript_file(
        &self,
        path: &Path,
        options: AnalyzeOptions,
    ) -> Result<CallAnalysisRecord> {
        let bytes = input::read_file(path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        self.analyze_and_save(bytes, options, name).await
    }

    async fn analyze_and_save(
        &self,
        bytes: Vec<u8>,
        options: AnalyzeOptions,
        file_name: Option<String>,
    ) -> Result<CallAnalysisRecord> {
        self.analyze_bytes(
            bytes,
            options,
            file_name,
            Arc::new(|_| {}),
            CancelFlag::default(),
        )
        .await
    }

    /// Says what a transcript holds (format, speakers, the rep Salesdesk would guess) without
    /// analyzing or saving anything.
    pub async fn preview_transcript(
        &self,
        source: TranscriptSource,
        signed_in_user: Option<String>,
    ) -> Result<TranscriptPreview> {
        tokio::task::spawn_blocking(move || {
            let (bytes, _) = job::read_source(&source, &|_| {}, &CancelFlag::default())?;
            job::preview(&bytes, signed_in_user.as_deref())
        })
        .await
        .map_err(|e| CoreError::Internal(format!("the preview task failed: {e}")))?
    }

    /// Reads, analyzes and saves a transcript, reporting each stage to `progress`.
    /// `cancel` stops it at the next stage boundary (or the next megabyte read) until saving
    /// starts; a cancelled run saves nothing and returns [`CoreError::Cancelled`].
    pub async fn analyze_with_progress(
        &self,
        source: TranscriptSource,
        options: AnalyzeOptions,
        progress: Arc<dyn Fn(AnalyzeProgress) + Send + Sync>,
        cancel: CancelFlag,
    ) -> Result<CallAnalysisRecord> {
        let (reader_progress, reader_cancel) = (progress.clone(), cancel.clone());
        let (bytes, file_name) = tokio::task::spawn_blocking(move || {
            job::read_source(&source, reader_progress.as_ref(), &reader_cancel)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("the reading task failed: {e}")))??;
        self.analyze_bytes(bytes, options, file_name, progress, cancel)
            .await
    }

    async fn analyze_bytes(
        &self,
        bytes: Vec<u8>,
        options: AnalyzeOptions,
        file_name: Option<String>,
        progress: Arc<dyn Fn(AnalyzeProgress) + Send + Sync>,
        cancel: CancelFlag,
    ) -> Result<CallAnalysisRecord> {
        let title = options
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .or(file_name)
            .unwrap_or_else(|| "Call analysis".to_owned());
        let total = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let stage = |stage| {
            progress(AnalyzeProgress {
                stage,
                bytes_done: total,
                bytes_total: total,
            })
        };
        cancel.check()?;
        stage(AnalyzeStage::Parsing);
        // Parsing a large transcript takes milliseconds to seconds of CPU: keep it off the
        // async workers.
        let blocking_cancel = cancel.clone();
        let blocking_progress = progress.clone();
        let run = tokio::task::spawn_blocking(move || {
            let (text, transcript) = analysis::ingest(&bytes)?;
            blocking_cancel.check()?;
            blocking_progress(AnalyzeProgress {
                stage: AnalyzeStage::Analyzing,
                bytes_done: total,
                bytes_total: total,
            });
            let (_, analysis) = analysis::analyze_transcript(&transcript, &options)?;
            Ok::<_, CoreError>((text, analysis))
        })
        .await
        .map_err(|e| CoreError::Internal(format!("the analysis task failed: {e}")))??;
        let (text, analysis) = run;
        let analysis = match self.ai_setup.clone() {
            Some(setup) => {
                let judged = self.judge_with_ai(setup, &text, analysis);
                tokio::select! {
                    judged = judged => judged?,
                    () = cancel.cancelled() => return Err(CoreError::Cancelled),
                }
            }
            None => analysis,
        };
        let (provider, model) = (analysis.provider.clone(), analysis.model.clone());
        let analysis = serde_json::to_value(&analysis)
            .map_err(|e| CoreError::Internal(format!("cannot encode the analysis: {e}")))?;
        // Past this point the run completes: cancelling now would race the commit.
        cancel.check()?;
        stage(AnalyzeStage::Saving);
        let record = self
            .save_analysis(NewAnalysis {
                title,
                transcript: text,
                analysis,
                provider,
                model: Some(model),
            })
            .await?;
        stage(AnalyzeStage::Done);
        Ok(record)
    }

    /// Asks the AI chain for a judgement on top of the exact metrics; the offline analysis
    /// already computed is the last resort, and its statements about the input (timestamps,
    /// rep guess, encoding) stay in the notes whoever answers.
    async fn judge_with_ai(
        &self,
        setup: AiSetup,
        transcript: &str,
        offline_analysis: CallAnalysis,
    ) -> Result<CallAnalysis> {
        let input = AnalysisInput {
            transcript: transcript.to_owned(),
            metrics: offline_analysis.metrics.clone(),
            refresh: false,
        };
        let input_notes = offline_analysis.notes.clone();
        let fallback = Arc::new(move |_: &str, _: &serde_json::Value| Ok(offline_analysis.clone()));
        let mut judged = self.analyze_with_ai(setup, fallback, &input).await?;
        if judged.served_from != crate::analysis::report::ServedFrom::Offline {
            let mut notes = input_notes;
            notes.append(&mut judged.notes);
            judged.notes = notes;
        }
        Ok(judged)
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

    /// Files go to this fixed Storage client instead of the one the team state gives (tests
    /// and tools with a token of their own).
    pub fn with_team_files(mut self, team: TeamFiles) -> Self {
        self.team_files = Some(team);
        self
    }

    /// Adjusts the config of the Storage clients built from the team state (tests: short
    /// retries and timeouts). Takes effect for clients built afterwards.
    pub fn with_storage_config(
        mut self,
        tweak: impl Fn(&mut crate::files::StorageConfig) + Send + Sync + 'static,
    ) -> Self {
        self.team_storage = Arc::new(crate::team::TeamStorage::with_config(tweak));
        self
    }

    /// The training-materials library as the team state is now: the team's Storage (with the
    /// signed-in session's tokens) when a team project is set up, the local file store when
    /// none is. Set up but signed out is an error that says to sign in, never a quiet switch
    /// to local files. Decided at each call, so signing in or out and settings changes apply
    /// at once.
    pub async fn materials(&self) -> Result<MaterialLibrary> {
        let team = match self.team_files.clone() {
            Some(team) => Some(team),
            None => match self.team_storage.current(&self.team, &self.store).await? {
                Some(storage) => Some(TeamFiles {
                    storage,
                    cache_budget: offline::budget(&self.store).await?,
                }),
                None => None,
            },
        };
        Ok(match team {
            Some(team) => MaterialLibrary::team(self.store.clone(), team, self.offline_root())
                .with_local_files(self.paths.root().join("files")),
            None => MaterialLibrary::local(self.store.clone(), self.paths.root().join("files")),
        })
    }

    /// Where offline copies of team files are kept.
    fn offline_root(&self) -> PathBuf {
        self.paths.root().join("cache").join("files")
    }

    /// Where offline copies of team call recordings are kept.
    fn recordings_cache_root(&self) -> PathBuf {
        self.paths.root().join("cache").join("recordings")
    }

    /// Every folder of offline copies: materials, recordings. Saving the budget or clearing
    /// covers both together; each folder's own eviction counts only itself (docs/files.md).
    fn offline_roots(&self) -> [PathBuf; 2] {
        [self.offline_root(), self.recordings_cache_root()]
    }

    /// The offline copies of team files (materials and recordings): budget, space taken,
    /// pinned share.
    pub async fn offline_files(&self) -> Result<OfflineFiles> {
        let [files, recordings] = self.offline_roots();
        offline::usage(&self.store, &[&files, &recordings]).await
    }

    /// Sets the offline copies' budget (dropping least recently used unpinned copies to fit).
    pub async fn set_offline_budget(&self, bytes: u64) -> Result<OfflineFiles> {
        let [files, recordings] = self.offline_roots();
        offline::set_budget(&self.store, &[&files, &recordings], bytes).await
    }

    /// Drops every unpinned offline copy.
    pub async fn clear_offline_files(&self) -> Result<OfflineFiles> {
        let [files, recordings] = self.offline_roots();
        offline::clear(&self.store, &[&files, &recordings]).await
    }

    /// [`Self::materials`], except that signed out in team mode gives the read-only library
    /// (the rows, and the files cached here; what needs the server says "sign in to …"),
    /// which is what a page listing the library wants.
    pub async fn materials_for_reading(&self) -> Result<MaterialLibrary> {
        match self.materials().await {
            Err(e) if e.kind() == crate::ErrorKind::SignedOut => Ok(
                MaterialLibrary::team_signed_out(self.store.clone(), self.offline_root())
                    .with_local_files(self.paths.root().join("files")),
            ),
            other => other,
        }
    }

    /// Runs the library's background file work (uploads on joining a team, pinned downloads)
    /// whenever it is due; see [`crate::file_jobs`]. Returns at once. Must be called inside a
    /// tokio runtime.
    pub fn start_file_jobs(&self) {
        self.file_jobs.start(self.clone());
    }

    /// Asks the background file work for a pass now (a new pin, "retry").
    pub fn wake_file_jobs(&self) {
        self.file_jobs.wake();
    }

    /// One pass of the library's file work now, waiting for it (the CLI, tests, "retry now").
    pub async fn run_file_jobs(&self) -> Result<crate::materials::FilePassReport> {
        self.file_jobs.run_pass(self).await
    }

    /// The library files moving now, with their progress.
    pub fn file_transfers(&self) -> Vec<crate::file_jobs::FileTransferProgress> {
        self.file_jobs.moving()
    }

    /// Adds a training material: checks and stores the file, then records it.
    pub async fn add_material(
        &self,
        path: &Path,
        meta: &crate::data::materials::MaterialMeta,
        transfer: &Transfer,
    ) -> Result<crate::data::materials::Material> {
        self.materials().await?.add(path, meta, transfer).await
    }

    /// Writes a material's file to `dest`, verified.
    pub async fn get_material_file(
        &self,
        id: &str,
        dest: &Path,
        transfer: &Transfer,
    ) -> Result<u64> {
        self.materials().await?.get_file(id, dest, transfer).await
    }

    /// Resumes the material additions an exit or a crash interrupted; front ends call it at
    /// start. Failed ones are left for an explicit retry.
    pub async fn resume_pending_uploads(
        &self,
        transfer_for: impl Fn(&crate::materials::PendingMaterial) -> Transfer,
    ) -> Result<Vec<Resumed>> {
        self.materials().await?.resume_pending(transfer_for).await
    }

    /// Call recordings as the team state is now: the team's `call-recordings` bucket (new ones
    /// in the signed-in user's folder) when a team project is set up and someone is signed in,
    /// the local file store when none is. Set up but signed out still lists and plays what is
    /// on this device; attaching or downloading then says to sign in.
    pub async fn recordings_library(&self) -> Result<crate::recordings::RecordingLibrary> {
        use crate::recordings::{RecordingLibrary, TeamRecordings};
        let root = self.paths.root();
        let (files, cache) = (root.join("files"), self.recordings_cache_root());
        let storage = match self.team_storage.current(&self.team, &self.store).await {
            Ok(storage) => storage,
            Err(e @ CoreError::Auth(_)) => {
                return Ok(RecordingLibrary::unavailable(
                    self.store.clone(),
                    files,
                    cache,
                    e,
                ));
            }
            Err(e) => return Err(e),
        };
        let Some(storage) = storage else {
            return Ok(RecordingLibrary::local(self.store.clone(), files, cache));
        };
        let user_id = crate::sync::TokenSource::user_id(&crate::team::TeamTokens::new(
            self.team.clone(),
            self.store.clone(),
        ))
        .await?;
        Ok(RecordingLibrary::team(
            self.store.clone(),
            files,
            cache,
            TeamRecordings { storage, user_id },
            offline::budget(&self.store).await?,
        ))
    }

    /// Stores an audio or video file as the recording of an analysis (see
    /// [`crate::recordings::RecordingLibrary::queue`] for what is refused): in the user's
    /// folder of the team's bucket (`<user id>/<sha256>/<name>`) in team mode, else in the
    /// local file store.
    pub async fn attach_recording(
        &self,
        analysis_id: &str,
        src: &Path,
        transfer: &Transfer,
    ) -> Result<crate::recordings::Recording> {
        self.recordings_library()
            .await?
            .attach(analysis_id, src, transfer)
            .await
    }

    /// The recordings of an analysis, whoever attached them, oldest first.
    pub async fn recordings(&self, analysis_id: &str) -> Result<Vec<crate::recordings::Recording>> {
        self.recordings_library().await?.list(analysis_id).await
    }

    /// Resumes the recording attaches an exit or a crash interrupted; front ends call it at
    /// start. Failed ones are left for an explicit retry.
    pub async fn resume_pending_recordings(
        &self,
        transfer_for: impl Fn(&crate::recordings::PendingRecording) -> Transfer,
    ) -> Result<Vec<crate::recordings::ResumedRecording>> {
        self.recordings_library()
            .await?
            .resume_pending(transfer_for)
            .await
    }

    /// Sets the caller's avatar: the team's `user-avatars` bucket and `app.profiles` when a
    /// team project is set up and someone is signed in, else the local file store and the
    /// local profile row (see [`crate::avatars::set_avatar`] for what is refused).
    pub async fn set_avatar(&self, src: &Path, transfer: &Transfer) -> Result<String> {
        let team = self.avatar_team().await?;
        let local = crate::files::LocalFileStore::new(self.paths.root().join("files"));
        crate::avatars::set_avatar(&self.store, avatar_target(&team, &local), src, transfer).await
    }

    /// Clears the caller's avatar; `false` when none was set.
    pub async fn remove_avatar(&self) -> Result<bool> {
        let team = self.avatar_team().await?;
        let local = crate::files::LocalFileStore::new(self.paths.root().join("files"));
        crate::avatars::remove_avatar(&self.store, avatar_target(&team, &local)).await
    }

    /// A local copy of the caller's avatar in `dir` for display, `None` when none is set.
    pub async fn avatar_preview(
        &self,
        dir: &Path,
    ) -> Result<Option<crate::avatars::AvatarPreview>> {
        let team = self.avatar_team().await?;
        let local = crate::files::LocalFileStore::new(self.paths.root().join("files"));
        crate::avatars::avatar_preview(&self.store, avatar_target(&team, &local), dir).await
    }

    /// Uploads the avatar chosen in local mode once this data directory is in a team (see
    /// [`crate::avatars::upload_local_avatar`]); `None` when there was nothing to do.
    pub async fn upload_local_avatar(&self) -> Result<Option<String>> {
        let team = self.avatar_team().await?;
        let local = crate::files::LocalFileStore::new(self.paths.root().join("files"));
        let work = self.paths.root().join("cache").join("avatar-upload");
        crate::avatars::upload_local_avatar(
            &self.store,
            &local,
            avatar_target(&team, &local),
            &work,
        )
        .await
    }

    /// What team mode needs for avatars, `None` in local mode.
    async fn avatar_team(&self) -> Result<Option<AvatarTeam>> {
        let Some(storage) = self.team_storage.current(&self.team, &self.store).await? else {
            return Ok(None);
        };
        let user_id = crate::sync::TokenSource::user_id(&crate::team::TeamTokens::new(
            self.team.clone(),
            self.store.clone(),
        ))
        .await?;
        let database_url = self.team_database_url().await?.ok_or_else(|| {
            CoreError::InvalidInput(
                "the team database URL is not set; add it in Settings → Team, then retry".into(),
            )
        })?;
        let access_token = self.access_token().await?;
        Ok(Some(AvatarTeam {
            storage,
            user_id,
            database_url,
            access_token,
        }))
    }

    /// Waits for pending writes (the AI chain's too) and closes the store's connections.
    pub async fn close(&self) {
        self.file_jobs.stop().await;
        self.sync.stop().await;
        self.team.stop_keeper();
        if let Some(chain) = self.ai.get() {
            chain.flush().await;
        }
        self.store.close().await;
    }
}

/// Team mode's avatar context, owned for the length of one call.
struct AvatarTeam {
    storage: crate::files::SupabaseStorage,
    user_id: String,
    database_url: SecretString,
    access_token: SecretString,
}

fn avatar_target<'a>(
    team: &'a Option<AvatarTeam>,
    local: &'a crate::files::LocalFileStore,
) -> crate::avatars::AvatarTarget<'a> {
    match team {
        Some(t) => crate::avatars::AvatarTarget::Team {
            storage: &t.storage,
            user_id: &t.user_id,
            database_url: &t.database_url,
            access_token: &t.access_token,
        },
        None => crate::avatars::AvatarTarget::Local { files: local },
    }
}
