import type { AnalysisSummary, CallAnalysisRecord, Health, ProviderHealth } from '$lib/bindings';

export function healthFixture(overrides: Partial<Health> = {}): Health {
	return {
		version: '0.3.1',
		data_dir: '/home/test/.local/share/salesdesk',
		store_path: '/home/test/.local/share/salesdesk/salesdesk.db',
		log_dir: '/home/test/.local/share/salesdesk/logs',
		schema_version: 4,
		store: { ok: true, message: null },
		counts: { call_analyses: 7 },
		...overrides
	};
}

export const twoAnalyses: AnalysisSummary[] = [
	{
		id: '0b7c1a52-2f7e-4c52-9a0e-6a3d2f1f0001',
		title: 'Discovery call with Acme',
		created_at: '2024-05-02T09:30:00Z',
		updated_at: '2024-05-02T09:31:00Z',
		provider: 'openai',
		model: 'gpt-4o-mini',
		score: 72
	},
	{
		id: '0b7c1a52-2f7e-4c52-9a0e-6a3d2f1f0002',
		title: 'Renewal with Globex',
		created_at: '2024-05-01T15:00:00Z',
		updated_at: '2024-05-01T15:00:00Z',
		provider: 'mock',
		model: null,
		score: null
	}
];

export const analysisRecord: CallAnalysisRecord = {
	id: '0b7c1a52-2f7e-4c52-9a0e-6a3d2f1f0001',
	title: 'Discovery call with Acme',
	created_at: '2024-05-02T09:30:00Z',
	updated_at: '2024-05-03T10:00:00Z',
	transcript: 'Rep: Hi, thanks for taking the call.\nBuyer: Sure, we have ten minutes.',
	analysis: { summary: 'Good discovery', score: 8, next_steps: ['Send pricing'] },
	provider: 'openai',
	model: 'gpt-4o-mini'
};

/** One provider as the chain reports it; override what a test needs. */
export function providerFixture(overrides: Partial<ProviderHealth> = {}): ProviderHealth {
	return {
		provider: 'gemini',
		enabled: true,
		key_set: false,
		key_source: null,
		base_url: 'https://generativelanguage.googleapis.com',
		model: 'gemini-2.5-flash',
		fallback_model: null,
		breaker: 'closed',
		open_until: null,
		open_reason: null,
		misconfigured: null,
		missing_models: [],
		model_status: null,
		last_error: null,
		last_error_at: null,
		last_success_at: null,
		recent_attempts: 0,
		recent_failures: 0,
		latency_p50_ms: null,
		latency_p95_ms: null,
		probe: null,
		...overrides
	};
}
