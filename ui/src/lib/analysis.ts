// Pure formatting and data shaping for the Analyze and Analysis pages (no Svelte, no IPC),
// so that every number shown can be unit-tested.
import type {
	AnalyzeStage,
	Attempt,
	CallAnalysis,
	CallMetrics,
	ObjectionKind,
	RepSource,
	Stretch,
	TalkBasis,
	Timing,
	TranscriptFormat,
	TranscriptSource
} from './api';

/** The benchmarks the offline analyzer scores against (see the core's `offline.rs`). */
export const BENCHMARK = {
	talkRep: 43,
	questionsLow: 11,
	questionsHigh: 14,
	monologueMaxSeconds: 150
} as const;

const DASH = '—';

function finite(x: number | null | undefined): x is number {
	return typeof x === 'number' && Number.isFinite(x);
}

/** `m:ss`, or `h:mm:ss` from an hour on (the core's `format_clock`). */
export function formatClock(seconds: number | null | undefined): string {
	if (!finite(seconds)) return DASH;
	const total = Math.round(Math.max(0, seconds));
	const h = Math.floor(total / 3600);
	const m = Math.floor(total / 60) % 60;
	const s = total % 60;
	const ss = String(s).padStart(2, '0');
	return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Always `h:mm:ss` (call durations). */
export function formatHms(seconds: number | null | undefined): string {
	if (!finite(seconds)) return DASH;
	const total = Math.round(Math.max(0, seconds));
	const h = Math.floor(total / 3600);
	const m = Math.floor(total / 60) % 60;
	const s = total % 60;
	return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** A fixed number of decimals, never `-0`. */
export function formatFixed(x: number | null | undefined, decimals: number): string {
	if (!finite(x)) return DASH;
	const text = x.toFixed(decimals);
	return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

export function formatPercent(x: number | null | undefined, decimals = 0): string {
	return finite(x) ? `${formatFixed(x, decimals)}%` : DASH;
}

export function plural(n: number, one: string, many = `${one}s`): string {
	return `${n} ${n === 1 ? one : many}`;
}

/** A stretch's length: `m:ss` when measured in seconds, else its word count. */
export function formatStretch(stretch: Stretch | null | undefined, basis: TalkBasis): string {
	if (!stretch) return DASH;
	if (basis === 'seconds' && finite(stretch.seconds)) return formatClock(stretch.seconds);
	return plural(stretch.words, 'word');
}

/** "turn 4" or "turns 4–6" (1-based, as people count). */
export function formatTurns(first: number, last: number): string {
	return first === last ? `turn ${first + 1}` : `turns ${first + 1}–${last + 1}`;
}

export function humanSize(bytes: number): string {
	const mib = 1024 * 1024;
	if (bytes >= mib) return `${(bytes / mib).toFixed(1)} MB`;
	if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
	return plural(bytes, 'byte');
}

const PROVIDER_NAMES: Record<string, string> = {
	openai: 'OpenAI',
	gemini: 'Gemini',
	anthropic: 'Anthropic',
	offline: 'Offline analyzer',
	mock: 'Mock provider'
};

export function providerName(provider: string): string {
	const known = PROVIDER_NAMES[provider.toLowerCase()];
	if (known) return known;
	return provider ? provider.charAt(0).toUpperCase() + provider.slice(1) : 'an unknown provider';
}

/** What one failed attempt did, e.g. "Gemini returned 503", "OpenAI timed out". */
export function describeAttempt(attempt: Attempt): string {
	const who = providerName(attempt.provider);
	if (attempt.status !== null && attempt.status !== undefined) return `${who} returned ${attempt.status}`;
	switch (attempt.outcome) {
		case 'timeout':
			return `${who} timed out`;
		case 'skipped_breaker_open':
			return `${who} was skipped after repeated failures`;
		case 'retryable_error':
		case 'fatal_error':
			return `${who} failed`;
		default:
			return `${who}: ${attempt.outcome.replaceAll('_', ' ')}`;
	}
}

/** The attempts that failed before the one that answered (all of them when none did). */
export function failedAttempts(attempts: Attempt[]): Attempt[] {
	const firstOk = attempts.findIndex((a) => a.outcome === 'ok');
	const before = firstOk === -1 ? attempts : attempts.slice(0, firstOk);
	return before.filter((a) => a.outcome !== 'ok');
}

/** "Gemini returned 503 and OpenAI timed out"; repeats are counted, not listed. */
export function summarizeFailures(attempts: Attempt[]): string {
	const phrases: { text: string; count: number }[] = [];
	for (const attempt of attempts) {
		const text = describeAttempt(attempt);
		const last = phrases.at(-1);
		if (last && last.text === text) last.count++;
		else phrases.push({ text, count: 1 });
	}
	const parts = phrases.map(({ text, count }) =>
		count === 1 ? text : count === 2 ? `${text} twice` : `${text} ${count} times`
	);
	if (parts.length <= 1) return parts.join('');
	return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

/** "5 minutes ago", "3 days ago"; a date for anything older than a month. */
export function relativeAge(iso: string, now: Date): string {
	const then = new Date(iso);
	if (Number.isNaN(then.getTime())) return 'at an unknown time';
	const seconds = Math.max(0, (now.getTime() - then.getTime()) / 1000);
	if (seconds < 60) return 'just now';
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return `${plural(minutes, 'minute')} ago`;
	const hours = Math.floor(minutes / 60);
	if (hours < 24) return `${plural(hours, 'hour')} ago`;
	const days = Math.floor(hours / 24);
	if (days < 31) return `${plural(days, 'day')} ago`;
	return `on ${then.toLocaleDateString(undefined, { dateStyle: 'medium' })}`;
}

/** The "who produced this" line of an analysis. */
export function servedFromLine(analysis: CallAnalysis, createdAt: string, now: Date): string {
	const who = `${providerName(analysis.provider)}${analysis.model ? ` (${analysis.model})` : ''}`;
	switch (analysis.served_from) {
		case 'live': {
			const failures = failedAttempts(analysis.attempts);
			return failures.length > 0
				? `Analyzed by ${who} after ${summarizeFailures(failures)}`
				: `Analyzed by ${who}`;
		}
		case 'cache':
			return `Cached result from ${who}, ${relativeAge(createdAt, now)}`;
		case 'offline':
			return 'Offline analysis — computed on this computer, no AI provider used';
		default:
			return `Analyzed by ${who}`;
	}
}

/** For an offline result that was a fallback: what the providers did, else `null`. */
export function offlineFallbackLine(analysis: CallAnalysis): string | null {
	if (analysis.served_from !== 'offline') return null;
	const failures = failedAttempts(analysis.attempts);
	return failures.length > 0 ? `AI providers were tried: ${summarizeFailures(failures)}.` : null;
}

/** Why the rep picker suggested its speaker. Never empty: a guess is always explained. */
export function repSourceReason(source: RepSource): string {
	switch (source) {
		case 'given':
			return 'Chosen by you.';
		case 'signed_in_user':
			return 'Suggested because the name matches the signed-in user.';
		case 'role_label':
			return 'Suggested because this speaker is labelled as the rep.';
		case 'other_is_customer':
			return 'Suggested because the other speaker is labelled as the customer.';
		case 'first_speaker':
			return 'Suggested because it is the first speaker (reps usually open the call). Check it.';
		default:
			return 'Suggested by Salesdesk. Check it.';
	}
}

export function formatLabel(format: TranscriptFormat): string {
	switch (format) {
		case 'plain':
			return 'Plain text';
		case 'webvtt':
			return 'WebVTT';
		case 'srt':
			return 'SRT';
		case 'json':
			return 'JSON';
		default:
			return String(format);
	}
}

export function timingLabel(timing: Timing): string {
	switch (timing) {
		case 'start_end':
			return 'start and end times';
		case 'starts_only':
			return 'start times only: each turn lasts until the next one starts';
		case 'none':
			return 'no timestamps: durations will be estimated from word counts';
		default:
			return String(timing);
	}
}

export function stageLabel(stage: AnalyzeStage): string {
	switch (stage) {
		case 'reading':
			return 'Reading the transcript…';
		case 'parsing':
			return 'Parsing the transcript…';
		case 'analyzing':
			return 'Analyzing the call…';
		case 'saving':
			return 'Saving the analysis…';
		case 'done':
			return 'Done';
		default:
			return 'Working…';
	}
}

/** The last part of a path, either separator. */
export function fileName(path: string): string {
	const parts = path.split(/[/\\]/).filter(Boolean);
	return parts.at(-1) ?? path;
}

/** The default title: the file name without its extension, else "Pasted transcript <date>". */
export function defaultTitle(source: TranscriptSource, now: Date): string {
	if (source.kind === 'file') {
		const name = fileName(source.path);
		const dot = name.lastIndexOf('.');
		const base = dot > 0 ? name.slice(0, dot) : name;
		return base || name;
	}
	return `Pasted transcript ${now.toLocaleDateString(undefined, { dateStyle: 'medium' })}`;
}

/** "Acme, Globex ,, acme" → ["Acme", "Globex"] (trimmed, no blanks, no repeats). */
export function parseCompetitors(text: string): string[] {
	const out: string[] = [];
	for (const part of text.split(',')) {
		const name = part.trim();
		if (name && !out.some((n) => n.toLowerCase() === name.toLowerCase())) out.push(name);
	}
	return out;
}

export const OBJECTION_LABELS: Record<ObjectionKind, string> = {
	price: 'Price',
	timing: 'Timing',
	authority: 'Authority',
	need: 'Need',
	competitor: 'Competitor',
	other: 'Other'
};

export type MetricCard = {
	/** The key in `CallMetrics` (what coaching items cite). */
	key: string;
	label: string;
	value: string;
	/** A short explanation or benchmark. */
	detail: string;
};

/** Display names of the metrics shown as cards (and cited by coaching items). */
export const METRIC_LABELS = {
	rep_talk_share: 'Rep talk share',
	customer_talk_share: 'Customer talk share',
	longest_rep_monologue: 'Longest rep monologue',
	longest_customer_story: 'Longest customer story',
	interactivity_per_minute: 'Interactivity',
	patience_seconds: 'Patience',
	rep_questions: 'Rep questions',
	customer_questions: 'Customer questions',
	rep_fillers_per_minute: 'Rep filler words',
	duration_seconds: 'Call duration',
	rep_questions_per_minute: 'Rep questions per minute',
	rep_filler_words: 'Rep filler words (count)',
	speaker_switches: 'Speaker switches'
} as const;

/** The metric cards of the analysis view, in display order. */
export function metricCards(m: CallMetrics): MetricCard[] {
	const byWords = m.talk_basis === 'words' ? ' · by words' : '';
	const benchmark = `Benchmark ${BENCHMARK.talkRep}:${100 - BENCHMARK.talkRep} rep:customer${byWords}`;
	const mono = m.longest_rep_monologue;
	const story = m.longest_customer_story;
	return [
		{
			key: 'rep_talk_share',
			label: METRIC_LABELS.rep_talk_share,
			value: formatPercent(m.rep_talk_share),
			detail: benchmark
		},
		{
			key: 'customer_talk_share',
			label: METRIC_LABELS.customer_talk_share,
			value: formatPercent(m.customer_talk_share),
			detail: benchmark
		},
		{
			key: 'longest_rep_monologue',
			label: METRIC_LABELS.longest_rep_monologue,
			value: formatStretch(mono, m.talk_basis),
			detail: mono
				? `${formatTurns(mono.first_turn, mono.last_turn)} · aim for under ${formatClock(BENCHMARK.monologueMaxSeconds)}`
				: 'the rep did not speak'
		},
		{
			key: 'longest_customer_story',
			label: METRIC_LABELS.longest_customer_story,
			value: formatStretch(story, m.talk_basis),
			detail: story
				? `${story.speaker}, ${formatTurns(story.first_turn, story.last_turn)}`
				: 'the customer did not speak'
		},
		{
			key: 'interactivity_per_minute',
			label: METRIC_LABELS.interactivity_per_minute,
			value: formatFixed(m.interactivity_per_minute, 1),
			detail: 'speaker switches per minute'
		},
		{
			key: 'patience_seconds',
			label: METRIC_LABELS.patience_seconds,
			value: finite(m.patience_seconds) ? `${formatFixed(m.patience_seconds, 1)} s` : DASH,
			detail: finite(m.patience_seconds)
				? 'average pause before the rep answers'
				: 'needs timestamps'
		},
		{
			key: 'rep_questions',
			label: METRIC_LABELS.rep_questions,
			value: String(m.rep_questions),
			detail: `${formatFixed(m.rep_questions_per_minute, 1)} per minute · benchmark ${BENCHMARK.questionsLow}–${BENCHMARK.questionsHigh}`
		},
		{
			key: 'customer_questions',
			label: METRIC_LABELS.customer_questions,
			value: String(m.customer_questions),
			detail: 'asked by everyone but the rep'
		},
		{
			key: 'rep_fillers_per_minute',
			label: METRIC_LABELS.rep_fillers_per_minute,
			value: `${formatFixed(m.rep_fillers_per_minute, 1)} / min`,
			detail: `${plural(m.rep_filler_words, 'filler word')} in all`
		},
		{
			key: 'duration_seconds',
			label: METRIC_LABELS.duration_seconds,
			value: formatHms(m.duration_seconds),
			detail: m.duration_estimated
				? 'estimated from word counts'
				: `${plural(m.turn_count, 'turn')}, ${plural(m.word_count, 'word')}`
		}
	];
}

const TRACKER_CITATIONS: Record<string, { label: string; of: (m: CallMetrics) => unknown[] }> = {
	'trackers.next_steps': { label: 'Next steps mentioned', of: (m) => m.trackers.next_steps },
	'trackers.pricing': { label: 'Pricing mentions', of: (m) => m.trackers.pricing },
	'trackers.competitors': { label: 'Competitor mentions', of: (m) => m.trackers.competitors },
	'trackers.objections': { label: 'Objections raised', of: (m) => m.trackers.objections }
};

/** What a coaching item's `metric` refers to, with its value when the metrics have it. */
export function metricCitation(
	key: string,
	m: CallMetrics | null
): { label: string; value: string | null } {
	const tracker = TRACKER_CITATIONS[key];
	if (tracker) {
		return { label: tracker.label, value: m ? plural(tracker.of(m).length, 'time') : null };
	}
	const card = m ? metricCards(m).find((c) => c.key === key) : undefined;
	if (card) return { label: card.label, value: card.value };
	const raw = m ? (m as unknown as Record<string, unknown>)[key] : undefined;
	const label = (METRIC_LABELS as Record<string, string>)[key] ?? key.replaceAll('_', ' ').replaceAll('.', ' › ');
	if (typeof raw === 'number') return { label, value: formatFixed(raw, Number.isInteger(raw) ? 0 : 1) };
	return { label, value: null };
}

export type TimelineCategory = 'pricing' | 'competitors' | 'objections' | 'next_steps';

export const TIMELINE_CATEGORIES: { key: TimelineCategory; label: string }[] = [
	{ key: 'pricing', label: 'Pricing' },
	{ key: 'competitors', label: 'Competitor' },
	{ key: 'objections', label: 'Objection' },
	{ key: 'next_steps', label: 'Next step' }
];

export type TimelinePoint = {
	/** Seconds from the start, or the 1-based turn number when `basis` is `turn`. */
	x: number;
	/** The category's index in `TIMELINE_CATEGORIES`. */
	y: number;
	turnIndex: number;
	start: number | null;
	speaker: string;
	term: string;
	sentence: string;
	/** The objection kind, for objections. */
	kind: ObjectionKind | null;
};

export type Timeline = {
	basis: 'seconds' | 'turn';
	/** The end of the x axis: the call's duration, or its number of turns. */
	xMax: number;
	series: { key: TimelineCategory; label: string; points: TimelinePoint[] }[];
	total: number;
};

/**
 * The tracker hits as points on the call's timeline: by time when every hit has a start time
 * and the metrics are timed, else by turn.
 */
export function timelineData(m: CallMetrics): Timeline {
	const t = m.trackers;
	const raw: Record<TimelineCategory, { turn_index: number; start: number | null; speaker: string; term: string; sentence: string; kind?: ObjectionKind }[]> = {
		pricing: t.pricing,
		competitors: t.competitors,
		objections: t.objections,
		next_steps: t.next_steps
	};
	const all = Object.values(raw).flat();
	const timed = m.talk_basis === 'seconds' && all.every((h) => finite(h.start));
	const series = TIMELINE_CATEGORIES.map(({ key, label }, y) => ({
		key,
		label,
		points: raw[key]
			.map(
				(h): TimelinePoint => ({
					x: timed ? (h.start as number) : h.turn_index + 1,
					y,
					turnIndex: h.turn_index,
					start: finite(h.start) ? h.start : null,
					speaker: h.speaker,
					term: h.term,
					sentence: h.sentence,
					kind: h.kind ?? null
				})
			)
			.sort((a, b) => a.x - b.x || a.turnIndex - b.turnIndex)
	}));
	const lastX = Math.max(0, ...all.map((h) => (timed ? (h.start as number) : h.turn_index + 1)));
	const xMax = timed ? Math.max(m.duration_seconds ?? 0, lastX) : Math.max(m.turn_count, lastX);
	return { basis: timed ? 'seconds' : 'turn', xMax, series, total: all.length };
}

/** "turn 5 · 2:03" for a point in the tracker list (the time only when known). */
export function pointPosition(p: TimelinePoint): string {
	return p.start !== null ? `turn ${p.turnIndex + 1} · ${formatClock(p.start)}` : `turn ${p.turnIndex + 1}`;
}

export type TalkBar = { name: string; isRep: boolean; share: number };

/** One bar per speaker: their share of the talk, in percent. */
export function talkBars(m: CallMetrics): TalkBar[] {
	return m.speakers.map((s) => ({ name: s.name, isRep: s.is_rep, share: s.talk_share ?? 0 }));
}
