import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type {
	AccountStatus,
	FileProblem,
	FileTransferProgress,
	Material,
	MaterialEntry,
	PendingMaterial,
	Progress
} from '$lib/bindings';
import type { FileDrag } from '$lib/dragdrop';
import { appAccount } from '$lib/account.svelte';
import {
	canRetry,
	parseTags,
	percentOf,
	speedLabel,
	totalProgress,
	transferPercent,
	watchTransfers,
	type UploadItem
} from '$lib/materials';
import { toasts } from '$lib/toast.svelte';

const { invokeMock, FakeChannel, drops } = vi.hoisted(() => {
	class FakeChannel<T> {
		onmessage: (message: T) => void = () => {};
	}
	return {
		invokeMock: vi.fn(),
		FakeChannel,
		drops: { handler: null as ((event: FileDrag) => void) | null, unlisten: vi.fn() }
	};
});

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock,
	Channel: FakeChannel,
	convertFileSrc: (path: string) => `http://asset.localhost/${encodeURIComponent(path)}`
}));
vi.mock('$lib/dragdrop', () => ({
	listenForFileDrops: vi.fn(async (handler: (event: FileDrag) => void) => {
		drops.handler = handler;
		return drops.unlisten;
	})
}));

import TrainingPage from '../routes/training/+page.svelte';

function material(over: Partial<Material> = {}): Material {
	return {
		id: '01a217db-013c-76a6-807a-b14247271e63',
		owner_id: null,
		title: 'Objection handling',
		description: 'Read before your first call',
		tags: ['Onboarding'],
		file_path: 'a'.repeat(64),
		file_size: 2048,
		file_sha256: 'a'.repeat(64),
		mime_type: 'application/pdf',
		kind: 'pdf',
		created_at: '2026-11-26T12:00:00.000Z',
		updated_at: '2026-11-26T12:00:00.000Z',
		deleted_at: null,
		...over
	};
}

function entry(m: Material, over: Partial<MaterialEntry> = {}): MaterialEntry {
	return {
		material: m,
		file_name: 'deck.pdf',
		file_state: 'stored',
		pinned: false,
		file_problem: null,
		...over
	};
}

function pending(id: string, name: string, size: number): PendingMaterial {
	return {
		id,
		title: name,
		file_name: name,
		file_size: size,
		uploaded: 0,
		state: 'queued',
		error: null,
		created_at: '2026-11-26T12:00:00.000Z'
	};
}

type Handler = (args: Record<string, unknown>) => unknown;
let library: MaterialEntry[];
let uploadCalls: { id: string; jobId: string; channel: InstanceType<typeof FakeChannel<Progress>>; resolve: (m: Material) => void; reject: (e: unknown) => void }[];

function commands(overrides: Record<string, Handler> = {}) {
	invokeMock.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
		if (overrides[cmd]) return overrides[cmd](args);
		switch (cmd) {
			case 'list_materials':
				return library;
			case 'pending_materials':
			case 'material_file_transfers':
				return [];
			case 'upload_material':
				return new Promise((resolve, reject) => {
					uploadCalls.push({
						id: args.id as string,
						jobId: args.jobId as string,
						channel: args.onProgress as InstanceType<typeof FakeChannel<Progress>>,
						resolve,
						reject
					});
				});
			case 'cancel_material_transfer':
			case 'discard_material':
			case 'pin_material':
			case 'open_material':
			case 'delete_material':
				return null;
			default:
				throw { kind: 'internal', message: `unexpected command ${cmd}` };
		}
	});
}

function callsOf(cmd: string): Record<string, unknown>[] {
	return invokeMock.mock.calls.filter(([c]) => c === cmd).map(([, args]) => args);
}

const progress = (done: number, total: number): Progress => ({
	done,
	total,
	bytes_per_sec: 1,
	eta_secs: null
});

describe('Training library page', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		drops.handler = null;
		library = [];
		uploadCalls = [];
		commands();
	});

	it('says how to start when the library is empty', async () => {
		render(TrainingPage);
		expect(await screen.findByTestId('materials-empty')).toHaveTextContent('Drop files');
	});

	it('lists materials with type, size, state and tags', async () => {
		library = [entry(material(), { pinned: true })];
		render(TrainingPage);
		const row = await screen.findByTestId('material-row');
		expect(row).toHaveTextContent('Objection handling');
		expect(row).toHaveTextContent('PDF');
		expect(row).toHaveTextContent('2.0 KB');
		expect(within(row).getByTestId('material-state')).toHaveTextContent('On this device');
		expect(within(row).getByTestId('pinned')).toBeInTheDocument();
		expect(row).toHaveTextContent('Onboarding');
	});

	it('searches and filters through the core', async () => {
		library = [entry(material())];
		render(TrainingPage);
		await screen.findByTestId('material-row');
		await fireEvent.input(screen.getByTestId('material-search'), { target: { value: 'objection' } });
		await fireEvent.change(screen.getByTestId('kind-filter'), { target: { value: 'pdf' } });
		await waitFor(() =>
			expect(callsOf('list_materials').at(-1)).toEqual({
				query: { search: 'objection', tag: null, kind: 'pdf', deleted: false }
			})
		);
	});

	it('uploads dropped files one by one with a bar each and a total that reaches 100%', async () => {
		const queued = [pending('id-a', 'a.pdf', 1000), pending('id-b', 'b.mp4', 3000)];
		commands({
			queue_material: (args) => queued[callsOf('queue_material').length - 1] ?? args
		});
		render(TrainingPage);
		await fireEvent.input(screen.getByTestId('new-tags'), { target: { value: 'Q3, q3, pricing' } });
		drops.handler?.({ type: 'drop', paths: ['/home/sam/a.pdf', '/home/sam/b.mp4'] });

		await waitFor(() => expect(uploadCalls).toHaveLength(1));
		expect(callsOf('queue_material')).toEqual([
			{ path: '/home/sam/a.pdf', meta: { title: '', description: null, tags: ['Q3', 'pricing'] } },
			{ path: '/home/sam/b.mp4', meta: { title: '', description: null, tags: ['Q3', 'pricing'] } }
		]);
		const rows = screen.getAllByTestId('upload-row');
		expect(rows).toHaveLength(2);

		uploadCalls[0].channel.onmessage(progress(500, 1000));
		await waitFor(() =>
			expect(within(rows[0]).getByTestId('upload-percent')).toHaveTextContent('50%')
		);
		expect(screen.getByTestId('upload-total-percent')).toHaveTextContent('12%');
		// Rate and time left, as the core measures them.
		uploadCalls[0].channel.onmessage({ done: 600, total: 1000, bytes_per_sec: 3 * 1024 * 1024, eta_secs: 75 });
		await waitFor(() =>
			expect(within(rows[0]).getByTestId('upload-speed')).toHaveTextContent('3.0 MB/s, 2 min left')
		);
		uploadCalls[0].resolve(material({ id: 'id-a' }));

		await waitFor(() => expect(uploadCalls).toHaveLength(2));
		expect(uploadCalls[1].id).toBe('id-b');
		uploadCalls[1].channel.onmessage(progress(3000, 3000));
		// All bytes sent is not yet added: 99 until the core says it is recorded.
		await waitFor(() =>
			expect(screen.getByTestId('upload-total-percent')).toHaveTextContent('99%')
		);
		uploadCalls[1].resolve(material({ id: 'id-b' }));
		await waitFor(() =>
			expect(screen.getByTestId('upload-total-percent')).toHaveTextContent('100%')
		);
		const bars = screen.getAllByTestId('upload-progress') as HTMLProgressElement[];
		expect(bars.map((b) => b.value)).toEqual([100, 100]);
		expect((screen.getByTestId('upload-total') as HTMLProgressElement).value).toBe(100);
	});

	it('adds files chosen in the system dialog like dropped ones', async () => {
		commands({
			pick_material_files: () => ['/home/sam/deck.pdf'],
			queue_material: () => pending('id-p', 'deck.pdf', 10)
		});
		render(TrainingPage);
		await fireEvent.click(screen.getByTestId('choose-materials'));
		await waitFor(() => expect(uploadCalls).toHaveLength(1));
		expect(callsOf('queue_material')[0].path).toBe('/home/sam/deck.pdf');
		expect(uploadCalls[0].id).toBe('id-p');
	});

	it('shows a refused file with the reason and uploads the others', async () => {
		commands({
			queue_material: (args) => {
				if ((args.path as string).endsWith('empty.pdf')) {
					throw { kind: 'invalid_input', message: '"empty.pdf" is empty (0 bytes)' };
				}
				return pending('id-ok', 'ok.pdf', 10);
			}
		});
		render(TrainingPage);
		drops.handler?.({ type: 'drop', paths: ['/x/empty.pdf', '/x/ok.pdf'] });
		await waitFor(() => expect(uploadCalls).toHaveLength(1));
		const refused = screen
			.getAllByTestId('upload-row')
			.find((r) => r.getAttribute('data-state') === 'refused');
		expect(refused).toBeDefined();
		expect(within(refused!).getByTestId('upload-error')).toHaveTextContent('is empty');
	});

	it('cancels by job id, then retries the failed upload', async () => {
		commands({ queue_material: () => pending('id-c', 'c.pdf', 100) });
		render(TrainingPage);
		drops.handler?.({ type: 'drop', paths: ['/x/c.pdf'] });
		await waitFor(() => expect(uploadCalls).toHaveLength(1));
		await fireEvent.click(await screen.findByTestId('cancel-upload'));
		expect(callsOf('cancel_material_transfer')).toEqual([{ jobId: uploadCalls[0].jobId }]);
		uploadCalls[0].reject({ kind: 'cancelled', message: 'cancelled; the part already transferred is kept' });
		await fireEvent.click(await screen.findByTestId('retry-upload'));
		await waitFor(() => expect(uploadCalls).toHaveLength(2));
		expect(uploadCalls[1].id).toBe('id-c');
	});
});

const TEAM_KEY = `0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d/${'b'.repeat(64)}/deck.pdf`;

function problem(over: Partial<FileProblem> = {}): FileProblem {
	return {
		direction: 'download',
		reason: 'offline',
		message:
			'“Objection handling” could not be downloaded: the team\'s file storage is unreachable. It downloads when the network is back',
		attempts: 1,
		failed_at: '2026-11-26T12:00:00.000Z',
		...over
	};
}

function moving(done: number, total: number): FileTransferProgress {
	return {
		material_id: material().id,
		direction: 'download',
		progress: progress(done, total)
	};
}

describe('Training: files the background work moves', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		library = [];
		uploadCalls = [];
		commands();
	});

	it('shows a pinned file downloading with a bar, then its new state', async () => {
		library = [
			entry(material({ file_path: TEAM_KEY }), { file_state: 'queued_download', pinned: true })
		];
		let transfers = [moving(512, 2048)];
		commands({ material_file_transfers: () => transfers });
		render(TrainingPage);
		const row = await screen.findByTestId('material-row');
		await waitFor(() =>
			expect(within(row).getByTestId('file-transfer-percent')).toHaveTextContent('25%')
		);
		expect(within(row).getByTestId('material-state')).toHaveTextContent('Downloading');
		expect(
			(within(row).getByTestId('file-transfer-progress') as HTMLProgressElement).value
		).toBe(25);

		// The download ends: the next poll finds nothing moving and the list is read again.
		const listsBefore = callsOf('list_materials').length;
		transfers = [];
		library = [entry(material({ file_path: TEAM_KEY }), { file_state: 'cached', pinned: true })];
		await waitFor(
			() =>
				expect(within(screen.getByTestId('material-row')).getByTestId('material-state')).toHaveTextContent(
					'Available offline'
				),
			{ timeout: 3000 }
		);
		expect(callsOf('list_materials').length).toBeGreaterThan(listsBefore);
		expect(screen.queryByTestId('file-transfer-progress')).toBeNull();
	});

	it('says why a download failed and retries it on demand', async () => {
		library = [
			entry(material({ file_path: TEAM_KEY }), {
				file_state: 'failed',
				pinned: true,
				file_problem: problem()
			})
		];
		commands({ retry_material_files: () => ({ done: [material().id], failed: [], waiting: 0 }) });
		render(TrainingPage);
		const row = await screen.findByTestId('material-row');
		expect(within(row).getByTestId('material-state')).toHaveTextContent('Failed');
		expect(within(row).getByTestId('file-problem')).toHaveTextContent(
			'downloads when the network is back'
		);
		await fireEvent.click(within(row).getByTestId('retry-file'));
		await waitFor(() => expect(callsOf('retry_material_files')).toHaveLength(1));
	});

	it('keeps a rep\'s local file local, with the reason and no retry or pin', async () => {
		library = [
			entry(material(), {
				file_state: 'local_only',
				file_problem: problem({
					direction: 'upload',
					reason: 'forbidden',
					message:
						'“Objection handling” stays on this device: only a team admin can add files to the team library (your role is rep). Nothing is lost; ask an admin to add it'
				})
			})
		];
		render(TrainingPage);
		const row = await screen.findByTestId('material-row');
		expect(within(row).getByTestId('material-state')).toHaveTextContent('Only on this device');
		expect(within(row).getByTestId('file-problem')).toHaveTextContent('stays on this device');
		expect(within(row).queryByTestId('retry-file')).toBeNull();
		expect(within(row).queryByTestId('pin-material')).toBeNull();
	});

	it('signed out in team mode: lists the library, opens what is kept, says sign in for the rest', async () => {
		const signedOut: AccountStatus = {
			configured: true,
			signed_in: false,
			user_id: null,
			email: null,
			role: null,
			verified: false,
			expires_at: null,
			expired: false,
			online: null,
			last_error: null,
			next_retry_at: null,
			summary: 'Signed out'
		};
		library = [
			entry(material({ file_path: TEAM_KEY }), { file_state: 'cached' }),
			entry(
				material({ id: '01a217db-013c-76a6-807a-b14247271e64', title: 'Pricing', file_path: TEAM_KEY }),
				{
					file_state: 'failed',
					pinned: true,
					file_problem: problem({
						reason: 'signed_out',
						message: 'sign in to download “Pricing” for offline use'
					})
				}
			)
		];
		commands({
			account_status: () => signedOut,
			preview_material: (args) => {
				if (args.id === material().id) return { path: '/data/cache/previews/x.pdf', mime: 'application/pdf', kind: 'pdf' };
				throw { kind: 'signed_out', message: 'sign in to download “Pricing” (it is not kept on this device)' };
			}
		});
		await appAccount.load();
		try {
			render(TrainingPage);
			expect(await screen.findByTestId('signed-out-notice')).toHaveTextContent('Sign in');
			const rows = await screen.findAllByTestId('material-row');
			expect(rows).toHaveLength(2);
			expect(screen.getByTestId('choose-materials')).toBeDisabled();
			expect(within(rows[0]).getByTestId('material-state')).toHaveTextContent('Available offline');
			const second = within(rows[1]);
			expect(second.getByTestId('file-problem')).toHaveTextContent('sign in to download “Pricing”');
			expect(second.getByTestId('sign-in-link')).toHaveAttribute('href', '/account');
			expect(second.queryByTestId('retry-file')).toBeNull();
		} finally {
			commands();
			await appAccount.load();
		}
	});
});

describe('Training previews', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		library = [];
		uploadCalls = [];
	});

	it('previews images in the app; documents open with the system app by id', async () => {
		library = [
			entry(material({ id: 'img', title: 'Org chart', kind: 'image', mime_type: 'image/png' })),
			entry(material({ id: 'doc', title: 'Playbook', kind: 'document' }))
		];
		commands({
			preview_material: (args) => ({
				path: `/data/cache/previews/${args.id as string}.png`,
				mime: 'image/png',
				kind: 'image'
			})
		});
		render(TrainingPage);
		const rows = await screen.findAllByTestId('material-row');
		expect(within(rows[1]).queryByTestId('preview-material')).not.toBeInTheDocument();
		expect(within(rows[0]).queryByTestId('open-material')).not.toBeInTheDocument();
		await fireEvent.click(within(rows[1]).getByTestId('open-material'));
		await waitFor(() => expect(callsOf('open_material')).toEqual([{ id: 'doc' }]));
		await fireEvent.click(within(rows[0]).getByTestId('preview-material'));
		const panel = await screen.findByTestId('material-preview');
		const img = within(panel).getByRole('img') as HTMLImageElement;
		expect(img.src).toBe(
			`http://asset.localhost/${encodeURIComponent('/data/cache/previews/img.png')}`
		);
		expect(img.alt).toBe('Org chart');
		await fireEvent.click(screen.getByTestId('close-preview'));
		expect(screen.queryByTestId('material-preview')).not.toBeInTheDocument();
	});
});

describe('Training media previews', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		uploadCalls = [];
	});

	it('plays a video from memory when the webview cannot stream it, and frees the copy on close', async () => {
		const fetchMock = vi.fn(async () => new Response(new Uint8Array([1, 2, 3, 4])));
		vi.stubGlobal('fetch', fetchMock);
		const created: Blob[] = [];
		URL.createObjectURL = vi.fn((blob: Blob) => {
			created.push(blob);
			return 'blob:training-1';
		});
		URL.revokeObjectURL = vi.fn();
		try {
			library = [
				entry(material({ id: 'vid', title: 'Demo', kind: 'video', mime_type: 'video/mp4' }), {
					file_state: 'cached'
				})
			];
			commands({
				preview_material: () => ({ path: '/data/cache/previews/vid.mp4', mime: 'video/mp4', kind: 'video' })
			});
			render(TrainingPage);
			await fireEvent.click(within((await screen.findAllByTestId('material-row'))[0]).getByTestId('preview-material'));
			const video = await screen.findByTestId('preview-video');
			// WebKitGTK refuses media from the asset protocol.
			await fireEvent.error(video);
			await waitFor(() => expect(screen.getByTestId('preview-video')).toHaveAttribute('src', 'blob:training-1'));
			expect(fetchMock).toHaveBeenCalledWith(
				`http://asset.localhost/${encodeURIComponent('/data/cache/previews/vid.mp4')}`
			);
			expect(created[0].type).toBe('video/mp4');
			// Not even from memory: say so and offer the system app.
			await fireEvent.error(screen.getByTestId('preview-video'));
			expect(await screen.findByTestId('preview-problem')).toHaveTextContent(
				'cannot play “Demo” inside the app'
			);
			await fireEvent.click(screen.getByTestId('close-preview'));
			expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:training-1');
		} finally {
			vi.unstubAllGlobals();
		}
	});

	it('does not copy a very large video into memory', async () => {
		const fetchMock = vi.fn();
		vi.stubGlobal('fetch', fetchMock);
		try {
			library = [
				entry(
					material({ id: 'big', title: 'Long', kind: 'video', mime_type: 'video/mp4', file_size: 900 * 1024 * 1024 }),
					{ file_state: 'cached' }
				)
			];
			commands({
				preview_material: () => ({ path: '/p/big.mp4', mime: 'video/mp4', kind: 'video' })
			});
			render(TrainingPage);
			await fireEvent.click(within((await screen.findAllByTestId('material-row'))[0]).getByTestId('preview-material'));
			await fireEvent.error(await screen.findByTestId('preview-video'));
			expect(await screen.findByTestId('preview-problem')).toHaveTextContent('Open with app');
			expect(fetchMock).not.toHaveBeenCalled();
		} finally {
			vi.unstubAllGlobals();
		}
	});
});

describe('Training share links', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		uploadCalls = [];
	});

	it('copies a week-long link for team files and shows a refusal as it came', async () => {
		toasts.clear();
		const writeText = vi.fn(async () => {});
		Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
		library = [
			entry(material({ id: 'team', title: 'Pricing' }), { file_state: 'synced' }),
			entry(material({ id: 'local', title: 'Notes' }), { file_state: 'stored' })
		];
		let refuse = false;
		commands({
			share_material: (args) => {
				if (refuse) throw { kind: 'invalid_input', message: 'the material has no file attached' };
				return {
					url: `https://project.example/storage/v1/object/sign/training-materials/${args.id as string}`,
					expires_at: '2026-12-03T12:00:00Z'
				};
			}
		});
		render(TrainingPage);
		const rows = await screen.findAllByTestId('material-row');
		// Local files have no server to share them from.
		expect(within(rows[1]).queryByTestId('share-material')).not.toBeInTheDocument();
		await fireEvent.click(within(rows[0]).getByTestId('share-material'));
		await waitFor(() => expect(callsOf('share_material')).toEqual([{ id: 'team', hours: 168 }]));
		await waitFor(() =>
			expect(writeText).toHaveBeenCalledWith(
				'https://project.example/storage/v1/object/sign/training-materials/team'
			)
		);
		await waitFor(() =>
			expect(toasts.items.map((t) => t.message)).toContainEqual(
				expect.stringMatching(/^Link to “Pricing” copied; it works until /)
			)
		);
		refuse = true;
		await fireEvent.click(within(rows[0]).getByTestId('share-material'));
		await waitFor(() =>
			expect(toasts.items.map((t) => [t.message, t.tone])).toContainEqual([
				'the material has no file attached',
				'error'
			])
		);
		expect(writeText).toHaveBeenCalledTimes(1);
	});
});

describe('materials helpers', () => {
	const item = (over: Partial<UploadItem>): UploadItem => ({
		id: 'x',
		jobId: 'j',
		name: 'f',
		total: 100,
		done: 0,
		state: 'uploading',
		error: null,
		...over
	});

	it('computes percents and a total that ignores refused files', () => {
		expect(percentOf(item({ done: 33 }))).toBe(33);
		expect(percentOf(item({ total: 0 }))).toBe(0);
		expect(percentOf(item({ done: 100 }))).toBe(99);
		expect(percentOf(item({ state: 'done', done: 0 }))).toBe(100);
		const t = totalProgress([
			item({ done: 50 }),
			item({ state: 'refused', total: 0, done: 0 }),
			item({ done: 100, state: 'done' })
		]);
		expect(t).toEqual({ done: 150, total: 200, percent: 75 });
		expect(totalProgress([item({ state: 'done', total: 0 })]).percent).toBe(100);
	});

	it('watches the background work only while something is queued or moving', () => {
		const stored = entry(material());
		expect(watchTransfers([stored], [])).toBe(false);
		expect(watchTransfers([entry(material(), { file_state: 'queued_download' })], [])).toBe(true);
		expect(watchTransfers([entry(material(), { file_state: 'queued_upload' })], [])).toBe(true);
		expect(watchTransfers([stored], [moving(1, 2)])).toBe(true);
		expect(transferPercent(moving(0, 0))).toBe(0);
		expect(transferPercent(moving(1, 3))).toBe(33);
		expect(canRetry(null)).toBe(false);
		expect(canRetry(problem())).toBe(true);
		expect(canRetry(problem({ reason: 'forbidden' }))).toBe(false);
		expect(canRetry(problem({ reason: 'signed_out' }))).toBe(false);
	});

	it('says the speed and the time left once a rate is known', () => {
		expect(speedLabel(0, null)).toBe('');
		expect(speedLabel(null, 5)).toBe('');
		expect(speedLabel(512 * 1024, null)).toBe('512 KB/s');
		expect(speedLabel(2.5 * 1024 * 1024, 12.2)).toBe('2.5 MB/s, 13 s left');
		expect(speedLabel(100, 2 * 3600)).toBe('1 KB/s, 2.0 h left');
	});

	it('parses tags without empties or repeats', () => {
		expect(parseTags(' a, ,B, b ,c')).toEqual(['a', 'B', 'c']);
		expect(parseTags('')).toEqual([]);
	});
});
