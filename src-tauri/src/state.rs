//! What the shell holds between commands: the open core, or why it could not be opened.
//!
//! A store that fails to open does not stop the app: the window still comes up and the Status
//! page says what is wrong, which beats a crash on start.

use salesdesk_core::health::Health;
use salesdesk_core::team::TeamSetup;
use salesdesk_core::telemetry::{self, StderrLevel};
use salesdesk_core::{AiSetup, CoreError, DataPaths, ErrorKind, Salesdesk};

use crate::error::CommandError;
use crate::grants::GrantedFiles;
use crate::jobs::Jobs;
use salesdesk_core::analysis::job::TranscriptSource;
use std::path::PathBuf;
use std::sync::OnceLock;

pub struct DesktopState {
    paths: Option<DataPaths>,
    core: Result<Salesdesk, CommandError>,
    /// Files the user dropped or picked; the only ones commands may read.
    pub grants: GrantedFiles,
    /// Analyses in progress, by the UI's job id.
    pub jobs: Jobs,
    /// The system "open file" dialog, installed at start-up (it needs the app handle).
    file_picker: OnceLock<FilePicker>,
    /// The same dialog, filtered for the browser app's JSON export.
    import_picker: OnceLock<FilePicker>,
    /// The same dialog choosing several files (training materials).
    files_picker: OnceLock<FilesPicker>,
    /// The system "save file" dialog (Save as…), given the suggested file name.
    save_picker: OnceLock<SavePicker>,
}

/// Shows an "open file" dialog and returns the chosen path.
pub type FilePicker = Box<dyn Fn() -> Option<PathBuf> + Send + Sync>;
/// Shows an "open files" dialog and returns the chosen paths (empty when cancelled).
pub type FilesPicker = Box<dyn Fn() -> Vec<PathBuf> + Send + Sync>;
/// Shows a "save file" dialog suggesting a name; returns the chosen path.
pub type SavePicker = Box<dyn Fn(&str) -> Option<PathBuf> + Send + Sync>;

impl DesktopState {
    /// Opens the data directory named by `SALESDESK_DATA_DIR` or the OS default.
    pub fn open_from_env() -> Self {
        match DataPaths::from_env() {
            Ok(paths) => Self::open(paths),
            Err(e) => Self {
                paths: None,
                core: Err(CommandError::from(e)),
                grants: GrantedFiles::default(),
                jobs: Jobs::default(),
                file_picker: OnceLock::new(),
                import_picker: OnceLock::new(),
                files_picker: OnceLock::new(),
                save_picker: OnceLock::new(),
            },
        }
    }

    pub fn open(paths: DataPaths) -> Self {
        Self::open_with_team(paths, TeamSetup::desktop())
    }

    /// [`Self::open`] with team mode set up another way (tests keep the session in memory).
    pub fn open_with_team(paths: DataPaths, team: TeamSetup) -> Self {
        let _ = paths.ensure_exists();
        telemetry::init(&paths.log_dir(), StderrLevel::Info);
        let core = tauri::async_runtime::block_on(async {
            let core = Salesdesk::open(paths.clone())
                .await?
                .with_ai(AiSetup::desktop())
                .with_team(team);
            // Refreshes the team session in the background, and after a network cut.
            core.start_session_keeper();
            // Syncs with the team database while signed in; never waits on the network.
            core.start_sync();
            // Uploads a local-mode library on joining a team, and fetches pinned files.
            core.start_file_jobs();
            Ok::<_, CoreError>(core)
        });
        if let Err(e) = &core {
            tracing::error!(error = %e, "cannot open the local store");
        }
        Self {
            paths: Some(paths),
            core: core.map_err(CommandError::from),
            grants: GrantedFiles::default(),
            jobs: Jobs::default(),
            file_picker: OnceLock::new(),
            import_picker: OnceLock::new(),
            files_picker: OnceLock::new(),
            save_picker: OnceLock::new(),
        }
    }

    pub fn core(&self) -> Result<&Salesdesk, CommandError> {
        self.core.as_ref().map_err(Clone::clone)
    }

    pub fn set_file_picker(&self, picker: FilePicker) {
        let _ = self.file_picker.set(picker);
    }

    /// Asks the user for a file; a chosen file is granted to the analyze commands.
    pub fn pick_file(&self) -> Option<PathBuf> {
        let path = (self.file_picker.get()?)()?;
        self.grants.grant([path.clone()]);
        Some(path)
    }

    pub fn set_import_picker(&self, picker: FilePicker) {
        let _ = self.import_picker.set(picker);
    }

    /// Asks the user for an export file; a chosen file is granted to the import command.
    pub fn pick_import_file(&self) -> Option<PathBuf> {
        let path = (self.import_picker.get()?)()?;
        self.grants.grant([path.clone()]);
        Some(path)
    }

    pub fn set_files_picker(&self, picker: FilesPicker) {
        let _ = self.files_picker.set(picker);
    }

    /// Asks the user for files; the chosen ones are granted to the commands.
    pub fn pick_files(&self) -> Vec<PathBuf> {
        let Some(picker) = self.files_picker.get() else {
            return Vec::new();
        };
        let paths = picker();
        self.grants.grant(paths.iter().cloned());
        paths
    }

    /// Installs the "save file" dialog; the first one set stays (tests set theirs first).
    pub fn set_save_picker(&self, picker: SavePicker) {
        let _ = self.save_picker.set(picker);
    }

    /// Asks the user where to save a file named `name`; `None` when cancelled (or no dialog).
    pub fn pick_save_path(&self, name: &str) -> Option<PathBuf> {
        (self.save_picker.get()?)(name)
    }

    /// A file source only if the user granted that file (dropped or picked it).
    pub fn checked_source(
        &self,
        source: TranscriptSource,
    ) -> Result<TranscriptSource, CommandError> {
        match source {
            TranscriptSource::File { path } => Ok(TranscriptSource::File {
                path: self.grants.check(&path)?,
            }),
            text => Ok(text),
        }
    }

    pub async fn health(&self) -> Health {
        match (&self.core, &self.paths) {
            // With the AI providers as the chain sees them (no network: `probe_providers` does that).
            (Ok(core), _) => core.health_with_providers(AiSetup::desktop(), false).await,
            (Err(e), Some(paths)) => {
                Health::unavailable(paths, &CoreError::Store(e.message.clone()))
            }
            (Err(e), None) => {
                Health::unavailable(&DataPaths::at(""), &CoreError::Store(e.message.clone()))
            }
        }
    }
}

impl From<CoreError> for CommandError {
    fn from(e: CoreError) -> Self {
        let kind = e.kind();
        if kind == ErrorKind::Internal {
            tracing::error!(error = %e, "internal error");
        }
        CommandError {
            kind,
            message: e.to_string(),
        }
    }
}
