import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AiSettings, AiSettingsView } from '$lib/bindings';
import { fromDraft, move, routeRows, setUsed, toDraft } from '$lib/aiChain';

const { invokeMock } = vi.hoisted(() => ({ invokeMock: vi.fn() }));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));

import AiChainSettings from '$lib/components/settings/AiChainSettings.svelte';

function provider(model: string) {
	return { enabled: true, base_url: null, model, fallback_model: null, auth_header: 'bearer' as const, api_version: null };
}

function defaults(): AiSettings {
	const order = ['gemini', 'openai', 'anthropic'] as const;
	return {
		gemini: provider('gemini-2.5-flash'),
		openai: provider('gpt-5-mini'),
		anthropic: provider('claude-haiku-4-5'),
		routes: { call_analysis: [...order], roleplay: [...order], market_search: [...order] },
		stream: true,
		max_input_chars: 240000
	};
}

function viewFixture(overrides: Partial<AiSettingsView> = {}): AiSettingsView {
	return {
		settings: defaults(),
		defaults: defaults(),
		official_base_urls: {
			gemini: 'https://generativelanguage.googleapis.com',
			openai: 'https://api.openai.com/v1',
			anthropic: 'https://api.anthropic.com'
		},
		env_overrides: [],
		env_applies: false,
		problem: null,
		...overrides
	};
}

/** Answers get/save like the core: save echoes what it was given, unless `reject` says why not. */
function core(view: AiSettingsView, reject?: string) {
	invokeMock.mockImplementation(async (cmd: string, args?: { settings?: AiSettings }) => {
		if (cmd === 'get_ai_settings') return view;
		if (cmd === 'save_ai_settings') {
			if (reject) throw { kind: 'invalid_input', message: reject };
			return { ...view, settings: args?.settings };
		}
		return undefined;
	});
}

function savedSettings(): AiSettings {
	const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'save_ai_settings');
	expect(call).toBeDefined();
	return (call![1] as { settings: AiSettings }).settings;
}

function providerBox(id: string): HTMLElement {
	return screen.getAllByTestId('provider-settings').find((el) => el.dataset.provider === id)!;
}

describe('AI chain settings', () => {
	beforeEach(() => invokeMock.mockReset());

	it('reorders and drops providers per task and saves the new order', async () => {
		core(viewFixture());
		render(AiChainSettings);
		const route = (await screen.findAllByTestId('route')).find((r) => r.dataset.capability === 'call_analysis')!;
		const rows = () => within(route).getAllByTestId('route-row');
		expect(rows().map((r) => r.dataset.provider)).toEqual(['gemini', 'openai', 'anthropic']);
		expect(screen.getByTestId('chain-save')).toBeDisabled();

		await fireEvent.click(within(rows()[2]).getByTestId('route-up'));
		expect(rows().map((r) => r.dataset.provider)).toEqual(['gemini', 'anthropic', 'openai']);
		await fireEvent.click(within(rows()[0]).getByTestId('route-use'));
		expect(rows().map((r) => r.dataset.provider)).toEqual(['anthropic', 'openai', 'gemini']);
		expect(within(rows()[0]).getByTestId('route-up')).toBeDisabled();
		expect(within(rows()[2]).getByTestId('route-down')).toBeDisabled();

		await fireEvent.click(screen.getByTestId('chain-save'));
		const sent = savedSettings();
		expect(sent.routes?.call_analysis).toEqual(['anthropic', 'openai']);
		expect(sent.routes?.roleplay).toEqual(['gemini', 'openai', 'anthropic']);
		// Fields the page does not show pass through untouched.
		expect(sent.max_input_chars).toBe(240000);
		expect(await screen.findByTestId('chain-saved')).toHaveTextContent('New calls use these settings');
	});

	it('shows the defaults, sets up Azure OpenAI and resets to default', async () => {
		core(viewFixture());
		render(AiChainSettings);
		await screen.findAllByTestId('provider-settings');
		const openai = providerBox('openai');
		expect(openai).toHaveTextContent('Default: https://api.openai.com/v1');
		expect(openai).toHaveTextContent('Default: gpt-5-mini');
		const reset = within(openai).getByTestId('provider-reset');
		expect(reset).toBeDisabled();
		// Only the OpenAI-compatible provider has the header choice.
		expect(within(providerBox('gemini')).queryByTestId('provider-auth')).toBeNull();

		await fireEvent.input(within(openai).getByTestId('provider-url'), {
			target: { value: 'https://example-resource.openai.azure.com/openai/v1' }
		});
		await fireEvent.change(within(openai).getByTestId('provider-auth'), { target: { value: 'api_key' } });
		await fireEvent.input(within(openai).getByTestId('provider-api-version'), { target: { value: ' preview ' } });
		expect(reset).toBeEnabled();
		await fireEvent.click(screen.getByTestId('chain-save'));
		const sent = savedSettings();
		expect(sent.openai).toMatchObject({
			base_url: 'https://example-resource.openai.azure.com/openai/v1',
			auth_header: 'api_key',
			api_version: 'preview',
			model: 'gpt-5-mini'
		});

		await fireEvent.click(reset);
		expect((within(openai).getByTestId('provider-url') as HTMLInputElement).value).toBe('');
		expect((within(openai).getByTestId('provider-auth') as HTMLSelectElement).value).toBe('bearer');
		expect(screen.getByTestId('chain-save')).toBeEnabled();
	});

	it('keeps every edit on screen when the core refuses a save, and says why', async () => {
		core(viewFixture(), 'the OpenAI base URL \'api.openai.com\' is not a URL: enter one like https://api.example.com/v1');
		render(AiChainSettings);
		await screen.findAllByTestId('provider-settings');
		const openai = providerBox('openai');
		await fireEvent.input(within(openai).getByTestId('provider-url'), { target: { value: 'api.openai.com' } });
		await fireEvent.input(within(openai).getByTestId('provider-model'), { target: { value: 'gpt-x' } });
		await fireEvent.click(screen.getByTestId('chain-save'));

		expect(await screen.findByTestId('error-message')).toHaveTextContent('is not a URL');
		expect((within(openai).getByTestId('provider-url') as HTMLInputElement).value).toBe('api.openai.com');
		expect((within(openai).getByTestId('provider-model') as HTMLInputElement).value).toBe('gpt-x');
		expect(screen.queryByTestId('chain-saved')).toBeNull();
		expect(screen.getByTestId('chain-save')).toBeEnabled();
	});

	it('says when an environment variable overrides a setting in the command line', async () => {
		core(
			viewFixture({
				env_overrides: [
					{ provider: 'openai', setting: 'base_url', variable: 'OPENAI_BASE_URL' },
					{ provider: 'openai', setting: 'api_version', variable: 'OPENAI_API_VERSION' },
					{ provider: null, setting: 'order', variable: 'SALESDESK_AI_PROVIDERS' }
				]
			})
		);
		render(AiChainSettings);
		await screen.findAllByTestId('provider-settings');
		expect(within(providerBox('openai')).getAllByTestId('env-note')[0]).toHaveTextContent(
			'OPENAI_BASE_URL is set in the environment: the salesdesk command line uses it instead of this setting'
		);
		expect(within(providerBox('openai')).getAllByTestId('env-note')[1]).toHaveTextContent('OPENAI_API_VERSION');
		expect(within(providerBox('gemini')).queryByTestId('env-note')).toBeNull();
		expect(screen.getAllByTestId('env-note')[0]).toHaveTextContent('SALESDESK_AI_PROVIDERS');
	});

	it('says when the saved settings were unreadable and starts from the defaults', async () => {
		core(viewFixture({ problem: 'the saved AI settings are unreadable (unknown variant `mistral`)' }));
		render(AiChainSettings);
		expect(await screen.findByTestId('chain-problem')).toHaveTextContent('Showing the defaults');
		expect((within(providerBox('openai')).getByTestId('provider-model') as HTMLInputElement).value).toBe('gpt-5-mini');
	});

	it('shows a retry when the settings cannot be read', async () => {
		invokeMock.mockRejectedValueOnce({ kind: 'store', message: 'the store is locked' });
		render(AiChainSettings);
		expect(await screen.findByTestId('error-message')).toHaveTextContent('the store is locked');
		core(viewFixture());
		await fireEvent.click(screen.getByRole('button', { name: /retry/i }));
		expect(await screen.findAllByTestId('provider-settings')).toHaveLength(3);
	});
});

describe('AI chain draft helpers', () => {
	it('round-trips settings and treats blanks as unset', () => {
		const d = toDraft(defaults(), defaults());
		d.providers.gemini.base_url = '   ';
		d.providers.anthropic.fallback_model = ' claude-sonnet-4-5 ';
		const s = fromDraft(defaults(), d);
		expect(s.gemini?.base_url).toBeNull();
		expect(s.anthropic?.fallback_model).toBe('claude-sonnet-4-5');
		expect(fromDraft(defaults(), toDraft(defaults(), defaults()))).toEqual(defaults());
	});

	it('moves within bounds and adds a re-ticked provider last', () => {
		expect(move(['gemini', 'openai'], 'gemini', -1)).toEqual(['gemini', 'openai']);
		expect(move(['gemini', 'openai'], 'anthropic', 1)).toEqual(['gemini', 'openai']);
		expect(setUsed(['openai'], 'gemini', true)).toEqual(['openai', 'gemini']);
		expect(routeRows(['anthropic']).map((r) => [r.id, r.used])).toEqual([
			['anthropic', true],
			['gemini', false],
			['openai', false]
		]);
	});
});
