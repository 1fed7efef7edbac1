// Team sync as the status bar and the Status page show it. The status is polled rather than
// pushed: it is one row and two counts in the local store (a sub-millisecond read), the engine
// writes it at the end of every round from several places, and the "2 min ago" text has to
// age between rounds anyway; a poll every few seconds covers all three with no extra wiring.
import { api, type AccountStatus, type SyncStatus } from './api';
import { Loadable } from './loadable.svelte';

export const appSync = new Loadable<SyncStatus>(() => api.syncStatus());

/** How often the status bar re-reads the sync status. */
export const SYNC_POLL_MS = 3000;

export type SyncTone = 'ok' | 'pending' | 'warn' | 'error';

export interface SyncSummary {
	tone: SyncTone;
	text: string;
}

function changes(n: number): string {
	return n === 1 ? '1 change' : `${n} changes`;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago": for times in the recent past (`now` in ms). */
export function timeAgo(iso: string, now: number = Date.now()): string {
	const then = Date.parse(iso);
	if (Number.isNaN(then)) return iso;
	const seconds = Math.max(0, Math.round((now - then) / 1000));
	if (seconds < 45) return 'just now';
	const minutes = Math.round(seconds / 60);
	if (minutes < 60) return `${minutes} min ago`;
	const hours = Math.round(minutes / 60);
	if (hours < 36) return `${hours} h ago`;
	const days = Math.round(hours / 24);
	return days === 1 ? '1 day ago' : `${days} days ago`;
}

/** The later of the last push and the last pull, if any. */
export function lastSyncedAt(status: SyncStatus): string | null {
	const times = [status.last_push_at, status.last_pull_at].filter(
		(t): t is string => typeof t === 'string' && !Number.isNaN(Date.parse(t))
	);
	if (times.length === 0) return null;
	return times.reduce((a, b) => (Date.parse(a) > Date.parse(b) ? a : b));
}

/**
 * The status bar's sync item; `null` when there is nothing to say (local mode: every local
 * write is queued for a team that does not exist yet, and that is not news).
 */
export function syncSummary(
	status: SyncStatus | undefined | null,
	account: AccountStatus | undefined | null,
	now: number = Date.now()
): SyncSummary | null {
	if (!status || !account?.configured) return null;
	if (status.rejected_count > 0) {
		return { tone: 'error', text: `${changes(status.rejected_count)} refused` };
	}
	const waiting = status.queued > 0 ? `${changes(status.queued)} waiting` : null;
	switch (status.state) {
		case 'syncing':
			return { tone: 'pending', text: 'Syncing…' };
		case 'offline':
			return { tone: 'warn', text: waiting ? `Offline — ${waiting}` : 'Offline' };
		case 'signed_out':
			return { tone: 'warn', text: waiting ? `Not syncing — ${waiting}` : 'Not syncing' };
		case 'idle': {
			if (waiting) return { tone: 'pending', text: waiting };
			const at = lastSyncedAt(status);
			return at
				? { tone: 'ok', text: `Synced ${timeAgo(at, now)}` }
				: { tone: 'pending', text: 'Not synced yet' };
		}
	}
}

/** What each state means, for the Status page. */
export function stateLabel(status: SyncStatus): string {
	switch (status.state) {
		case 'idle':
			return status.queued > 0 ? 'Changes waiting to be sent' : 'Up to date';
		case 'syncing':
			return 'Syncing now';
		case 'offline':
			return 'Offline: the team database cannot be reached; changes stay on this device and go out when it can';
		case 'signed_out':
			return 'Not syncing: no team session on this device (local mode or signed out)';
	}
}

/**
 * Keeps `appSync` fresh: now, every `intervalMs`, and when the window says the network is back
 * (then a round runs at once, which also refreshes the session). Returns the cleanup.
 */
export function startSyncPolling(intervalMs: number = SYNC_POLL_MS): () => void {
	void appSync.load();
	const timer = setInterval(() => void appSync.load(), intervalMs);
	const online = () => {
		// A failure here is shown by the status itself (offline, signed out); nothing to add.
		void api
			.syncNow()
			.then((report) => {
				if (report.status) appSync.set(report.status);
			})
			.catch(() => appSync.load());
	};
	window.addEventListener('online', online);
	return () => {
		clearInterval(timer);
		window.removeEventListener('online', online);
	};
}
