// Pure helpers of the Training library page: labels, tag parsing, the per-file and total
// progress of a batch of uploads, and the background file work (pinned downloads, uploads on
// joining a team) as each library row shows it.
import type {
	FileProblem,
	FileState,
	FileTransferProgress,
	MaterialEntry,
	MaterialKind,
	UploadState
} from './api';

/** One file of the upload panel, from drop to done. */
export type UploadItem = {
	/** The pending material's id (its id once stored); `null` when refused before queueing. */
	id: string | null;
	jobId: string;
	name: string;
	total: number;
	done: number;
	state: UploadState | 'done' | 'refused';
	error: string | null;
	/** Bytes per second and seconds left, from the latest progress event while it moves. */
	rate?: number | null;
	eta?: number | null;
};

/** `4.1 MB/s, 12 s left`; empty until a rate is known. */
export function speedLabel(
	bytesPerSec: number | null | undefined,
	etaSecs: number | null | undefined
): string {
	if (!bytesPerSec || bytesPerSec <= 0) return '';
	const mib = 1024 * 1024;
	const rate =
		bytesPerSec >= mib ? `${(bytesPerSec / mib).toFixed(1)} MB/s` : `${Math.max(1, Math.round(bytesPerSec / 1024))} KB/s`;
	if (etaSecs === null || etaSecs === undefined) return rate;
	const secs = Math.ceil(etaSecs);
	const left =
		secs < 60 ? `${secs} s` : secs < 3600 ? `${Math.ceil(secs / 60)} min` : `${(secs / 3600).toFixed(1)} h`;
	return `${rate}, ${left} left`;
}

export const KIND_LABELS: Record<MaterialKind, string> = {
	pdf: 'PDF',
	video: 'Video',
	audio: 'Audio',
	image: 'Image',
	slides: 'Slides',
	document: 'Document',
	spreadsheet: 'Spreadsheet',
	other: 'Other'
};

export const FILE_STATE_LABELS: Record<FileState, string> = {
	stored: 'On this device',
	synced: 'In team storage',
	cached: 'Available offline',
	missing: 'File missing',
	queued_download: 'Queued download',
	queued_upload: 'Queued upload',
	local_only: 'Only on this device',
	failed: 'Failed'
};

/** States the background work may still change: the page keeps polling while one is shown. */
const MOVING_STATES: FileState[] = ['queued_download', 'queued_upload', 'failed'];

/** Whether the page should watch the background work (something queued or moving). */
export function watchTransfers(entries: MaterialEntry[], moving: FileTransferProgress[]): boolean {
	return moving.length > 0 || entries.some((e) => MOVING_STATES.includes(e.file_state));
}

/** Whether "Retry" makes sense for a problem: not for a role (it waits for a role change). */
export function canRetry(problem: FileProblem | null): boolean {
	return problem !== null && problem.reason !== 'forbidden' && problem.reason !== 'signed_out';
}

/** Percent (0-100, whole) of a background transfer; 0 until its size is known. */
export function transferPercent(t: FileTransferProgress): number {
	if (t.progress.total <= 0) return 0;
	return Math.min(100, Math.floor((100 * t.progress.done) / t.progress.total));
}

export function uploadStateLabel(item: UploadItem): string {
	switch (item.state) {
		case 'queued':
			return 'Queued';
		case 'uploading':
			return 'Uploading';
		case 'failed':
			return 'Failed';
		case 'refused':
			return 'Not added';
		case 'done':
			return 'Added';
	}
}

/**
 * Percent (0-100, whole) of one file. 100 means added to the library: a file whose bytes are
 * all sent but not yet verified and recorded shows 99.
 */
export function percentOf(item: Pick<UploadItem, 'done' | 'total' | 'state'>): number {
	if (item.state === 'done') return 100;
	if (item.total <= 0) return 0;
	return Math.min(99, Math.floor((100 * item.done) / item.total));
}

/** The batch's progress: bytes of the files that can still finish (refused ones do not count). */
export function totalProgress(items: UploadItem[]): { done: number; total: number; percent: number } {
	const counted = items.filter((i) => i.state !== 'refused');
	const total = counted.reduce((sum, i) => sum + i.total, 0);
	const done = counted.reduce((sum, i) => sum + (i.state === 'done' ? i.total : i.done), 0);
	const percent =
		counted.length > 0 && counted.every((i) => i.state === 'done')
			? 100
			: total > 0
				? Math.min(99, Math.floor((100 * done) / total))
				: 0;
	return { done, total, percent };
}

/** "a, b,  c" → ["a", "b", "c"], dropping empties and case-insensitive repeats. */
export function parseTags(text: string): string[] {
	const seen = new Set<string>();
	const out: string[] = [];
	for (const raw of text.split(',')) {
		const tag = raw.trim();
		if (!tag) continue;
		const key = tag.toLowerCase();
		if (seen.has(key)) continue;
		seen.add(key);
		out.push(tag);
	}
	return out;
}
