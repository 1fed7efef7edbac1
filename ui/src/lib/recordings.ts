// Call recordings on the Analyze page: which dropped files are recordings (stored with the
// analysis) and which is the transcript (analyzed). The core checks the content; this only
// routes the drop, by extension, so a recording is never read as a transcript.

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
