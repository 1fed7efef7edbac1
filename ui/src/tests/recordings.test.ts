import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PendingRecording, Recording } from '$lib/bindings';
import { ApiError } from '$lib/api';
import { fileStateLabel, pendingLine, recordingProblem } from '$lib/recordings';
import { toasts } from '$lib/toast.svelte';

const { invokeMock, FakeChannel } = vi.hoisted(() => {
	/** Stands in for Tauri's Channel (which needs the app's IPC): just holds `onmessage`. */
	class FakeChannel<T> {
		onmessage: (message: T) => void = () => {};
	}
	return { invokeMock: vi.fn(), FakeChannel };
});

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock,
	Channel: FakeChannel,
	convertFileSrc: (path: string) => `http://asset.localhost/${encodeURIComponent(path)}`
}));

import RecordingsPanel from '$lib/components/RecordingsPanel.svelte';

const ANALYSIS = '0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d';

function recording(over: Partial<Recording> = {}): Recording {
	return {
		id: '0192f0c1-7d3e-7a4b-9c1d-000000000001',
		analysis_id: ANALYSIS,
		store: 'team',
		file_key: `rep/${'ab'.repeat(32)}/Call_with_Zoe.wav`,
		file_name: 'Call with Zoë.wav',
		file_size: 2 * 1024 * 1024,
		file_sha256: 'ab'.repeat(32),
		mime_type: 'audio/wav',
		created_at: '2026-11-20T10:00:00.000Z',
		owner_id: 'rep',
		file_state: 'synced',
		...over
	};
}

function pendingOne(over: Partial<PendingRecording> = {}): PendingRecording {
	return {
		id: '0192f0c1-7d3e-7a4b-9c1d-000000000009',
		analysis_id: ANALYSIS,
		file_name: 'Long call.mp4',
		file_size: 12 * 1024 * 1024,
		uploaded: 6 * 1024 * 1024,
		state: 'failed',
		error: 'file storage cannot be reached or keeps failing (timeout)',
		created_at: '2026-11-20T10:00:00.000Z',
		...over
	};
}

/** Answers the panel's commands from `handlers`; anything else is a test failure. */
function serve(handlers: Record<string, (args: Record<string, unknown>) => unknown>) {
	invokeMock.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
		const handler = handlers[cmd];
		if (!handler) throw { kind: 'internal', message: `unexpected command ${cmd}` };
		return handler(args);
	});
}

describe('recording words', () => {
	it('say where the file is and what to do when it cannot be played', () => {
		expect(fileStateLabel('synced')).toContain('downloads when played');
		expect(fileStateLabel('missing')).toContain('missing');
		expect(recordingProblem(new ApiError('signed_out', 'not signed in'), 'a.wav')).toMatch(
			/^Sign in to play “a\.wav”/
		);
		expect(recordingProblem(new ApiError('remote', 'timed out'), 'a.wav')).toContain('offline');
		expect(recordingProblem(new ApiError('invalid_input', 'as the core says'), 'a.wav')).toBe(
			'as the core says'
		);
		expect(pendingLine(pendingOne())).toBe('Failed: 6.0 MB of 12.0 MB');
		expect(pendingLine(pendingOne({ state: 'uploading', uploaded: 0 }))).toBe(
			'Uploading: 0 bytes of 12.0 MB'
		);
	});
});

describe('Recordings on the analysis detail', () => {
	beforeEach(() => {
		invokeMock.mockReset();
	});

	afterEach(() => {
		toasts.clear();
	});

	it('lists a teammate’s recording and plays it from the asset protocol', async () => {
		let state: Recording['file_state'] = 'synced';
		serve({
			list_recordings: (args) => {
				expect(args).toEqual({ analysisId: ANALYSIS });
				return [recording({ file_state: state })];
			},
			pending_recordings: () => [],
			preview_recording: () => {
				state = 'cached';
				return { path: '/data/cache/previews/x.wav', mime: 'audio/wav', kind: 'audio' };
			}
		});
		render(RecordingsPanel, { analysisId: ANALYSIS });
		const item = await screen.findByTestId('recording');
		expect(item).toHaveTextContent('Call with Zoë.wav');
		expect(item).toHaveTextContent('2.0 MB');
		expect(within(item).getByTestId('recording-state')).toHaveTextContent('downloads when played');

		await fireEvent.click(within(item).getByTestId('play-recording'));
		const player = await within(item).findByTestId('recording-player');
		expect(player.tagName).toBe('AUDIO');
		expect(player).toHaveAttribute(
			'src',
			`http://asset.localhost/${encodeURIComponent('/data/cache/previews/x.wav')}`
		);
		expect(player).toHaveAttribute('controls');
		// Downloaded for playing: the state line follows.
		await waitFor(() =>
			expect(within(item).getByTestId('recording-state')).toHaveTextContent('team copy')
		);
	});

	it('plays from memory when the webview cannot stream the asset URL, else says what to do', async () => {
		const fetchMock = vi.fn(async () => new Response(new Uint8Array([1, 2, 3])));
		vi.stubGlobal('fetch', fetchMock);
		const created: Blob[] = [];
		URL.createObjectURL = vi.fn((blob: Blob) => {
			created.push(blob);
			return 'blob:recording-1';
		});
		URL.revokeObjectURL = vi.fn();
		try {
			serve({
				list_recordings: () => [recording({ file_state: 'cached' })],
				pending_recordings: () => [],
				preview_recording: () => ({ path: '/p/x.wav', mime: 'audio/wav', kind: 'audio' })
			});
			render(RecordingsPanel, { analysisId: ANALYSIS });
			await fireEvent.click(await screen.findByTestId('play-recording'));
			const player = await screen.findByTestId('recording-player');
			expect(player).toHaveAttribute('data-source', 'asset');
			// WebKitGTK refuses media from the custom scheme.
			await fireEvent.error(player);
			await waitFor(() =>
				expect(screen.getByTestId('recording-player')).toHaveAttribute('data-source', 'memory')
			);
			expect(screen.getByTestId('recording-player')).toHaveAttribute('src', 'blob:recording-1');
			expect(fetchMock).toHaveBeenCalledWith(
				`http://asset.localhost/${encodeURIComponent('/p/x.wav')}`
			);
			expect(created[0].type).toBe('audio/wav');
			expect(created[0].size).toBe(3);
			// Not even from memory: the player goes, and the page says what to do instead.
			await fireEvent.error(screen.getByTestId('recording-player'));
			expect(await screen.findByTestId('recording-problem')).toHaveTextContent(
				'cannot play “Call with Zoë.wav” inside the app. Use Open with app'
			);
			expect(screen.queryByTestId('recording-player')).not.toBeInTheDocument();
			expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:recording-1');
		} finally {
			vi.unstubAllGlobals();
		}
	});

	it('does not copy a very large recording into memory', async () => {
		const fetchMock = vi.fn();
		vi.stubGlobal('fetch', fetchMock);
		try {
			serve({
				list_recordings: () => [recording({ file_size: 900 * 1024 * 1024, file_state: 'cached' })],
				pending_recordings: () => [],
				preview_recording: () => ({ path: '/p/big.mp4', mime: 'video/mp4', kind: 'video' })
			});
			render(RecordingsPanel, { analysisId: ANALYSIS });
			await fireEvent.click(await screen.findByTestId('play-recording'));
			await fireEvent.error(await screen.findByTestId('recording-player'));
			expect(await screen.findByTestId('recording-problem')).toHaveTextContent('Open with app');
			expect(fetchMock).not.toHaveBeenCalled();
		} finally {
			vi.unstubAllGlobals();
		}
	});

	it('shows a video player for a video recording', async () => {
		serve({
			list_recordings: () => [recording({ mime_type: 'video/mp4', file_state: 'stored' })],
			pending_recordings: () => [],
			preview_recording: () => ({ path: '/p/v.mp4', mime: 'video/mp4', kind: 'video' })
		});
		render(RecordingsPanel, { analysisId: ANALYSIS });
		await fireEvent.click(await screen.findByTestId('play-recording'));
		expect((await screen.findByTestId('recording-player')).tagName).toBe('VIDEO');
	});

	it('says to sign in when a team recording is not on this device', async () => {
		serve({
			list_recordings: () => [recording()],
			pending_recordings: () => [],
			preview_recording: () => {
				throw { kind: 'signed_out', message: 'you are not signed in to a team account' };
			}
		});
		render(RecordingsPanel, { analysisId: ANALYSIS });
		await fireEvent.click(await screen.findByTestId('play-recording'));
		const problem = await screen.findByTestId('recording-problem');
		expect(problem).toHaveAttribute('role', 'alert');
		expect(problem).toHaveTextContent('Sign in to play “Call with Zoë.wav”');
		expect(screen.queryByTestId('recording-player')).not.toBeInTheDocument();
	});

	it('saves where the user chose, and does nothing when the dialog is cancelled', async () => {
		const answers: (string | null)[] = ['/home/sam/Call.wav', null];
		serve({
			list_recordings: () => [recording({ file_state: 'cached' })],
			pending_recordings: () => [],
			save_recording: (args) => {
				expect(args).toEqual({ id: recording().id });
				return answers.shift() ?? null;
			},
			open_recording: () => null
		});
		render(RecordingsPanel, { analysisId: ANALYSIS });
		const save = await screen.findByTestId('save-recording');
		await fireEvent.click(save);
		await waitFor(() =>
			expect(toasts.items.map((t) => t.message)).toContain('Saved “Call with Zoë.wav”.')
		);
		toasts.clear();
		await fireEvent.click(save);
		await waitFor(() => expect(invokeMock).toHaveBeenCalledTimes(4));
		expect(toasts.items).toHaveLength(0);
		await fireEvent.click(screen.getByTestId('open-recording'));
		await waitFor(() =>
			expect(invokeMock).toHaveBeenCalledWith('open_recording', { id: recording().id })
		);
	});

	it('disables playing a recording whose file is missing', async () => {
		serve({
			list_recordings: () => [recording({ store: 'local', file_state: 'missing' })],
			pending_recordings: () => []
		});
		render(RecordingsPanel, { analysisId: ANALYSIS });
		expect(await screen.findByTestId('play-recording')).toBeDisabled();
		expect(screen.getByTestId('recording-state')).toHaveTextContent('missing');
	});

	it('shows an unfinished attach with its reason, retries and discards it', async () => {
		let pending = [pendingOne()];
		let stored: Recording[] = [];
		serve({
			list_recordings: () => stored,
			pending_recordings: () => pending,
			retry_recording: (args) => {
				expect(args.id).toBe(pendingOne().id);
				pending = [];
				stored = [recording({ file_name: 'Long call.mp4', file_state: 'cached' })];
				return stored[0];
			},
			discard_recording: () => {
				pending = [];
				return null;
			}
		});
		render(RecordingsPanel, { analysisId: ANALYSIS });
		const item = await screen.findByTestId('pending-recording');
		expect(item).toHaveTextContent('Failed: 6.0 MB of 12.0 MB');
		expect(within(item).getByRole('alert')).toHaveTextContent('cannot be reached');
		await fireEvent.click(within(item).getByRole('button', { name: 'Retry' }));
		expect(await screen.findByTestId('recording')).toHaveTextContent('Long call.mp4');
		expect(screen.queryByTestId('pending-recording')).not.toBeInTheDocument();

		pending = [pendingOne({ id: 'other' })];
		stored = [];
		render(RecordingsPanel, { analysisId: ANALYSIS });
		const again = (await screen.findAllByTestId('pending-recording')).at(-1)!;
		await fireEvent.click(within(again).getByRole('button', { name: 'Discard' }));
		await waitFor(() =>
			expect(invokeMock).toHaveBeenCalledWith('discard_recording', { id: 'other' })
		);
	});

	it('says how to start when there is none, and what failed when listing fails', async () => {
		serve({ list_recordings: () => [], pending_recordings: () => [] });
		const { unmount } = render(RecordingsPanel, { analysisId: ANALYSIS });
		expect(await screen.findByTestId('recordings-empty')).toHaveTextContent('Analyze page');
		unmount();
		serve({
			list_recordings: () => {
				throw { kind: 'store', message: 'the local database is busy' };
			},
			pending_recordings: () => []
		});
		render(RecordingsPanel, { analysisId: ANALYSIS });
		expect(await screen.findByTestId('recordings-error')).toHaveTextContent(
			'the local database is busy'
		);
	});
});
