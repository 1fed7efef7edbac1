import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { OfflineFiles } from '$lib/bindings';

const { invokeMock } = vi.hoisted(() => ({ invokeMock: vi.fn() }));
vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));

import OfflineFilesSettings from '$lib/components/settings/OfflineFilesSettings.svelte';
import { budgetChoices, sizeLabel } from '$lib/offline';

const MIB = 1024 * 1024;

/** Answers like the core: a budget, copies of which `pinned` bytes are kept offline. */
function core(state: OfflineFiles) {
	invokeMock.mockImplementation(async (cmd: string, args?: { mib?: number }) => {
		switch (cmd) {
			case 'get_offline_files':
				return { ...state };
			case 'set_offline_budget':
				if ((args?.mib ?? 0) < 256)
					throw { kind: 'invalid_input', message: 'the offline files budget must be between 256 MiB and 1024 GiB' };
				state.budget_bytes = (args?.mib ?? 0) * MIB;
				state.used_bytes = Math.min(state.used_bytes, Math.max(state.budget_bytes, state.pinned_bytes));
				return { ...state };
			case 'clear_offline_files':
				state.used_bytes = state.pinned_bytes;
				state.files = 1;
				return { ...state };
			default:
				throw new Error(`unexpected command ${cmd}`);
		}
	});
}

describe('OfflineFilesSettings', () => {
	beforeEach(() => {
		invokeMock.mockReset();
	});

	it('shows the usage, saves a smaller budget and removes unpinned copies after confirming', async () => {
		core({ budget_bytes: 2048 * MIB, used_bytes: 1536 * MIB, pinned_bytes: 512 * MIB, files: 7 });
		render(OfflineFilesSettings);
		expect(await screen.findByTestId('offline-usage')).toHaveTextContent(
			'7 files, 1.5 GB of 2 GB (512 MB kept offline)'
		);
		const select = screen.getByTestId('offline-budget') as HTMLSelectElement;
		expect(select.value).toBe(String(2048));
		await fireEvent.change(select, { target: { value: '1024' } });
		await fireEvent.click(screen.getByTestId('offline-save'));
		await waitFor(() =>
			expect(invokeMock).toHaveBeenCalledWith('set_offline_budget', { mib: 1024 })
		);
		expect(await screen.findByTestId('offline-message')).toHaveTextContent('up to 1 GB');
		expect(screen.getByTestId('offline-usage')).toHaveTextContent('1 GB of 1 GB');

		// Removing asks first; cancelling changes nothing.
		await fireEvent.click(screen.getByTestId('offline-clear'));
		expect(invokeMock).not.toHaveBeenCalledWith('clear_offline_files', expect.anything());
		await fireEvent.click(screen.getByTestId('offline-clear-confirm'));
		await waitFor(() =>
			expect(screen.getByTestId('offline-usage')).toHaveTextContent('1 file, 512 MB of 1 GB')
		);
		// Only pinned copies left: nothing more to remove.
		expect(screen.getByTestId('offline-clear')).toBeDisabled();
	});

	it('offers the budget in force among the choices', () => {
		expect(budgetChoices(3000 * MIB)).toContain(3000);
		expect(budgetChoices(2048 * MIB).filter((m) => m === 2048)).toHaveLength(1);
		expect(sizeLabel(1536 * MIB)).toBe('1.5 GB');
		expect(sizeLabel(300 * MIB)).toBe('300 MB');
	});
});
