// Turning the Analyses page's filter fields into a `SearchQuery`.
import { RESULT_LIMIT, type SearchQuery } from './api';

export { RESULT_LIMIT };

export const SEARCH_DEBOUNCE_MS = 200;

export type FilterFields = {
	text: string;
	/** `YYYY-MM-DD` from `<input type="date">`, or empty. */
	since: string;
	until: string;
	/** From `<input type="number">`: `null` (or `undefined`) when empty. */
	minScore: number | null | undefined;
	maxScore: number | null | undefined;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function date(value: string): string | null {
	const v = value.trim();
	return DATE.test(v) ? v : null;
}

function score(value: number | null | undefined): number | null {
	if (value === null || value === undefined || !Number.isFinite(value)) return null;
	return Math.min(100, Math.max(0, Math.round(value)));
}

export function buildQuery(f: FilterFields): SearchQuery {
	return {
		text: f.text.trim() || null,
		since: date(f.since),
		until: date(f.until),
		min_score: score(f.minScore),
		max_score: score(f.maxScore),
		limit: RESULT_LIMIT
	};
}

export function isFiltered(q: SearchQuery): boolean {
	return [q.text, q.since, q.until, q.min_score, q.max_score].some((v) => v != null);
}

/** A stable key for comparing queries. */
export function queryKey(q: SearchQuery): string {
	return JSON.stringify([q.text, q.since, q.until, q.min_score, q.max_score]);
}
