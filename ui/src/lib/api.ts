// The only module that talks to the Rust core. Pages call `api.*` and get
// plain data back, or an `ApiError` thrown at them.
import { Channel, convertFileSrc } from '@tauri-apps/api/core';
import {
	commands,
	type AccountStatus,
	type ImportReport,
	type SignOutReport,
	type SignUpResult,
	type SyncReport,
	type SyncStatus,
	type TeamSettingsInput,
	type TeamSettingsView,
	type VerifyInput,
	type AiSettings,
	type AiSettingsView,
	type AnalysisSummary,
	type AnalyzeRequest,
	type AnalyzeProgress,
	type CallAnalysis,
	type CallAnalysisRecord,
	type CallMetrics,
	type CommandError,
	type ErrorKind,
	type Health,
	type KeyStatus,
	type Material,
	type FilePassReport,
	type FileTransferProgress,
	type MaterialEntry,
	type MaterialKind,
	type MaterialMeta,
	type MaterialQuery,
	type MaterialUpdate,
	type PendingMaterial,
	type Progress,
	type Recording,
	type ShareLink,
	type OfflineFiles,
	type ProviderId,
	type SearchQuery,
	type TranscriptPreview,
	type TranscriptSource
} from './bindings';
import type { PendingRecording, RecordingKind } from './bindings';

export type {
	AccountStatus,
	ImportReport,
	SectionReport,
	SkippedEntry,
	SignOutReport,
	SignUpResult,
	RejectedWrite,
	SyncReport,
	SyncState,
	SyncStatus,
	TeamSettingsInput,
	TeamSettingsView,
	VerifyInput,
	VerifyKind,
	KeyStatus,
	ProviderHealth,
	ProviderId,
	AnalysisSummary,
	AnalyzeRequest,
	AnalyzeProgress,
	AnalyzeStage,
	Attempt,
	CallAnalysis,
	CallAnalysisRecord,
	CallMetrics,
	CoachingItem,
	Health,
	ObjectionHit,
	ObjectionKind,
	ObjectionNote,
	RepSource,
	SearchQuery,
	ServedFrom,
	SpeakerMetrics,
	SpeakerPreview,
	Stretch,
	TalkBasis,
	Timing,
	TrackerHit,
	Trackers,
	TranscriptFormat,
	TranscriptPreview,
	TranscriptSource,
	Value as JsonValue
} from './bindings';

/** The shape every generated command resolves to. */
type Result<T, E> = { status: 'ok'; data: T } | { status: 'error'; error: E };

/** Error kinds from the core, plus `unavailable` when the IPC call itself failed. */
export type ApiErrorKind = ErrorKind | 'unavailable';

export class ApiError extends Error {
	readonly kind: ApiErrorKind;

	constructor(kind: ApiErrorKind, message: string) {
		super(message);
		this.name = 'ApiError';
		this.kind = kind;
	}

	get isNotFound(): boolean {
		return this.kind === 'not_found';
	}
}

function isCommandError(value: unknown): value is CommandError {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as { kind?: unknown }).kind === 'string' &&
		typeof (value as { message?: unknown }).message === 'string'
	);
}

export function runningInTauri(): boolean {
	return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

/** Turns anything thrown or returned as an error into an `ApiError`. */
export function toApiError(error: unknown): ApiError {
	if (error instanceof ApiError) return error;
	if (isCommandError(error)) return new ApiError(error.kind, error.message);
	if (error instanceof Error) {
		const message = runningInTauri()
			? error.message
			: `The Salesdesk core is not reachable (is this running inside the desktop app?): ${error.message}`;
		return new ApiError('unavailable', message);
	}
	if (typeof error === 'string') return new ApiError('internal', error);
	return new ApiError('internal', 'Unexpected error from the Salesdesk core.');
}

async function unwrap<T>(call: () => Promise<Result<T, CommandError>>): Promise<T> {
	let result: Result<T, CommandError>;
	try {
		result = await call();
	} catch (error) {
		throw toApiError(error);
	}
	if (result.status === 'error') throw toApiError(result.error);
	return result.data;
}

/** The list shows at most this many rows, newest first: enough to browse, and the query and
 * the table stay fast with tens of thousands of analyses. */
export const RESULT_LIMIT = 500;

/** A query that filters nothing: the newest saved analyses. */
export const EMPTY_QUERY: SearchQuery = {
	text: null,
	since: null,
	until: null,
	min_score: null,
	max_score: null,
	limit: RESULT_LIMIT
};

export const api = {
	health: (): Promise<Health> => unwrap(() => commands.health()),
	/** Checks each AI provider alone (its models list: no tokens spent). */
	probeProviders: (): Promise<Health> => unwrap(() => commands.probeProviders()),
	/** Stores a provider's key in the OS keyring; only whether it is set comes back. */
	setProviderKey: (provider: ProviderId, key: string): Promise<KeyStatus> =>
		unwrap(() => commands.setProviderKey(provider, key)),
	deleteProviderKey: (provider: ProviderId): Promise<KeyStatus> =>
		unwrap(() => commands.deleteProviderKey(provider)),
	getAiSettings: (): Promise<AiSettingsView> => unwrap(() => commands.getAiSettings()),
	/** Validated by the core; a bad field is an `invalid_input` ApiError and nothing is saved. */
	saveAiSettings: (settings: AiSettings): Promise<AiSettingsView> =>
		unwrap(() => commands.saveAiSettings(settings)),
	listAnalyses: (): Promise<AnalysisSummary[]> => unwrap(() => commands.listAnalyses()),
	getAnalysis: (id: string): Promise<CallAnalysisRecord> => unwrap(() => commands.getAnalysis(id)),
	/** Opens the native file dialog; `null` when the user cancelled it. */
	pickTranscriptFile: (): Promise<string | null> => unwrap(() => commands.pickTranscriptFile()),
	/** Stores a dropped or picked audio/video file as the recording of a saved analysis. */
	attachRecording: (
		analysisId: string,
		path: string,
		onProgress: (progress: Progress) => void
	): Promise<Recording> =>
		unwrap(() => {
			const channel = new Channel<Progress>();
			channel.onmessage = onProgress;
			return commands.attachRecording(analysisId, path, channel);
		}),
	listRecordings: (analysisId: string): Promise<Recording[]> =>
		unwrap(() => commands.listRecordings(analysisId)),
	previewTranscript: (source: TranscriptSource): Promise<TranscriptPreview> =>
		unwrap(() => commands.previewTranscript(source)),
	/** Analyzes and saves a transcript; `onProgress` gets the core's progress reports. */
	analyzeTranscript: (
		source: TranscriptSource,
		options: AnalyzeRequest,
		onProgress: (progress: AnalyzeProgress) => void
	): Promise<CallAnalysisRecord> =>
		unwrap(() => {
			// Inside unwrap: outside the app, creating a channel throws, and that is reported
			// like any other unreachable core.
			const channel = new Channel<AnalyzeProgress>();
			channel.onmessage = onProgress;
			return commands.analyzeTranscript(source, options, channel);
		}),
	cancelAnalysis: (jobId: string): Promise<null> => unwrap(() => commands.cancelAnalysis(jobId)),
	searchAnalyses: (query: SearchQuery): Promise<AnalysisSummary[]> =>
		unwrap(() => commands.searchAnalyses(query)),
	deleteAnalysis: (id: string): Promise<null> => unwrap(() => commands.deleteAnalysis(id)),
	restoreAnalysis: (id: string): Promise<null> => unwrap(() => commands.restoreAnalysis(id)),
	/** The team project settings; the database password only as "set or not". */
	getTeamSettings: (): Promise<TeamSettingsView> => unwrap(() => commands.getTeamSettings()),
	saveTeamSettings: (settings: TeamSettingsInput): Promise<TeamSettingsView> =>
		unwrap(() => commands.saveTeamSettings(settings)),
	/** Who is signed in (never a token); answers offline. */
	accountStatus: (): Promise<AccountStatus> => unwrap(() => commands.accountStatus()),
	signIn: (email: string, password: string): Promise<AccountStatus> =>
		unwrap(() => commands.signIn(email, password)),
	signUp: (email: string, password: string): Promise<SignUpResult> =>
		unwrap(() => commands.signUp(email, password)),
	signOut: (everywhere: boolean): Promise<SignOutReport> =>
		unwrap(() => commands.signOut(everywhere)),
	requestPasswordReset: (email: string): Promise<null> =>
		unwrap(() => commands.requestPasswordReset(email)),
	verifyEmail: (input: VerifyInput): Promise<AccountStatus> =>
		unwrap(() => commands.verifyEmail(input)),
	updatePassword: (newPassword: string): Promise<null> =>
		unwrap(() => commands.updatePassword(newPassword)),
	/** Opens the native file dialog for an export; `null` when the user cancelled it. */
	pickImportFile: (): Promise<string | null> => unwrap(() => commands.pickImportFile()),
	/** Imports the browser app's export; running it again on the same file changes nothing. */
	importBrowserExport: (path: string): Promise<ImportReport> =>
		unwrap(() => commands.importBrowserExport(path)),
	/** Queued and refused changes, last push and pull; reads the local store only. */
	syncStatus: (): Promise<SyncStatus> => unwrap(() => commands.syncStatus()),
	/** One sync round now; fails with what to do in local mode, signed out or offline. */
	syncNow: (): Promise<SyncReport> => unwrap(() => commands.syncNow()),
	/** Gives up a refused change; `false` when there was none for that row. */
	discardRejectedChange: (table: string, rowId: string): Promise<boolean> =>
		unwrap(() => commands.discardRejectedChange(table, rowId))
};

/** The schema version of `CallAnalysis` this UI understands. */
export const ANALYSIS_SCHEMA_VERSION = 1;
/** The `CallMetrics` version this UI understands. */
export const METRICS_VERSION = 1;

export type ParsedAnalysis =
	| {
			ok: true;
			analysis: CallAnalysis;
			/** `null` when the metrics are missing or in a format this UI does not know. */
			metrics: CallMetrics | null;
	  }
	| { ok: false; reason: string };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function missingKeys(value: JsonObject, keys: Record<string, 'string' | 'number' | 'array' | 'object' | 'boolean'>): string[] {
	return Object.entries(keys)
		.filter(([key, type]) => {
			const v = value[key];
			if (type === 'array') return !Array.isArray(v);
			if (type === 'object') return !isObject(v);
			return typeof v !== type;
		})
		.map(([key]) => key);
}

const ANALYSIS_KEYS = {
	provider: 'string',
	model: 'string',
	served_from: 'string',
	score: 'number',
	score_rationale: 'string',
	summary: 'string',
	strengths: 'array',
	improvements: 'array',
	objections: 'array',
	next_steps: 'array',
	notes: 'array',
	attempts: 'array'
} as const;

const METRICS_KEYS = {
	talk_basis: 'string',
	timing: 'string',
	rep: 'string',
	duration_seconds: 'number',
	duration_estimated: 'boolean',
	speakers: 'array',
	rep_talk_share: 'number',
	customer_talk_share: 'number',
	interactivity_per_minute: 'number',
	rep_questions: 'number',
	rep_questions_per_minute: 'number',
	customer_questions: 'number',
	rep_fillers_per_minute: 'number',
	trackers: 'object'
} as const;

const TRACKER_KEYS = {
	pricing: 'array',
	competitors: 'array',
	objections: 'array',
	next_steps: 'array'
} as const;

/** Checks the metrics of an analysis just enough to render them; `null` when unusable. */
export function parseMetrics(value: unknown): CallMetrics | null {
	if (!isObject(value) || value.metrics_version !== METRICS_VERSION) return null;
	if (missingKeys(value, METRICS_KEYS).length > 0) return null;
	if (missingKeys(value.trackers as JsonObject, TRACKER_KEYS).length > 0) return null;
	return value as unknown as CallMetrics;
}

/**
 * Reads a saved record's `analysis` JSON as a `CallAnalysis`, checking the schema version
 * and the keys the UI needs. Anything else is reported, not guessed at.
 */
export function parseAnalysis(value: unknown): ParsedAnalysis {
	if (!isObject(value)) {
		return { ok: false, reason: 'The saved analysis is not a JSON object.' };
	}
	const version = value.schema_version;
	if (version !== ANALYSIS_SCHEMA_VERSION) {
		const which =
			typeof version === 'number'
				? `schema version ${version}`
				: 'no schema version (an older format)';
		return {
			ok: false,
			reason: `This analysis was saved in an older or unknown format (${which}; this version of Salesdesk reads version ${ANALYSIS_SCHEMA_VERSION}).`
		};
	}
	const missing = missingKeys(value, ANALYSIS_KEYS);
	if (!('metrics' in value)) missing.push('metrics');
	if (missing.length > 0) {
		return {
			ok: false,
			reason: `This analysis was saved in an older or unknown format (missing or invalid: ${missing.join(', ')}).`
		};
	}
	return {
		ok: true,
		analysis: value as unknown as CallAnalysis,
		metrics: parseMetrics(value.metrics)
	};
}

// The training-materials library (see src-tauri/src/commands/materials.rs).
export type {
	FilePassReport,
	FileProblem,
	FileProblemReason,
	FileState,
	FileTransferProgress,
	Material,
	MaterialEntry,
	MaterialKind,
	MaterialMeta,
	MaterialQuery,
	MaterialUpdate,
	PendingMaterial,
	Progress,
	ShareLink,
	UploadState
} from './bindings';

export const materialsApi = {
	list: (query: MaterialQuery): Promise<MaterialEntry[]> =>
		unwrap(() => commands.listMaterials(query)),
	pending: (): Promise<PendingMaterial[]> => unwrap(() => commands.pendingMaterials()),
	/** Opens the system dialog to choose files; `[]` when the user cancelled. */
	pickFiles: (): Promise<string[]> => unwrap(() => commands.pickMaterialFiles()),
	/** Checks a dropped file and queues it; refused files are not recorded. */
	queue: (path: string, meta: MaterialMeta): Promise<PendingMaterial> =>
		unwrap(() => commands.queueMaterial(path, meta)),
	/** Stores a queued file (or retries a failed one); `onProgress` gets byte counts. */
	upload: (id: string, jobId: string, onProgress: (p: Progress) => void): Promise<Material> =>
		unwrap(() => {
			const channel = new Channel<Progress>();
			channel.onmessage = onProgress;
			return commands.uploadMaterial(id, jobId, channel);
		}),
	cancel: (jobId: string): Promise<null> => unwrap(() => commands.cancelMaterialTransfer(jobId)),
	discard: (id: string): Promise<null> => unwrap(() => commands.discardMaterial(id)),
	update: (id: string, change: MaterialUpdate): Promise<Material> =>
		unwrap(() => commands.updateMaterial(id, change)),
	remove: (id: string): Promise<null> => unwrap(() => commands.deleteMaterial(id)),
	restore: (id: string): Promise<null> => unwrap(() => commands.restoreMaterial(id)),
	pin: (id: string): Promise<null> => unwrap(() => commands.pinMaterial(id)),
	unpin: (id: string): Promise<null> => unwrap(() => commands.unpinMaterial(id)),
	/** A download link for someone without the app, valid for `hours` (team mode only). */
	share: (id: string, hours: number): Promise<ShareLink> =>
		unwrap(() => commands.shareMaterial(id, hours)),
	/** A local copy of an image, video or audio material, as a URL the page may load. */
	preview: async (id: string): Promise<{ url: string; mime: string; kind: MaterialKind }> => {
		const p = await unwrap(() => commands.previewMaterial(id));
		return { url: convertFileSrc(p.path), mime: p.mime, kind: p.kind };
	},
	/** Opens the material's file with the system's app (the core resolves the file from the id). */
	openExternally: (id: string): Promise<null> => unwrap(() => commands.openMaterial(id)),
	/** Files the background work is moving now (pinned downloads, uploads on joining a team). */
	transfers: (): Promise<FileTransferProgress[]> => unwrap(() => commands.materialFileTransfers()),
	/** Runs the background file work now; says what moved and what failed, with reasons. */
	retryFiles: (): Promise<FilePassReport> => unwrap(() => commands.retryMaterialFiles())
};

/** Settings → Offline files: this device's copies of team files. */
export const offlineApi = {
	get: (): Promise<OfflineFiles> => unwrap(() => commands.getOfflineFiles()),
	/** Sets the budget in MiB; copies over it go at once (pinned ones stay). */
	setBudget: (mib: number): Promise<OfflineFiles> => unwrap(() => commands.setOfflineBudget(mib)),
	/** Drops every unpinned copy. */
	clear: (): Promise<OfflineFiles> => unwrap(() => commands.clearOfflineFiles())
};
export type { OfflineFiles };

/** Settings → Profile: the avatar, set from a dropped or picked image. */
export const avatarApi = {
	/** A URL the page may load for the avatar in force, `null` when none is set. */
	preview: async (): Promise<string | null> => {
		const p = await unwrap(() => commands.getAvatarPreview());
		return p ? convertFileSrc(p.path) : null;
	},
	/** Opens the system dialog to choose an image; `null` when the user cancelled. */
	pick: async (): Promise<string | null> =>
		(await unwrap(() => commands.pickMaterialFiles()))[0] ?? null,
	/** Sets the avatar from a granted file; refused images change nothing. Returns its URL. */
	set: async (path: string): Promise<string | null> => {
		const p = await unwrap(() => commands.setAvatar(path));
		return p ? convertFileSrc(p.path) : null;
	},
	remove: (): Promise<boolean> => unwrap(() => commands.removeAvatar())
};

/** Call recordings of an analysis (the analysis detail page). */
export const recordingsApi = {
	/** The recordings of an analysis, whoever attached them. */
	list: (analysisId: string): Promise<Recording[]> =>
		unwrap(() => commands.listRecordings(analysisId)),
	/** Attaches of this analysis not finished yet (an upload cut by quitting resumes on start). */
	pending: (analysisId: string): Promise<PendingRecording[]> =>
		unwrap(() => commands.pendingRecordings(analysisId)),
	retry: (id: string, onProgress: (progress: Progress) => void): Promise<Recording> =>
		unwrap(() => {
			const channel = new Channel<Progress>();
			channel.onmessage = onProgress;
			return commands.retryRecording(id, channel);
		}),
	discard: (id: string): Promise<null> => unwrap(() => commands.discardRecording(id)),
	/** A verified local copy for the player (downloaded first when not on this device). */
	preview: async (id: string): Promise<{ url: string; mime: string; kind: RecordingKind }> => {
		const p = await unwrap(() => commands.previewRecording(id));
		return { url: convertFileSrc(p.path), mime: p.mime, kind: p.kind };
	},
	/** Asks where to save it and writes it there; `null` when the user cancelled. */
	saveAs: (id: string): Promise<string | null> => unwrap(() => commands.saveRecording(id)),
	openExternally: (id: string): Promise<null> => unwrap(() => commands.openRecording(id))
};
