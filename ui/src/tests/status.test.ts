import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { healthFixture } from './fixtures';

const { invokeMock } = vi.hoisted(() => ({ invokeMock: vi.fn() }));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));

import StatusPage from '../routes/status/+page.svelte';

describe('Status page', () => {
	beforeEach(() => {
		invokeMock.mockReset();
	});

	it('shows OK and the details for a healthy store', async () => {
		invokeMock.mockResolvedValue(healthFixture());
		render(StatusPage);

		const store = await screen.findByTestId('status-store');
		expect(store).toHaveTextContent('OK');
		expect(store).not.toHaveTextContent('Error');
		expect(screen.getByText('Local store')).toBeInTheDocument();
		expect(screen.getByTestId('status-schema-version')).toHaveTextContent('4');
		expect(screen.getByTestId('status-count-analyses')).toHaveTextContent('7');
		expect(screen.getByTestId('status-version')).toHaveTextContent('0.3.1');
		expect(screen.getByText('/home/test/.local/share/salesdesk')).toBeInTheDocument();
		expect(screen.getByText('/home/test/.local/share/salesdesk/salesdesk.db')).toBeInTheDocument();
		expect(screen.getByText('/home/test/.local/share/salesdesk/logs')).toBeInTheDocument();
		expect(invokeMock).toHaveBeenCalledWith('health');
	});

	it('shows the error message for an unhealthy store', async () => {
		invokeMock.mockResolvedValue(
			healthFixture({ store: { ok: false, message: 'disk I/O error' } })
		);
		render(StatusPage);

		const store = await screen.findByTestId('status-store');
		expect(store).toHaveTextContent('Error: disk I/O error');
		expect(store.textContent).not.toMatch(/\bOK\b/);
	});

	it('shows an error state when the health call fails, and Refresh reloads', async () => {
		invokeMock.mockRejectedValueOnce({ kind: 'internal', message: 'core crashed' });
		render(StatusPage);

		expect(await screen.findByTestId('error-banner')).toHaveTextContent('core crashed');
		expect(screen.queryByTestId('status-store')).not.toBeInTheDocument();

		invokeMock.mockResolvedValueOnce(healthFixture());
		await fireEvent.click(screen.getByTestId('status-refresh'));

		expect(await screen.findByTestId('status-store')).toHaveTextContent('OK');
		expect(invokeMock).toHaveBeenCalledTimes(2);
	});
});
