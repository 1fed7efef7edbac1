// Words for the AI providers' state, shared by the Status and Settings pages.
import type { ProviderHealth, ProviderId } from './api';

export const PROVIDERS: ProviderId[] = ['gemini', 'openai', 'anthropic'];

const LABELS: Record<ProviderId, string> = {
	gemini: 'Google Gemini',
	openai: 'OpenAI',
	anthropic: 'Anthropic'
};

export function providerLabel(id: ProviderId): string {
	return LABELS[id];
}

/** One phrase for what the chain will do with this provider now. */
export function providerState(p: ProviderHealth): string {
	if (!p.enabled) return 'Disabled';
	if (!p.key_set) return 'No key: skipped';
	if (p.misconfigured) return 'Misconfigured: skipped until its key changes';
	if (p.breaker === 'open') return p.open_until ? `Paused until ${p.open_until}` : 'Paused';
	if (p.breaker === 'half_open') return 'Recovering: testing with one call';
	return 'Ready';
}
