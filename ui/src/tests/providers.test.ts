import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { healthFixture, providerFixture } from './fixtures';

const { invokeMock } = vi.hoisted(() => ({ invokeMock: vi.fn() }));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));

import SettingsPage from '../routes/settings/+page.svelte';
import StatusPage from '../routes/status/+page.svelte';

const providers = [
	providerFixture({ provider: 'gemini', key_set: true, key_source: 'keyring', latency_p50_ms: 420, latency_p95_ms: 910 }),
	providerFixture({ provider: 'openai', model: 'gpt-5-mini', breaker: 'open', key_set: true, key_source: 'environment', open_until: '2026-11-26T12:00:00Z' }),
	providerFixture({ provider: 'anthropic', model: 'claude-haiku-4-5' })
];

describe('Status page: AI providers', () => {
	beforeEach(() => invokeMock.mockReset());

	it('shows each provider in order with its state, key and latency', async () => {
		invokeMock.mockResolvedValue(healthFixture({ providers }));
		render(StatusPage);
		const rows = await screen.findAllByTestId('provider-row');
		expect(rows.map((r) => r.dataset.provider)).toEqual(['gemini', 'openai', 'anthropic']);
		expect(within(rows[0]).getByTestId('provider-state')).toHaveTextContent('Ready');
		expect(within(rows[0]).getByTestId('provider-key')).toHaveTextContent('Set (keyring)');
		expect(rows[0]).toHaveTextContent('420 / 910 ms');
		expect(within(rows[1]).getByTestId('provider-state')).toHaveTextContent('Paused until 2026-11-26T12:00:00Z');
		expect(within(rows[2]).getByTestId('provider-state')).toHaveTextContent('No key: skipped');
	});

	it('"Test providers" probes each provider and shows the results', async () => {
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'health') return healthFixture({ providers });
			if (cmd === 'probe_providers') {
				return healthFixture({
					providers: [
						{ ...providers[0], probe: { ok: true, status: 200, latency_ms: 87, error: null, models_listed: 12, checked_at: 'now', cached: false } },
						{ ...providers[1], probe: { ok: false, status: 401, latency_ms: 40, error: 'the key was rejected (401)', models_listed: 0, checked_at: 'now', cached: false } },
						providers[2]
					]
				});
			}
			return undefined;
		});
		render(StatusPage);
		await screen.findAllByTestId('provider-row');
		await fireEvent.click(screen.getByTestId('test-providers'));
		const probes = await screen.findAllByText(/OK in 87 ms|Failed: the key was rejected/);
		expect(probes).toHaveLength(2);
		expect(invokeMock).toHaveBeenCalledWith('probe_providers');
	});
});

describe('Settings page: provider keys', () => {
	beforeEach(() => invokeMock.mockReset());

	it('saves a key to the keyring and shows only that it is set', async () => {
		invokeMock.mockImplementation(async (cmd: string, args?: Record<string, unknown>) => {
			if (cmd === 'health') return healthFixture({ providers });
			if (cmd === 'set_provider_key') return { provider: args?.provider, set: true, source: 'keyring' };
			return undefined;
		});
		render(SettingsPage);
		const rows = await screen.findAllByTestId('key-row');
		const anthropic = rows.find((r) => r.dataset.provider === 'anthropic')!;
		expect(within(anthropic).getByTestId('key-status')).toHaveTextContent('No key');
		const input = within(anthropic).getByTestId('key-input') as HTMLInputElement;
		expect(input.type).toBe('password');
		await fireEvent.input(input, { target: { value: '  test-anthropic-key  ' } });
		await fireEvent.click(within(anthropic).getByTestId('key-save'));

		expect(invokeMock).toHaveBeenCalledWith('set_provider_key', { provider: 'anthropic', key: 'test-anthropic-key' });
		expect(await within(anthropic).findByTestId('key-message')).toHaveTextContent('Key saved');
		expect(within(anthropic).getByTestId('key-status')).toHaveTextContent('Key set (keyring)');
		expect(input.value).toBe('');
		expect(document.body.textContent).not.toContain('test-anthropic-key');
	});

	it('removes a keyring key; a key from the environment cannot be removed here', async () => {
		invokeMock.mockImplementation(async (cmd: string, args?: Record<string, unknown>) => {
			if (cmd === 'health') return healthFixture({ providers });
			if (cmd === 'delete_provider_key') return { provider: args?.provider, set: false, source: null };
			return undefined;
		});
		render(SettingsPage);
		const rows = await screen.findAllByTestId('key-row');
		const openai = rows.find((r) => r.dataset.provider === 'openai')!;
		expect(within(openai).getByTestId('key-remove')).toBeDisabled();
		const gemini = rows.find((r) => r.dataset.provider === 'gemini')!;
		await fireEvent.click(within(gemini).getByTestId('key-remove'));
		expect(invokeMock).toHaveBeenCalledWith('delete_provider_key', { provider: 'gemini' });
		expect(await within(gemini).findByTestId('key-message')).toHaveTextContent('Key removed');
		expect(within(gemini).getByTestId('key-status')).toHaveTextContent('No key');
	});
});
