import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccountStatus, SyncReport, SyncStatus } from '$lib/api';
import { healthFixture } from './fixtures';

const { invokeMock } = vi.hoisted(() => ({ invokeMock: vi.fn() }));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));

import { appAccount } from '$lib/account.svelte';
import { appSync, startSyncPolling, syncSummary, timeAgo } from '$lib/sync.svelte';
import StatusBar from '$lib/components/StatusBar.svelte';
import SyncPanel from '$lib/components/sync/SyncPanel.svelte';
import StatusPage from '../routes/status/+page.svelte';

const NOW = Date.parse('2026-11-26T12:00:00Z');

function sync(over: Partial<SyncStatus> = {}): SyncStatus {
	return {
		state: 'idle',
		queued: 0,
		rejected_count: 0,
		rejected: [],
		last_push_at: '2026-11-26T11:58:00Z',
		last_pull_at: '2026-11-26T11:57:30Z',
		last_error: null,
		...over
	};
}

const refused = sync({
	rejected_count: 1,
	rejected: [
		{
			table: 'clients',
			row_id: '0190a0a0-0000-7000-8000-000000000001',
			reason: 'your account may not edit this record in clients',
			queued_at: '2026-11-26T10:00:00Z'
		}
	]
});

function account(configured: boolean): AccountStatus {
	return {
		configured,
		signed_in: configured,
		user_id: configured ? 'u-1' : null,
		email: configured ? 'ana@example.com' : null,
		role: null,
		verified: configured,
		expires_at: null,
		expired: false,
		online: null,
		last_error: null,
		next_retry_at: null,
		summary: configured ? 'Signed in as ana@example.com' : 'Local mode — sign in'
	};
}

describe('syncSummary', () => {
	const team = account(true);

	it('says nothing in local mode, whatever is queued', () => {
		expect(syncSummary(sync({ queued: 40, state: 'signed_out' }), account(false), NOW)).toBeNull();
		expect(syncSummary(undefined, team, NOW)).toBeNull();
	});

	it('says when the last sync was', () => {
		expect(syncSummary(sync(), team, NOW)).toEqual({ tone: 'ok', text: 'Synced 2 min ago' });
		expect(syncSummary(sync({ last_push_at: null, last_pull_at: null }), team, NOW)?.text).toBe(
			'Not synced yet'
		);
	});

	it('counts waiting changes, offline or not', () => {
		expect(syncSummary(sync({ queued: 3 }), team, NOW)?.text).toBe('3 changes waiting');
		expect(syncSummary(sync({ queued: 1 }), team, NOW)?.text).toBe('1 change waiting');
		expect(syncSummary(sync({ queued: 3, state: 'offline' }), team, NOW)).toEqual({
			tone: 'warn',
			text: 'Offline — 3 changes waiting'
		});
		expect(syncSummary(sync({ queued: 2, state: 'signed_out' }), team, NOW)?.text).toBe(
			'Not syncing — 2 changes waiting'
		);
		expect(syncSummary(sync({ state: 'syncing', queued: 5 }), team, NOW)?.text).toBe('Syncing…');
	});

	it('puts refused changes first', () => {
		expect(syncSummary({ ...refused, queued: 4, state: 'offline' }, team, NOW)).toEqual({
			tone: 'error',
			text: '1 change refused'
		});
	});

	it('writes ages a person reads at a glance, and leaves bad input as it is', () => {
		expect(timeAgo('2026-11-26T11:59:40Z', NOW)).toBe('just now');
		expect(timeAgo('2026-11-26T09:00:00Z', NOW)).toBe('3 h ago');
		expect(timeAgo('2026-11-24T12:00:00Z', NOW)).toBe('2 days ago');
		expect(timeAgo('not a date', NOW)).toBe('not a date');
	});
});

describe('status bar sync item', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		appSync.reset();
		appAccount.reset();
	});

	it('is hidden in local mode and links to Status in team mode', async () => {
		appAccount.set(account(false));
		appSync.set(sync({ queued: 3, state: 'signed_out' }));
		const { unmount } = render(StatusBar);
		expect(screen.queryByTestId('statusbar-sync')).not.toBeInTheDocument();
		unmount();

		appAccount.set(account(true));
		appSync.set(sync({ queued: 3, state: 'offline' }));
		render(StatusBar);
		const item = screen.getByTestId('statusbar-sync');
		expect(item).toHaveTextContent('Offline — 3 changes waiting');
		expect(item).toHaveAttribute('href', '/status');
	});

	it('follows the polled status', async () => {
		vi.useFakeTimers();
		try {
			appAccount.set(account(true));
			invokeMock.mockResolvedValueOnce(sync({ queued: 2 }));
			invokeMock.mockResolvedValueOnce(refused);
			render(StatusBar);
			const stop = startSyncPolling(1000);
			await vi.waitFor(() =>
				expect(screen.getByTestId('statusbar-sync')).toHaveTextContent('2 changes waiting')
			);
			await vi.advanceTimersByTimeAsync(1000);
			await vi.waitFor(() =>
				expect(screen.getByTestId('statusbar-sync')).toHaveTextContent('1 change refused')
			);
			stop();
			expect(invokeMock).toHaveBeenCalledWith('sync_status');
			const calls = invokeMock.mock.calls.length;
			await vi.advanceTimersByTimeAsync(5000);
			expect(invokeMock.mock.calls.length).toBe(calls);
		} finally {
			vi.useRealTimers();
		}
	});

	it('runs a round when the network comes back', async () => {
		const report: SyncReport = {
			pushed: 3,
			already_current: 0,
			rejected: 0,
			pulled: 0,
			kept_local: 0,
			skipped: 0,
			status: sync()
		};
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'sync_status') return sync({ queued: 3, state: 'offline' });
			if (cmd === 'sync_now') return report;
			throw { kind: 'internal', message: `unexpected command ${cmd}` };
		});
		const stop = startSyncPolling(60_000);
		try {
			await waitFor(() => expect(appSync.data?.queued).toBe(3));
			window.dispatchEvent(new Event('online'));
			await waitFor(() => expect(appSync.data?.queued).toBe(0));
			expect(invokeMock).toHaveBeenCalledWith('sync_now');
		} finally {
			stop();
		}
	});
});

describe('Sync section', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		appSync.reset();
	});
	afterEach(() => {
		appSync.reset();
	});

	it('shows the state, the queue, the times and the last error', () => {
		render(SyncPanel, {
			props: {
				status: sync({
					state: 'offline',
					queued: 4,
					last_push_at: null,
					last_error: 'cannot reach the team database'
				})
			}
		});
		expect(screen.getByTestId('sync-state')).toHaveTextContent('Offline');
		expect(screen.getByTestId('sync-queued')).toHaveTextContent('4');
		expect(screen.getByTestId('sync-last-push')).toHaveTextContent('Never');
		expect(screen.getByTestId('sync-last-pull')).not.toHaveTextContent('Never');
		expect(screen.getByTestId('sync-last-error')).toHaveTextContent(
			'cannot reach the team database'
		);
		expect(screen.queryByTestId('sync-refused')).not.toBeInTheDocument();
	});

	it('lists refused changes with their reason; Discard asks first, then discards', async () => {
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'discard_rejected_change') return true;
			if (cmd === 'sync_status') return sync();
			throw { kind: 'internal', message: `unexpected command ${cmd}` };
		});
		render(SyncPanel, { props: { status: refused } });
		const item = screen.getByTestId('sync-refused-item');
		expect(item).toHaveTextContent('clients');
		expect(item).toHaveTextContent('your account may not edit this record');

		await fireEvent.click(screen.getByTestId('sync-discard'));
		expect(invokeMock).not.toHaveBeenCalled();
		await fireEvent.click(screen.getByText('Keep it'));
		expect(screen.queryByTestId('sync-discard-confirm')).not.toBeInTheDocument();
		expect(invokeMock).not.toHaveBeenCalled();

		await fireEvent.click(screen.getByTestId('sync-discard'));
		await fireEvent.click(screen.getByTestId('sync-discard-confirm'));
		await waitFor(() =>
			expect(screen.getByTestId('sync-note')).toHaveTextContent('discarded')
		);
		expect(invokeMock).toHaveBeenCalledWith('discard_rejected_change', {
			table: 'clients',
			rowId: '0190a0a0-0000-7000-8000-000000000001'
		});
		expect(appSync.data?.rejected_count).toBe(0);
	});

	it('shows a discard that fails, and keeps the change listed', async () => {
		invokeMock.mockRejectedValue({ kind: 'store', message: 'the disk is full' });
		render(SyncPanel, { props: { status: refused } });
		await fireEvent.click(screen.getByTestId('sync-discard'));
		await fireEvent.click(screen.getByTestId('sync-discard-confirm'));
		expect(await screen.findByTestId('sync-error')).toHaveTextContent('the disk is full');
		expect(screen.getByTestId('sync-refused-item')).toBeInTheDocument();
	});

	it('Sync now shows a spinner while it runs, then what it did', async () => {
		let finish: (r: SyncReport) => void = () => {};
		invokeMock.mockImplementation(
			(cmd: string) =>
				new Promise((resolve, reject) => {
					if (cmd === 'sync_now') finish = resolve;
					else reject({ kind: 'internal', message: `unexpected command ${cmd}` });
				})
		);
		render(SyncPanel, { props: { status: sync({ queued: 2 }) } });
		const button = screen.getByTestId('sync-now');
		await fireEvent.click(button);
		expect(button).toBeDisabled();
		expect(button).toHaveTextContent('Syncing…');
		finish({
			pushed: 2,
			already_current: 0,
			rejected: 0,
			pulled: 5,
			kept_local: 0,
			skipped: 0,
			status: sync()
		});
		expect(await screen.findByTestId('sync-note')).toHaveTextContent(
			'Sent 2 change(s), received 5.'
		);
		expect(button).not.toBeDisabled();
		expect(appSync.data?.queued).toBe(0);
	});

	it('Sync now says why it cannot run', async () => {
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'sync_now') {
				throw { kind: 'unavailable', message: 'no team is set up on this device (local mode)' };
			}
			if (cmd === 'sync_status') return sync({ state: 'signed_out', queued: 1 });
			throw { kind: 'internal', message: `unexpected command ${cmd}` };
		});
		render(SyncPanel, { props: { status: sync({ state: 'signed_out', queued: 1 }) } });
		await fireEvent.click(screen.getByTestId('sync-now'));
		expect(await screen.findByTestId('sync-error')).toHaveTextContent('local mode');
	});

	it('is on the Status page, from the health report', async () => {
		invokeMock.mockResolvedValue(healthFixture({ sync: sync({ queued: 6, state: 'offline' }) }));
		render(StatusPage);
		expect(await screen.findByTestId('sync-panel')).toBeInTheDocument();
		expect(screen.getByTestId('sync-queued')).toHaveTextContent('6');
		expect(screen.getByTestId('sync-state')).toHaveTextContent('Offline');
	});
});
