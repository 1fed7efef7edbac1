// The only module that talks to the Rust core. Pages call `api.*` and get
// plain data back, or an `ApiError` thrown at them.
import {
	commands,
	type AnalysisSummary,
	type CallAnalysisRecord,
	type CommandError,
	type ErrorKind,
	type Health
} from './bindings';

export type {
	AnalysisSummary,
	CallAnalysis,
	CallAnalysisRecord,
	Health,
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

function runningInTauri(): boolean {
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

export const api = {
	health: (): Promise<Health> => unwrap(() => commands.health()),
	listAnalyses: (): Promise<AnalysisSummary[]> => unwrap(() => commands.listAnalyses()),
	getAnalysis: (id: string): Promise<CallAnalysisRecord> => unwrap(() => commands.getAnalysis(id))
};
