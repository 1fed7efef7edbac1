import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnalyzeProgress, TranscriptPreview } from '$lib/bindings';
import type { FileDrag } from '$lib/dragdrop';
import { offlineAnalysis, previewFixture, recordWith } from './analysis-fixtures';

const { invokeMock, gotoMock, FakeChannel, drops } = vi.hoisted(() => {
	/** Stands in for Tauri's Channel (which needs the app's IPC): just holds `onmessage`. */
	class FakeChannel<T> {
		onmessage: (message: T) => void = () => {};
	}
	return {
		invokeMock: vi.fn(),
		gotoMock: vi.fn(),
		FakeChannel,
		drops: {
			handler: null as ((event: FileDrag) => void) | null,
			unlisten: vi.fn()
		}
	};
});

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock,
	Channel: FakeChannel
}));
vi.mock('$app/navigation', () => ({ goto: gotoMock }));
vi.mock('$lib/dragdrop', () => ({
	listenForFileDrops: vi.fn(async (handler: (event: FileDrag) => void) => {
		drops.handler = handler;
		return drops.unlisten;
	})
}));

import AnalyzePage from '../routes/analyze/+page.svelte';

const PATH = '/home/sam/calls/Acme demo.vtt';
const threeSpeakers: TranscriptPreview = previewFixture({
	speakers: [
		{ name: 'Alice', turns: 20, words: 1100 },
		{ name: 'Bob', turns: 15, words: 500 },
		{ name: 'Carol', turns: 7, words: 230 }
	],
	suggested_rep: 'Alice',
	rep_source: 'first_speaker'
});

type Deferred<T> = { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };
function deferred<T>(): Deferred<T> {
	let resolve!: (v: T) => void;
	let reject!: (e: unknown) => void;
	const promise = new Promise<T>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { promise, resolve, reject };
}

let analyzeCall: Deferred<unknown>;
let preview: TranscriptPreview;

function commands(overrides: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
	invokeMock.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
		if (overrides[cmd]) return overrides[cmd](args);
		switch (cmd) {
			case 'pick_transcript_file':
				return PATH;
			case 'preview_transcript':
				return preview;
			case 'analyze_transcript':
				return analyzeCall.promise;
			case 'cancel_analysis':
				return null;
			default:
				throw { kind: 'internal', message: `unexpected command ${cmd}` };
		}
	});
}

function callsOf(cmd: string): Record<string, unknown>[] {
	return invokeMock.mock.calls.filter(([c]) => c === cmd).map(([, args]) => args);
}

async function openPreviewByPicker() {
	render(AnalyzePage);
	await fireEvent.click(screen.getByTestId('choose-file'));
	return screen.findByTestId('preview');
}

describe('Analyze page', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		gotoMock.mockReset();
		drops.handler = null;
		drops.unlisten.mockReset();
		analyzeCall = deferred();
		preview = threeSpeakers;
		commands();
	});

	it('says which files are accepted before anything is chosen', () => {
		render(AnalyzePage);
		const zone = screen.getByTestId('drop-zone');
		for (const ext of ['.txt', '.vtt', '.srt', '.json']) expect(zone).toHaveTextContent(ext);
		expect(screen.queryByTestId('preview')).not.toBeInTheDocument();
	});

	it('previews a chosen file with its speakers and the suggested rep, saying why', async () => {
		const card = await openPreviewByPicker();

		expect(callsOf('preview_transcript')).toEqual([{ source: { kind: 'file', path: PATH } }]);
		expect(card).toHaveTextContent('Acme demo.vtt');
		expect(screen.getByTestId('preview-format')).toHaveTextContent('WebVTT');
		const rows = within(screen.getByTestId('preview-speakers')).getAllByRole('row').slice(1);
		const cells = rows.map((r) =>
			within(r)
				.getAllByRole('cell')
				.map((c) => c.textContent?.replace(/\s+/g, ' ').trim())
		);
		expect(cells).toEqual([
			['Alice rep', '20', '1100'],
			['Bob', '15', '500'],
			['Carol', '7', '230']
		]);

		const picker = screen.getByTestId('rep-picker') as HTMLSelectElement;
		expect(picker.value).toBe('Alice');
		expect([...picker.options].map((o) => o.value)).toEqual(['Alice', 'Bob', 'Carol']);
		expect(screen.getByTestId('rep-reason')).toHaveTextContent(/first speaker/);
		expect(screen.getByTestId('analysis-title-input')).toHaveValue('Acme demo');
	});

	it('explains the guess for each kind of suggestion and says when there are no timestamps', async () => {
		preview = previewFixture({ rep_source: 'role_label', timing: 'none' });
		await openPreviewByPicker();
		expect(screen.getByTestId('rep-reason')).toHaveTextContent('labelled as the rep');
		expect(screen.getByTestId('preview-timing')).toHaveTextContent(
			'no timestamps: durations will be estimated from word counts'
		);
	});

	it('analyzes with the chosen rep, shows progress, and opens the result', async () => {
		await openPreviewByPicker();

		const picker = screen.getByTestId('rep-picker');
		await fireEvent.change(picker, { target: { value: 'Bob' } });
		expect(screen.getByTestId('rep-reason')).toHaveTextContent('Chosen by you.');
		await fireEvent.input(screen.getByTestId('competitors-input'), {
			target: { value: 'Globex, Initech,' }
		});
		await fireEvent.click(screen.getByTestId('analyze-button'));

		await waitFor(() => expect(callsOf('analyze_transcript')).toHaveLength(1));
		const args = callsOf('analyze_transcript')[0] as {
			source: unknown;
			options: { job_id: string };
			onProgress: InstanceType<typeof FakeChannel<AnalyzeProgress>>;
		};
		expect(args.source).toEqual({ kind: 'file', path: PATH });
		expect(args.options).toEqual({
			title: 'Acme demo',
			rep: 'Bob',
			competitors: ['Globex', 'Initech'],
			job_id: expect.stringMatching(/^[0-9a-f-]{36}$/)
		});
		expect(args.onProgress).toBeInstanceOf(FakeChannel);

		const bar = (await screen.findByTestId('analyze-progress')) as HTMLProgressElement;
		expect(screen.queryByTestId('analyze-button')).not.toBeInTheDocument();

		args.onProgress.onmessage({ stage: 'analyzing', bytes_done: 5120, bytes_total: 20480 });
		await waitFor(() => expect(screen.getByTestId('analyze-stage')).toHaveTextContent('Analyzing'));
		const updated = screen.getByTestId('analyze-progress') as HTMLProgressElement;
		expect(updated.value).toBe(5120);
		expect(updated.max).toBe(20480);
		expect(screen.getByTestId('analyze-stage')).toHaveTextContent('25%');
		expect(bar).toBeInTheDocument();

		args.onProgress.onmessage({ stage: 'saving', bytes_done: 20480, bytes_total: 20480 });
		await waitFor(() => expect(screen.getByTestId('analyze-stage')).toHaveTextContent('Saving'));
		expect((screen.getByTestId('analyze-progress') as HTMLProgressElement).value).toBe(20480);

		const record = recordWith(offlineAnalysis());
		analyzeCall.resolve(record);
		await waitFor(() => expect(gotoMock).toHaveBeenCalledWith(`/analysis?id=${record.id}`));
	});

	it('cancels the running job by its id', async () => {
		await openPreviewByPicker();
		await fireEvent.click(screen.getByTestId('analyze-button'));
		await fireEvent.click(await screen.findByTestId('cancel-analysis'));

		const jobId = (callsOf('analyze_transcript')[0].options as { job_id: string }).job_id;
		expect(callsOf('cancel_analysis')).toEqual([{ jobId }]);

		analyzeCall.reject({ kind: 'internal', message: 'analysis cancelled' });
		expect(await screen.findByTestId('analyze-info')).toHaveTextContent('Analysis cancelled');
		expect(screen.queryByTestId('error-banner')).not.toBeInTheDocument();
		expect(screen.getByTestId('analyze-button')).toBeInTheDocument();
		expect(gotoMock).not.toHaveBeenCalled();
	});

	it("shows the core's message when a transcript cannot be read, and lets the user pick again", async () => {
		const message =
			'only one speaker (Alice) was found: a call analysis needs the rep and at least one customer';
		commands({
			preview_transcript: () => {
				throw { kind: 'invalid_input', message };
			}
		});
		render(AnalyzePage);
		await fireEvent.click(screen.getByTestId('choose-file'));

		const banner = await screen.findByTestId('error-banner');
		expect(banner).toHaveTextContent("Couldn't read this transcript");
		expect(screen.getByTestId('error-message')).toHaveTextContent(message);
		expect(banner).toHaveTextContent('Choose another file');
		expect(screen.queryByTestId('preview')).not.toBeInTheDocument();
		expect(screen.getByTestId('choose-file')).toBeEnabled();
	});

	it('shows an analysis error and keeps the preview so the user can fix and retry', async () => {
		await openPreviewByPicker();
		await fireEvent.click(screen.getByTestId('analyze-button'));
		analyzeCall.reject({ kind: 'store', message: 'database is locked' });
		expect(await screen.findByTestId('error-message')).toHaveTextContent('database is locked');
		expect(screen.getByTestId('analyze-button')).toBeInTheDocument();
		expect(gotoMock).not.toHaveBeenCalled();
	});

	it('does nothing when the file dialog is cancelled', async () => {
		commands({ pick_transcript_file: () => null });
		render(AnalyzePage);
		await fireEvent.click(screen.getByTestId('choose-file'));
		await waitFor(() => expect(callsOf('pick_transcript_file')).toHaveLength(1));
		expect(callsOf('preview_transcript')).toHaveLength(0);
		expect(screen.queryByTestId('error-banner')).not.toBeInTheDocument();
	});

	it('sends pasted text as a text source', async () => {
		const text = 'Alice: Hi Bob, thanks for joining.\nBob: Happy to be here.';
		render(AnalyzePage);
		expect(screen.getByTestId('use-text')).toBeDisabled();
		await fireEvent.input(screen.getByTestId('paste-text'), { target: { value: text } });
		await fireEvent.click(screen.getByTestId('use-text'));

		await screen.findByTestId('preview');
		expect(callsOf('preview_transcript')).toEqual([{ source: { kind: 'text', text } }]);
		expect(screen.getByTestId('preview')).toHaveTextContent('Pasted text');
		expect((screen.getByTestId('analysis-title-input') as HTMLInputElement).value).toMatch(
			/^Pasted transcript /
		);

		await fireEvent.click(screen.getByTestId('analyze-button'));
		await waitFor(() => expect(callsOf('analyze_transcript')).toHaveLength(1));
		expect(callsOf('analyze_transcript')[0].source).toEqual({ kind: 'text', text });
		expect((callsOf('analyze_transcript')[0].options as { rep: string }).rep).toBe('Alice');
	});

	it('highlights the drop zone while dragging and opens the first dropped file', async () => {
		const { unmount } = render(AnalyzePage);
		await waitFor(() => expect(drops.handler).not.toBeNull());
		const zone = screen.getByTestId('drop-zone');
		expect(zone).toHaveAttribute('data-active', 'false');

		drops.handler!({ type: 'enter', paths: [PATH] });
		await waitFor(() => expect(zone).toHaveAttribute('data-active', 'true'));
		drops.handler!({ type: 'leave' });
		await waitFor(() => expect(zone).toHaveAttribute('data-active', 'false'));

		drops.handler!({ type: 'drop', paths: [PATH, '/home/sam/calls/other.srt'] });
		await screen.findByTestId('preview');
		expect(callsOf('preview_transcript')).toEqual([{ source: { kind: 'file', path: PATH } }]);
		expect(screen.getByTestId('analyze-info')).toHaveTextContent(
			'2 files were dropped; using the first one, Acme demo.vtt.'
		);

		unmount();
		expect(drops.unlisten).toHaveBeenCalledTimes(1);
	});

	it('stores a dropped recording with the analysis once it is saved, and says transcription is not available yet', async () => {
		const CALL = '/home/sam/calls/Acme demo.m4a';
		commands({
			attach_recording: (args) => ({
				id: 'rec-1',
				analysis_id: args.analysisId,
				store: 'local',
				file_key: 'k',
				file_name: 'Acme demo.m4a',
				file_size: 10,
				file_sha256: 'x',
				mime_type: 'audio/mp4',
				created_at: '2026-11-26T10:00:00Z'
			})
		});
		render(AnalyzePage);
		await waitFor(() => expect(drops.handler).not.toBeNull());
		drops.handler!({ type: 'drop', paths: [CALL, PATH] });
		await screen.findByTestId('preview');
		// The recording is not read as a transcript.
		expect(callsOf('preview_transcript')).toEqual([{ source: { kind: 'file', path: PATH } }]);
		expect(screen.getByTestId('recording')).toHaveTextContent('Acme demo.m4a');
		expect(screen.getByTestId('recording')).toHaveTextContent('transcription is not available yet');

		await fireEvent.click(screen.getByTestId('analyze-button'));
		await waitFor(() => expect(callsOf('analyze_transcript')).toHaveLength(1));
		expect(callsOf('attach_recording')).toHaveLength(0);
		const record = recordWith(offlineAnalysis());
		analyzeCall.resolve(record);
		await waitFor(() => expect(gotoMock).toHaveBeenCalledWith(`/analysis?id=${record.id}`));
		expect(callsOf('attach_recording')).toEqual([
			{ analysisId: record.id, path: CALL, onProgress: expect.any(FakeChannel) }
		]);
	});

	it('keeps the analysis when the recording is refused, and says why', async () => {
		commands({
			attach_recording: () => {
				throw { kind: 'invalid_input', message: '“x.wav” is text/plain, not an audio or video recording' };
			}
		});
		render(AnalyzePage);
		await waitFor(() => expect(drops.handler).not.toBeNull());
		drops.handler!({ type: 'drop', paths: ['/home/sam/x.wav', PATH] });
		await screen.findByTestId('preview');
		await fireEvent.click(screen.getByTestId('analyze-button'));
		await waitFor(() => expect(callsOf('analyze_transcript')).toHaveLength(1));
		const record = recordWith(offlineAnalysis());
		analyzeCall.resolve(record);
		await waitFor(() => expect(gotoMock).toHaveBeenCalledWith(`/analysis?id=${record.id}`));
		expect(callsOf('attach_recording')).toHaveLength(1);
		expect(await screen.findByText(/not an audio or video recording/)).toBeInTheDocument();
	});
});

describe('routing dropped files', () => {
	it('tells recordings from transcripts by extension', async () => {
		const { isRecordingPath, splitDrop } = await import('$lib/recordings');
		expect(isRecordingPath('/calls/Call.WAV')).toBe(true);
		expect(isRecordingPath('C:\\calls\\demo.mp4')).toBe(true);
		expect(isRecordingPath('/calls/demo.vtt')).toBe(false);
		expect(isRecordingPath('/calls/.wav')).toBe(false);
		expect(splitDrop(['/a.vtt', '/b.mp3', '/c.srt', '/d.wav'])).toEqual({
			recording: '/b.mp3',
			transcript: '/a.vtt',
			ignored: 2
		});
		expect(splitDrop(['/b.mp3'])).toEqual({ recording: '/b.mp3', transcript: null, ignored: 0 });
	});
});
