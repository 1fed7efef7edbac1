// Call recordings on the Analyze page: which dropped files are recordings (stored with the
// analysis) and which is the transcript (analyzed). The core checks the content; this only
// routes the drop, by extension, so a recording is never read as a transcript. Also the words
// the analysis detail uses for a recording's state and the problems playing it.

import type { ApiError } from './api';
import { humanSize } from './analysis';
import type { FileState, PendingRecording } from './bindings';

const AUDIO_VIDEO = new Set(
	['mp3', 'm4a', 'wav', 'ogg', 'oga', 'opus', 'flac', 'aac', 'weba'].concat(
		['mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi']
	)
);

export function isRecordingPath(path: string): boolean {
	const name = path.split(/[\\/]/).pop() ?? '';
	const dot = name.lastIndexOf('.');
	return dot > 0 && AUDIO_VIDEO.has(name.slice(dot + 1).toLowerCase());
}

/** Splits dropped paths: the first recording, the first transcript, and how many were left out. */
export function splitDrop(paths: string[]): {
	recording: string | null;
	transcript: string | null;
	ignored: number;
} {
	const recordings = paths.filter(isRecordingPath);
	const transcripts = paths.filter((p) => !isRecordingPath(p));
	return {
		recording: recordings[0] ?? null,
		transcript: transcripts[0] ?? null,
		ignored: Math.max(recordings.length - 1, 0) + Math.max(transcripts.length - 1, 0)
	};
}

export const RECORDING_NOTE =
	'stored with the analysis; transcription is not available yet, so paste or drop the call’s transcript too.';

export const RECORDING_NOTE_SAVED =
	'is stored with the analysis; transcription is not available yet.';

/** Where a recording's file is, in words for the list. */
export function fileStateLabel(state: FileState): string {
	switch (state) {
		case 'stored':
			return 'On this device';
		case 'cached':
			return 'On this device (team copy)';
		case 'synced':
			return 'In the team’s storage: downloads when played';
		case 'missing':
			return 'File missing from this device';
		// The library's other states; a recording is not queued or pinned the same way, but
		// the type is shared, so each gets words rather than a blank.
		case 'queued_upload':
			return 'Waiting to be uploaded';
		case 'queued_download':
			return 'Waiting to download';
		case 'local_only':
			return 'Only on this device';
		case 'failed':
			return 'Could not be fetched';
	}
}

/**
 * What to tell the user when a recording cannot be played, saved or opened. The core's message
 * says what happened; this leads with what to do for the cases a user can fix.
 */
export function recordingProblem(error: ApiError, fileName: string): string {
	switch (error.kind) {
		case 'signed_out':
			return `Sign in to play “${fileName}”: it is in the team’s storage and not on this device yet.`;
		case 'remote':
			return `“${fileName}” is not on this device and the team’s storage cannot be reached (offline?). Connect and try again. (${error.message})`;
		case 'not_found':
			return `“${fileName}” is no longer stored (${error.message}).`;
		default:
			return error.message;
	}
}

/** "12.3 MB of 40 MB" for an unfinished attach. */
export function pendingLine(p: PendingRecording): string {
	const state =
		p.state === 'failed' ? 'Failed' : p.state === 'uploading' ? 'Uploading' : 'Waiting to upload';
	return `${state}: ${humanSize(p.uploaded)} of ${humanSize(p.file_size)}`;
}

/**
 * Largest recording played from memory when the webview cannot stream it from the asset
 * protocol. WebKitGTK (Linux) refuses media from a custom URI scheme (tauri-apps/tauri#3725,
 * MEDIA_ERR_SRC_NOT_SUPPORTED) while `fetch` of the same URL works, so there the player gets a
 * `blob:` copy; past this size that copy would cost too much memory, and the page says to open
 * the file with the system's app instead.
 */
export const IN_MEMORY_PLAYBACK_MAX = 256 * 1024 * 1024;

/** A `blob:` URL holding the file at `url` (read through the asset protocol), typed `mime`. */
export async function inMemoryCopy(url: string, mime: string): Promise<string> {
	const response = await fetch(url);
	if (!response.ok) throw new Error(`the preview copy could not be read (${response.status})`);
	const blob = new Blob([await response.arrayBuffer()], { type: mime });
	return URL.createObjectURL(blob);
}

export function cannotPlayHere(fileName: string): string {
	return `This computer cannot play “${fileName}” inside the app. Use Open with app, or Save as… and play it from your files.`;
}
