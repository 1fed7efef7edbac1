import { describe, expect, it } from 'vitest';
import {
	defaultTitle,
	describeAttempt,
	failedAttempts,
	formatClock,
	formatFixed,
	formatHms,
	formatPercent,
	formatStretch,
	metricCards,
	metricCitation,
	parseCompetitors,
	relativeAge,
	repSourceReason,
	servedFromLine,
	summarizeFailures,
	timelineData
} from '$lib/analysis';
import { parseAnalysis } from '$lib/api';
import { FALLBACK_THEME, talkChartConfig, timelineChartConfig } from '$lib/charts';
import { buildQuery, isFiltered } from '$lib/search';
import type { Attempt } from '$lib/bindings';
import {
	liveAfterFailure,
	monologue,
	offlineAnalysis,
	timedMetrics,
	untimedMetrics
} from './analysis-fixtures';

function attempt(provider: string, outcome: string, status: number | null): Attempt {
	return { provider, model: 'm', outcome, status, latency_ms: 1, error: null };
}

describe('time and number formatting', () => {
	it('formats clocks as m:ss, and h:mm:ss from an hour', () => {
		expect(formatClock(0)).toBe('0:00');
		expect(formatClock(59.6)).toBe('1:00');
		expect(formatClock(125.4)).toBe('2:05');
		expect(formatClock(3599.4)).toBe('59:59');
		expect(formatClock(3725)).toBe('1:02:05');
		expect(formatClock(-3)).toBe('0:00');
		expect(formatClock(null)).toBe('—');
	});

	it('formats call durations as h:mm:ss', () => {
		expect(formatHms(754.4)).toBe('0:12:34');
		expect(formatHms(3661)).toBe('1:01:01');
		expect(formatHms(Number.NaN)).toBe('—');
	});

	it('formats percents and decimals without -0', () => {
		expect(formatPercent(61.8)).toBe('62%');
		expect(formatPercent(38.2)).toBe('38%');
		expect(formatPercent(38.25, 1)).toBe('38.3%');
		expect(formatPercent(null)).toBe('—');
		expect(formatFixed(-0.04, 1)).toBe('0.0');
		expect(formatFixed(1.99, 1)).toBe('2.0');
	});

	it('formats stretches in time when timed, else in words', () => {
		expect(formatStretch(monologue, 'seconds')).toBe('2:05');
		expect(formatStretch({ ...monologue, seconds: null }, 'words')).toBe('310 words');
		expect(formatStretch({ ...monologue, seconds: null, words: 1 }, 'words')).toBe('1 word');
		// Words basis wins even if a stretch carries seconds.
		expect(formatStretch(monologue, 'words')).toBe('310 words');
		expect(formatStretch(null, 'seconds')).toBe('—');
	});
});

describe('provider attempts', () => {
	it('describes a failed attempt by status, else by outcome', () => {
		expect(describeAttempt(attempt('gemini', 'retryable_error', 503))).toBe('Gemini returned 503');
		expect(describeAttempt(attempt('openai', 'timeout', null))).toBe('OpenAI timed out');
		expect(describeAttempt(attempt('anthropic', 'fatal_error', null))).toBe('Anthropic failed');
		expect(describeAttempt(attempt('acme', 'weird_thing', null))).toBe('Acme: weird thing');
	});

	it('keeps only the failures before the first success', () => {
		const attempts = [
			attempt('gemini', 'retryable_error', 503),
			attempt('openai', 'ok', 200),
			attempt('anthropic', 'timeout', null)
		];
		expect(failedAttempts(attempts).map((a) => a.provider)).toEqual(['gemini']);
	});

	it('summarizes failures, counting repeats', () => {
		expect(
			summarizeFailures([
				attempt('gemini', 'retryable_error', 503),
				attempt('gemini', 'retryable_error', 503),
				attempt('openai', 'timeout', null)
			])
		).toBe('Gemini returned 503 twice and OpenAI timed out');
		expect(
			summarizeFailures([
				attempt('gemini', 'retryable_error', 503),
				attempt('openai', 'retryable_error', 429),
				attempt('anthropic', 'fatal_error', null)
			])
		).toBe('Gemini returned 503, OpenAI returned 429 and Anthropic failed');
	});

	it('builds the served-from line for live, cache and offline results', () => {
		const now = new Date('2024-06-06T14:00:00Z');
		expect(servedFromLine(liveAfterFailure(), '2024-06-03T14:00:00Z', now)).toBe(
			'Analyzed by OpenAI (gpt-4o-mini) after Gemini returned 503'
		);
		expect(
			servedFromLine(
				offlineAnalysis({ provider: 'openai', model: 'gpt-4o', served_from: 'live' }),
				'2024-06-03T14:00:00Z',
				now
			)
		).toBe('Analyzed by OpenAI (gpt-4o)');
		expect(
			servedFromLine(
				offlineAnalysis({ provider: 'gemini', model: 'gemini-2.0-flash', served_from: 'cache' }),
				'2024-06-03T14:00:00Z',
				now
			)
		).toBe('Cached result from Gemini (gemini-2.0-flash), 3 days ago');
		expect(servedFromLine(offlineAnalysis(), '2024-06-03T14:00:00Z', now)).toBe(
			'Offline analysis — computed on this computer, no AI provider used'
		);
	});

	it('says how old something is', () => {
		const now = new Date('2024-06-06T14:00:00Z');
		expect(relativeAge('2024-06-06T13:59:30Z', now)).toBe('just now');
		expect(relativeAge('2024-06-06T13:55:00Z', now)).toBe('5 minutes ago');
		expect(relativeAge('2024-06-06T13:00:00Z', now)).toBe('1 hour ago');
		expect(relativeAge('nonsense', now)).toBe('at an unknown time');
	});
});

describe('metric cards', () => {
	it('formats every card of a timed call', () => {
		const cards = Object.fromEntries(metricCards(timedMetrics()).map((c) => [c.key, c]));
		expect(Object.keys(cards)).toEqual([
			'rep_talk_share',
			'customer_talk_share',
			'longest_rep_monologue',
			'longest_customer_story',
			'interactivity_per_minute',
			'patience_seconds',
			'rep_questions',
			'customer_questions',
			'rep_fillers_per_minute',
			'duration_seconds'
		]);
		expect(cards.rep_talk_share.value).toBe('62%');
		expect(cards.rep_talk_share.detail).toContain('43:57');
		expect(cards.customer_talk_share.value).toBe('38%');
		expect(cards.longest_rep_monologue.value).toBe('2:05');
		expect(cards.longest_rep_monologue.detail).toContain('turns 4–6');
		expect(cards.longest_customer_story.value).toBe('1:00');
		expect(cards.longest_customer_story.detail).toContain('Bob, turn 11');
		expect(cards.interactivity_per_minute.value).toBe('2.0');
		expect(cards.patience_seconds.value).toBe('0.8 s');
		expect(cards.rep_questions.value).toBe('9');
		expect(cards.rep_questions.detail).toContain('0.7 per minute');
		expect(cards.customer_questions.value).toBe('4');
		expect(cards.rep_fillers_per_minute.value).toBe('1.9 / min');
		expect(cards.rep_fillers_per_minute.detail).toBe('15 filler words in all');
		expect(cards.duration_seconds.value).toBe('0:12:34');
		expect(cards.duration_seconds.detail).not.toContain('estimated');
	});

	it('falls back to words, a dash for patience and an estimated duration without timestamps', () => {
		const cards = Object.fromEntries(metricCards(untimedMetrics()).map((c) => [c.key, c]));
		expect(cards.longest_rep_monologue.value).toBe('310 words');
		expect(cards.longest_customer_story.value).toBe('150 words');
		expect(cards.patience_seconds.value).toBe('—');
		expect(cards.patience_seconds.detail).toBe('needs timestamps');
		expect(cards.duration_seconds.value).toBe('0:12:12');
		expect(cards.duration_seconds.detail).toContain('estimated');
		expect(cards.rep_talk_share.detail).toContain('by words');
	});

	it('cites metrics for coaching items, trackers included', () => {
		const m = timedMetrics();
		expect(metricCitation('rep_talk_share', m)).toEqual({ label: 'Rep talk share', value: '62%' });
		expect(metricCitation('trackers.next_steps', m)).toEqual({
			label: 'Next steps mentioned',
			value: '1 time'
		});
		expect(metricCitation('speaker_switches', m)).toEqual({ label: 'Speaker switches', value: '25' });
		expect(metricCitation('no_such_metric', m)).toEqual({ label: 'no such metric', value: null });
		expect(metricCitation('rep_questions', null)).toEqual({ label: 'Rep questions', value: null });
	});
});

describe('timeline data', () => {
	it('places hits by seconds on a timed call, one row per category', () => {
		const t = timelineData(timedMetrics());
		expect(t.basis).toBe('seconds');
		expect(t.xMax).toBe(754.4);
		expect(t.total).toBe(6);
		expect(t.series.map((s) => [s.key, s.points.length])).toEqual([
			['pricing', 2],
			['competitors', 1],
			['objections', 2],
			['next_steps', 1]
		]);
		const objections = t.series[2].points;
		expect(objections.map((p) => [p.x, p.y, p.kind])).toEqual([
			[250, 2, 'price'],
			[400.2, 2, 'competitor']
		]);
		expect(t.series[3].points[0]).toMatchObject({
			x: 730,
			y: 3,
			turnIndex: 40,
			sentence: "I'll send the proposal next week."
		});
	});

	it('places hits by 1-based turn when untimed', () => {
		const t = timelineData(untimedMetrics());
		expect(t.basis).toBe('turn');
		expect(t.xMax).toBe(42);
		expect(t.series[0].points.map((p) => p.x)).toEqual([8, 8]);
		expect(t.series[3].points[0].x).toBe(41);
	});

	it('builds chart configs from the shaped data and theme', () => {
		const timeline = timelineChartConfig(timelineData(timedMetrics()), FALLBACK_THEME);
		expect(timeline.type).toBe('scatter');
		expect(timeline.data.datasets.map((d) => d.label)).toEqual([
			'Pricing',
			'Competitor',
			'Objection',
			'Next step'
		]);
		expect(timeline.options?.scales?.x?.max).toBe(754.4);

		const talk = talkChartConfig(
			[
				{ name: 'Alice', isRep: true, share: 61.8 },
				{ name: 'Bob', isRep: false, share: 38.2 }
			],
			FALLBACK_THEME
		);
		expect(talk.data.labels).toEqual(['Alice (rep)', 'Bob']);
		expect(talk.data.datasets[0].data).toEqual([61.8, 38.2]);
		expect(talk.data.datasets[0].backgroundColor).toEqual([
			FALLBACK_THEME.rep,
			FALLBACK_THEME.other
		]);
	});
});

describe('analyze helpers', () => {
	it('explains every rep source', () => {
		expect(repSourceReason('first_speaker')).toMatch(/first speaker/);
		expect(repSourceReason('role_label')).toMatch(/labelled as the rep/);
		expect(repSourceReason('other_is_customer')).toMatch(/other speaker is labelled as the customer/);
		expect(repSourceReason('signed_in_user')).toMatch(/signed-in user/);
		expect(repSourceReason('given')).toBe('Chosen by you.');
	});

	it('defaults the title to the file name without extension, or a dated paste title', () => {
		const now = new Date('2024-06-03T12:00:00Z');
		expect(defaultTitle({ kind: 'file', path: '/calls/Acme discovery.call.vtt' }, now)).toBe(
			'Acme discovery.call'
		);
		expect(defaultTitle({ kind: 'file', path: 'C:\\calls\\demo.srt' }, now)).toBe('demo');
		expect(defaultTitle({ kind: 'file', path: '/calls/.hidden' }, now)).toBe('.hidden');
		expect(defaultTitle({ kind: 'text', text: 'x' }, now)).toMatch(/^Pasted transcript .*2024/);
	});

	it('splits competitors on commas, trimmed and without repeats', () => {
		expect(parseCompetitors(' Acme, Globex ,, acme ,')).toEqual(['Acme', 'Globex']);
		expect(parseCompetitors('')).toEqual([]);
	});
});

describe('search query', () => {
	it('maps empty fields to null and clamps scores', () => {
		const q = buildQuery({ text: '  ', since: '', until: '', minScore: null, maxScore: undefined });
		expect(q).toEqual({ text: null, since: null, until: null, min_score: null, max_score: null, limit: 500 });
		expect(isFiltered(q)).toBe(false);
		const f = buildQuery({
			text: ' acme ',
			since: '2024-05-01',
			until: 'not a date',
			minScore: -5,
			maxScore: 180
		});
		expect(f).toEqual({
			text: 'acme',
			since: '2024-05-01',
			until: null,
			min_score: 0,
			max_score: 100,
			limit: 500
		});
		expect(isFiltered(f)).toBe(true);
	});
});

describe('parseAnalysis', () => {
	it('accepts a schema-1 analysis and its metrics', () => {
		const parsed = parseAnalysis(offlineAnalysis());
		expect(parsed.ok).toBe(true);
		if (parsed.ok) {
			expect(parsed.analysis.score).toBe(64);
			expect(parsed.metrics?.rep).toBe('Alice');
		}
	});

	it('rejects other versions and missing keys with a reason', () => {
		const v2 = parseAnalysis({ ...offlineAnalysis(), schema_version: 2 });
		expect(v2).toEqual({ ok: false, reason: expect.stringContaining('schema version 2') });
		const old = parseAnalysis({ summary: 'Good', score: 8 });
		expect(old).toEqual({ ok: false, reason: expect.stringContaining('older or unknown format') });
		const partial = { ...offlineAnalysis() } as Record<string, unknown>;
		delete partial.strengths;
		expect(parseAnalysis(partial)).toEqual({
			ok: false,
			reason: expect.stringContaining('strengths')
		});
		expect(parseAnalysis('text').ok).toBe(false);
	});

	it('keeps the analysis but drops metrics of an unknown version', () => {
		const parsed = parseAnalysis(offlineAnalysis({ metrics: { metrics_version: 9 } }));
		expect(parsed.ok && parsed.metrics).toBe(null);
	});
});
