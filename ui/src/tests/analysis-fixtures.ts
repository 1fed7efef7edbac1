// A realistic CallAnalysis (as the core's offline analyzer writes it) with hand-picked numbers,
// so the expected display values in the tests can be worked out by hand.
import type {
	CallAnalysis,
	CallAnalysisRecord,
	CallMetrics,
	Stretch,
	TranscriptPreview
} from '$lib/bindings';

export const monologue: Stretch = {
	speaker: 'Alice',
	first_turn: 3,
	last_turn: 5,
	start: 60,
	seconds: 125.4, // rounds to 125 s = 2:05
	words: 310
};

export const story: Stretch = {
	speaker: 'Bob',
	first_turn: 10,
	last_turn: 10,
	start: 300,
	seconds: 59.6, // rounds to 60 s = 1:00
	words: 150
};

export function timedMetrics(overrides: Partial<CallMetrics> = {}): CallMetrics {
	return {
		metrics_version: 1,
		format: 'webvtt',
		timing: 'start_end',
		talk_basis: 'seconds',
		rep: 'Alice',
		rep_source: 'first_speaker',
		duration_seconds: 754.4, // 754 s = 0:12:34
		duration_estimated: false,
		turn_count: 42,
		word_count: 1830,
		speakers: [
			{
				name: 'Alice',
				is_rep: true,
				turns: 21,
				words: 1130,
				talk_seconds: 466.2,
				talk_share: 61.8,
				words_per_minute: 145.4,
				questions: 9,
				filler_words: 15,
				fillers_per_minute: 1.93,
				longest_stretch: monologue
			},
			{
				name: 'Bob',
				is_rep: false,
				turns: 21,
				words: 700,
				talk_seconds: 288.2,
				talk_share: 38.2,
				words_per_minute: 145.7,
				questions: 4,
				filler_words: 3,
				fillers_per_minute: 0.62,
				longest_stretch: story
			}
		],
		rep_talk_share: 61.8,
		customer_talk_share: 38.2,
		longest_rep_monologue: monologue,
		longest_customer_story: story,
		speaker_switches: 25,
		interactivity_per_minute: 1.99,
		patience_seconds: 0.84,
		rep_questions: 9,
		rep_questions_per_minute: 0.72,
		customer_questions: 4,
		rep_filler_words: 15,
		rep_fillers_per_minute: 1.93,
		trackers: {
			pricing: [
				{
					turn_index: 7,
					speaker: 'Alice',
					start: 185,
					term: 'price',
					sentence: 'Our price is $40 per user.'
				},
				{
					turn_index: 7,
					speaker: 'Alice',
					start: 185,
					term: '$40',
					sentence: 'Our price is $40 per user.'
				}
			],
			competitor_names: ['Globex'],
			competitors: [
				{
					turn_index: 12,
					speaker: 'Bob',
					start: 400.2,
					term: 'globex',
					sentence: 'We also looked at Globex.'
				}
			],
			objections: [
				{
					kind: 'price',
					turn_index: 9,
					speaker: 'Bob',
					start: 250,
					term: 'too expensive',
					sentence: "That's too expensive for us."
				},
				{
					kind: 'competitor',
					turn_index: 12,
					speaker: 'Bob',
					start: 400.2,
					term: 'globex',
					sentence: 'We also looked at Globex.'
				}
			],
			next_steps: [
				{
					turn_index: 40,
					speaker: 'Alice',
					start: 730,
					term: 'next week',
					sentence: "I'll send the proposal next week."
				}
			]
		},
		...overrides
	};
}

/** The same call without timestamps: everything by words and turns. */
export function untimedMetrics(): CallMetrics {
	const m = timedMetrics({
		format: 'plain',
		timing: 'none',
		talk_basis: 'words',
		duration_seconds: 732, // 1830 words at 150 wpm
		duration_estimated: true,
		patience_seconds: null,
		longest_rep_monologue: { ...monologue, start: null, seconds: null },
		longest_customer_story: { ...story, start: null, seconds: null }
	});
	for (const s of m.speakers) {
		s.talk_seconds = null;
		s.words_per_minute = null;
		s.longest_stretch = { ...s.longest_stretch, start: null, seconds: null };
	}
	const t = m.trackers;
	for (const list of [t.pricing, t.competitors, t.objections, t.next_steps]) {
		for (const hit of list) hit.start = null;
	}
	return m;
}

export function offlineAnalysis(overrides: Partial<CallAnalysis> = {}): CallAnalysis {
	return {
		schema_version: 1,
		provider: 'offline',
		model: 'offline-v1',
		served_from: 'offline',
		score: 64,
		score_rationale:
			'Offline score from the conversation metrics against sales-call benchmarks: talk ratio 16/25, questions 16/20.',
		summary: 'Offline analysis of a call of 12:34 between Alice (rep) and Bob.',
		strengths: [
			{
				title: 'Patient listening',
				detail: 'You paused 0.8 s on average before answering the customer.',
				metric: 'patience_seconds'
			},
			{
				title: 'Next steps discussed',
				detail: 'Next steps came up 1 time.',
				metric: 'trackers.next_steps'
			}
		],
		improvements: [
			{
				title: 'Talk a little less',
				detail: 'Rep:customer talk was 62:38 (by speaking time); the benchmark is 43:57.',
				metric: 'rep_talk_share'
			},
			{
				title: 'Ask more questions',
				detail: 'You asked 9 questions; top-performing calls have 11-14.',
				metric: 'rep_questions'
			}
		],
		objections: [
			{ kind: 'price', said: "That's too expensive for us.", turn_index: 9, handling: null },
			{
				kind: 'competitor',
				said: 'We also looked at Globex.',
				turn_index: 12,
				handling: 'Compared features calmly.'
			}
		],
		next_steps: ["Alice: I'll send the proposal next week."],
		metrics: timedMetrics(),
		notes: [
			"rep guessed: 'Alice' is the first speaker; choose the rep (--rep NAME on the command line) if this is wrong"
		],
		attempts: [],
		...overrides
	};
}

export function liveAfterFailure(): CallAnalysis {
	return offlineAnalysis({
		provider: 'openai',
		model: 'gpt-4o-mini',
		served_from: 'live',
		attempts: [
			{
				provider: 'gemini',
				model: 'gemini-2.0-flash',
				outcome: 'retryable_error',
				status: 503,
				latency_ms: 812,
				error: 'service unavailable'
			},
			{
				provider: 'openai',
				model: 'gpt-4o-mini',
				outcome: 'ok',
				status: 200,
				latency_ms: 2400,
				error: null
			}
		]
	});
}

export function recordWith(analysis: unknown): CallAnalysisRecord {
	return {
		id: '5d2c9a10-0000-4000-8000-000000000042',
		title: 'Demo with Bob',
		created_at: '2024-06-03T14:00:00Z',
		updated_at: '2024-06-03T14:00:00Z',
		transcript: 'Alice: Hi Bob.\nBob: Hi Alice.',
		analysis: analysis as CallAnalysisRecord['analysis'],
		provider: 'offline',
		model: 'offline-v1'
	};
}

export function previewFixture(overrides: Partial<TranscriptPreview> = {}): TranscriptPreview {
	return {
		format: 'webvtt',
		timing: 'start_end',
		turns: 42,
		words: 1830,
		bytes: 20480,
		speakers: [
			{ name: 'Alice', turns: 21, words: 1130 },
			{ name: 'Bob', turns: 21, words: 700 }
		],
		suggested_rep: 'Alice',
		rep_source: 'first_speaker',
		notes: [],
		...overrides
	};
}
