import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ToastStore, UNDO_TIMEOUT_MS } from '$lib/toast.svelte';

describe('toasts', () => {
	let store: ToastStore;

	beforeEach(() => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		store = new ToastStore();
	});

	afterEach(() => {
		store.clear();
		vi.useRealTimers();
	});

	it('keeps an undo toast for about ten seconds', () => {
		store.show('Analysis deleted.', { action: { label: 'Undo', run: () => {} } });
		vi.advanceTimersByTime(UNDO_TIMEOUT_MS - 1);
		expect(store.items.map((t) => t.message)).toEqual(['Analysis deleted.']);
		vi.advanceTimersByTime(1);
		expect(store.items).toEqual([]);
		expect(UNDO_TIMEOUT_MS).toBe(10_000);
	});

	it('does not expire while paused, and runs its action once', async () => {
		const run = vi.fn();
		const id = store.show('Analysis deleted.', { action: { label: 'Undo', run } });
		store.pause(id);
		vi.advanceTimersByTime(60_000);
		expect(store.items).toHaveLength(1);
		await store.act(id);
		await store.act(id);
		expect(run).toHaveBeenCalledTimes(1);
		expect(store.items).toEqual([]);
	});
});
