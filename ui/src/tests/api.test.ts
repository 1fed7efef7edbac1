import { beforeEach, describe, expect, it, vi } from 'vitest';

const { invokeMock } = vi.hoisted(() => ({ invokeMock: vi.fn() }));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));

import { api, ApiError } from '$lib/api';

describe('api', () => {
	beforeEach(() => {
		invokeMock.mockReset();
	});

	it('returns the data of a successful command', async () => {
		invokeMock.mockResolvedValue([]);
		await expect(api.listAnalyses()).resolves.toEqual([]);
	});

	it('throws a typed ApiError for a command error', async () => {
		invokeMock.mockRejectedValue({ kind: 'not_found', message: 'gone' });
		const error = await api.getAnalysis('x').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ApiError);
		expect(error).toMatchObject({ kind: 'not_found', message: 'gone', isNotFound: true });
	});

	it('reports an unreachable core when IPC itself throws', async () => {
		invokeMock.mockRejectedValue(new TypeError('window.__TAURI_INTERNALS__ is undefined'));
		const error = await api.health().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ApiError);
		expect((error as ApiError).kind).toBe('unavailable');
		expect((error as ApiError).message).toContain('not reachable');
	});
});
