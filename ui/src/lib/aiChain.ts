// The AI chain settings as the Settings page edits them: a flat draft of what the page shows
// (provider order per capability, endpoint and model per provider), turned back into the
// core's `AiSettings` on save. Fields the page does not show (timeouts, retries) pass through.
import type {
	AiSettings,
	AuthHeader,
	EnvOverride,
	EnvSetting,
	ProviderId,
	ProviderSettings,
	Routes
} from './bindings';
import { PROVIDERS } from './providers';

export type Capability = keyof Routes;

export const CAPABILITIES: { id: Capability; label: string }[] = [
	{ id: 'call_analysis', label: 'Call analysis' },
	{ id: 'roleplay', label: 'Roleplay' },
	{ id: 'market_search', label: 'Market search' }
];

export type ProviderDraft = {
	enabled: boolean;
	/** Empty = the official endpoint. */
	base_url: string;
	model: string;
	/** Empty = none: a retired model moves on to the next provider. */
	fallback_model: string;
	auth_header: AuthHeader;
	/** Empty = no `api-version` parameter. */
	api_version: string;
};

export type ChainDraft = {
	providers: Record<ProviderId, ProviderDraft>;
	routes: Record<Capability, ProviderId[]>;
};

function providerOf(settings: AiSettings, id: ProviderId): ProviderSettings {
	return settings[id] ?? {};
}

function draftOf(p: ProviderSettings, fallback: ProviderSettings): ProviderDraft {
	return {
		enabled: p.enabled ?? fallback.enabled ?? true,
		base_url: p.base_url ?? '',
		model: p.model ?? fallback.model ?? '',
		fallback_model: p.fallback_model ?? '',
		auth_header: p.auth_header ?? 'bearer',
		api_version: p.api_version ?? ''
	};
}

export function toDraft(settings: AiSettings, defaults: AiSettings): ChainDraft {
	const providers = {} as Record<ProviderId, ProviderDraft>;
	for (const id of PROVIDERS) {
		providers[id] = draftOf(providerOf(settings, id), providerOf(defaults, id));
	}
	const routes = {} as Record<Capability, ProviderId[]>;
	for (const { id } of CAPABILITIES) {
		routes[id] = [...(settings.routes?.[id] ?? defaults.routes?.[id] ?? PROVIDERS)];
	}
	return { providers, routes };
}

const blankToNull = (s: string): string | null => (s.trim() === '' ? null : s.trim());

/** `base` with the draft's values in place; everything else in `base` is kept. */
export function fromDraft(base: AiSettings, draft: ChainDraft): AiSettings {
	const next: AiSettings = { ...base, routes: { ...base.routes } };
	for (const id of PROVIDERS) {
		const d = draft.providers[id];
		next[id] = {
			...providerOf(base, id),
			enabled: d.enabled,
			base_url: blankToNull(d.base_url),
			// Sent as typed: the core says clearly what is wrong with a model id.
			model: d.model.trim(),
			fallback_model: blankToNull(d.fallback_model),
			auth_header: d.auth_header,
			api_version: blankToNull(d.api_version)
		};
	}
	for (const { id } of CAPABILITIES) {
		next.routes = { ...next.routes, [id]: [...draft.routes[id]] };
	}
	return next;
}

/** The draft of one provider as it ships (keeps whether it is enabled). */
export function resetProvider(draft: ProviderDraft, defaults: AiSettings, id: ProviderId): ProviderDraft {
	return { ...draftOf(providerOf(defaults, id), providerOf(defaults, id)), enabled: draft.enabled };
}

export function isDefault(draft: ProviderDraft, defaults: AiSettings, id: ProviderId): boolean {
	const d = resetProvider(draft, defaults, id);
	return (
		draft.base_url.trim() === d.base_url &&
		draft.model.trim() === d.model &&
		draft.fallback_model.trim() === d.fallback_model &&
		draft.auth_header === d.auth_header &&
		draft.api_version.trim() === d.api_version
	);
}

/** The rows of one capability: the providers it uses in order, then the others. */
export function routeRows(route: ProviderId[]): { id: ProviderId; used: boolean; position: number }[] {
	const used = route.map((id, position) => ({ id, used: true, position }));
	const unused = PROVIDERS.filter((id) => !route.includes(id)).map((id) => ({
		id,
		used: false,
		position: -1
	}));
	return [...used, ...unused];
}

/** Moves `id` one place up (-1) or down (+1); out of range or unused leaves the route as is. */
export function move(route: ProviderId[], id: ProviderId, delta: -1 | 1): ProviderId[] {
	const from = route.indexOf(id);
	const to = from + delta;
	if (from < 0 || to < 0 || to >= route.length) return route;
	const next = [...route];
	[next[from], next[to]] = [next[to], next[from]];
	return next;
}

/** Adds `id` at the end of the route (last resort) or takes it out. */
export function setUsed(route: ProviderId[], id: ProviderId, used: boolean): ProviderId[] {
	if (used) return route.includes(id) ? route : [...route, id];
	return route.filter((p) => p !== id);
}

/** What to tell the user about an environment variable that replaces a setting. */
export function envNote(
	overrides: EnvOverride[],
	provider: ProviderId | null,
	setting: EnvSetting,
	applies: boolean
): string | null {
	const o = overrides.find((x) => x.provider === provider && x.setting === setting);
	if (!o) return null;
	return applies
		? `${o.variable} is set in the environment and overrides this setting.`
		: `${o.variable} is set in the environment: the salesdesk command line uses it instead of this setting; this app uses the setting.`;
}
