import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toasts } from '$lib/toast.svelte';
import Toaster from '$lib/components/Toaster.svelte';
import { liveAfterFailure, offlineAnalysis, recordWith } from './analysis-fixtures';
import { analysisRecord } from './fixtures';

const { invokeMock, gotoMock, pageState } = vi.hoisted(() => ({
	invokeMock: vi.fn(),
	gotoMock: vi.fn(),
	pageState: { url: new URL('http://localhost/analysis') }
}));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));
vi.mock('$app/state', () => ({ page: pageState }));
vi.mock('$app/navigation', () => ({ goto: gotoMock }));

import AnalysisPage from '../routes/analysis/+page.svelte';

async function showRecord(analysis: unknown) {
	const record = recordWith(analysis);
	pageState.url = new URL(`http://localhost/analysis?id=${record.id}`);
	invokeMock.mockImplementation(async (cmd: string) => {
		if (cmd === 'get_analysis') return record;
		if (cmd === 'delete_analysis' || cmd === 'restore_analysis') return null;
		throw { kind: 'internal', message: `unexpected command ${cmd}` };
	});
	render(AnalysisPage);
	await screen.findByTestId('analysis-title');
	return record;
}

function text(el: Element | null | undefined): string {
	return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

describe('Analysis detail page', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		gotoMock.mockReset();
	});

	afterEach(() => {
		toasts.clear();
	});

	it('loads the analysis named by ?id= and shows it', async () => {
		pageState.url = new URL(`http://localhost/analysis?id=${analysisRecord.id}`);
		invokeMock.mockResolvedValue(analysisRecord);
		render(AnalysisPage);

		expect(await screen.findByTestId('analysis-title')).toHaveTextContent(
			'Discovery call with Acme'
		);
		expect(invokeMock).toHaveBeenCalledWith('get_analysis', { id: analysisRecord.id });
		expect(screen.getByText('openai / gpt-4o-mini')).toBeInTheDocument();
		const json = screen.getByTestId('analysis-json');
		expect(JSON.parse(json.textContent ?? '')).toEqual(analysisRecord.analysis);
		expect(json.textContent).toContain('\n  "score": 8');
		expect(screen.getByTestId('analysis-transcript')).toHaveTextContent(
			'Buyer: Sure, we have ten minutes.'
		);
	});

	it('shows a clear not-found message with a link back', async () => {
		pageState.url = new URL('http://localhost/analysis?id=missing');
		invokeMock.mockRejectedValue({ kind: 'not_found', message: 'no analysis missing' });
		render(AnalysisPage);

		expect(await screen.findByTestId('error-banner')).toHaveTextContent('Analysis not found');
		expect(screen.getByRole('link', { name: 'Back to analyses' })).toHaveAttribute(
			'href',
			'/analyses'
		);
		expect(screen.queryByTestId('analysis-title')).not.toBeInTheDocument();
		expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
	});

	it('says an id is needed when there is none', () => {
		pageState.url = new URL('http://localhost/analysis');
		render(AnalysisPage);
		expect(screen.getByTestId('error-banner')).toHaveTextContent('No analysis selected');
		expect(invokeMock).not.toHaveBeenCalled();
	});

	it('renders score, summary, notes and the offline served-from line', async () => {
		await showRecord(offlineAnalysis());

		expect(screen.getByTestId('score')).toHaveTextContent(/^64$/);
		expect(screen.getByTestId('score-rationale')).toHaveTextContent('talk ratio 16/25');
		expect(screen.getByTestId('summary')).toHaveTextContent('between Alice (rep) and Bob');
		expect(screen.getByTestId('served-from')).toHaveTextContent(
			'Offline analysis — computed on this computer, no AI provider used'
		);
		expect(screen.getByTestId('rep-line')).toHaveTextContent('Rep: Alice (guessed: first speaker)');
		const notes = within(screen.getByTestId('analysis-notes')).getAllByRole('listitem');
		expect(notes).toHaveLength(1);
		expect(notes[0]).toHaveTextContent("rep guessed: 'Alice' is the first speaker");
		expect(screen.queryByTestId('analysis-fallback')).not.toBeInTheDocument();
	});

	it('says which provider answered after which failed', async () => {
		await showRecord(liveAfterFailure());
		expect(screen.getByTestId('served-from')).toHaveTextContent(
			'Analyzed by OpenAI (gpt-4o-mini) after Gemini returned 503'
		);
	});

	it('shows every metric card with its formatted value', async () => {
		await showRecord(offlineAnalysis());
		const cards = screen.getAllByTestId('metric-card');
		const values = Object.fromEntries(
			cards.map((c) => [c.dataset.metric, text(within(c).getByTestId('metric-value'))])
		);
		expect(values).toEqual({
			rep_talk_share: '62%',
			customer_talk_share: '38%',
			longest_rep_monologue: '2:05',
			longest_customer_story: '1:00',
			interactivity_per_minute: '2.0',
			patience_seconds: '0.8 s',
			rep_questions: '9',
			customer_questions: '4',
			rep_fillers_per_minute: '1.9 / min',
			duration_seconds: '0:12:34'
		});
		const rep = cards.find((c) => c.dataset.metric === 'rep_talk_share');
		expect(rep).toHaveTextContent('Benchmark 43:57 rep:customer');
		const questions = cards.find((c) => c.dataset.metric === 'rep_questions');
		expect(questions).toHaveTextContent('0.7 per minute');
	});

	it('shows a per-speaker table next to the talk chart', async () => {
		await showRecord(offlineAnalysis());
		expect(screen.getByTestId('talk-chart')).toBeInTheDocument();
		const rows = within(screen.getByTestId('speaker-table')).getAllByTestId('speaker-row');
		const cells = rows.map((r) =>
			[...r.querySelectorAll('th, td')].map((c) => text(c))
		);
		expect(cells).toEqual([
			['Alice rep', '61.8%', '1130', '145', '9', '2:05'],
			['Bob', '38.2%', '700', '146', '4', '1:00']
		]);
	});

	it('lists tracker hits by category with turn and time', async () => {
		await showRecord(offlineAnalysis());
		const list = screen.getByTestId('tracker-list');
		const groups = Object.fromEntries(
			within(list)
				.getAllByTestId('tracker-group')
				.map((g) => [g.dataset.category, within(g).queryAllByTestId('tracker-hit').map(text)])
		);
		expect(groups.pricing).toEqual([
			'turn 8 · 3:05 Alice Our price is $40 per user.',
			'turn 8 · 3:05 Alice Our price is $40 per user.'
		]);
		expect(groups.competitors).toEqual(['turn 13 · 6:40 Bob We also looked at Globex.']);
		expect(groups.objections).toEqual([
			"turn 10 · 4:10 Bob Price That's too expensive for us.",
			'turn 13 · 6:40 Bob Competitor We also looked at Globex.'
		]);
		expect(groups.next_steps).toEqual([
			"turn 41 · 12:10 Alice I'll send the proposal next week."
		]);
	});

	it('shows coaching items with the metric each rests on, objections and next steps', async () => {
		await showRecord(offlineAnalysis());
		const items = screen.getAllByTestId('coaching-item');
		expect(
			items.map((i) => [i.dataset.metric, text(within(i).getByTestId('coaching-metric'))])
		).toEqual([
			['patience_seconds', 'Based on: Patience: 0.8 s'],
			['trackers.next_steps', 'Based on: Next steps mentioned: 1 time'],
			['rep_talk_share', 'Based on: Rep talk share: 62%'],
			['rep_questions', 'Based on: Rep questions: 9']
		]);
		expect(items[2]).toHaveTextContent('Talk a little less');

		const objections = within(screen.getByTestId('objections')).getAllByTestId('objection');
		expect(objections.map(text)).toEqual([
			"Price turn 10 That's too expensive for us.",
			'Competitor turn 13 We also looked at Globex. Handling: Compared features calmly.'
		]);
		expect(screen.getByTestId('next-steps')).toHaveTextContent(
			"Alice: I'll send the proposal next week."
		);
	});

	it('falls back to the raw JSON for an analysis in an unknown format', async () => {
		await showRecord({ ...offlineAnalysis(), schema_version: 2 });
		expect(screen.getByTestId('error-banner')).toHaveTextContent(
			'This analysis was saved in an older or unknown format'
		);
		expect(screen.getByTestId('analysis-fallback')).toBeInTheDocument();
		expect(screen.queryByTestId('score')).not.toBeInTheDocument();
		expect(screen.queryAllByTestId('metric-card')).toHaveLength(0);
		expect(screen.getByTestId('analysis-json').closest('details')).toHaveAttribute('open');
		expect(JSON.parse(screen.getByTestId('analysis-json').textContent ?? '')).toMatchObject({
			schema_version: 2
		});
	});

	it('still shows the judgement when only the metrics are in an unknown format', async () => {
		await showRecord(offlineAnalysis({ metrics: { metrics_version: 7 } }));
		expect(screen.getByTestId('score')).toHaveTextContent('64');
		expect(screen.getByTestId('metrics-unavailable')).toBeInTheDocument();
		expect(screen.queryAllByTestId('metric-card')).toHaveLength(0);
		// Coaching still names its metric, without a value.
		expect(screen.getAllByTestId('coaching-metric')[0]).toHaveTextContent('Based on: Patience');
	});

	it('deletes, goes back to the list, and undoes from the toast', async () => {
		render(Toaster);
		const record = await showRecord(offlineAnalysis());

		await fireEvent.click(screen.getByTestId('delete-analysis'));
		await waitFor(() => expect(gotoMock).toHaveBeenCalledWith('/analyses'));
		expect(invokeMock).toHaveBeenCalledWith('delete_analysis', { id: record.id });

		const toast = await screen.findByTestId('toast');
		expect(toast).toHaveTextContent('Analysis deleted.');
		expect(invokeMock).not.toHaveBeenCalledWith('restore_analysis', expect.anything());
		await fireEvent.click(within(toast).getByRole('button', { name: 'Undo' }));

		await waitFor(() =>
			expect(invokeMock).toHaveBeenCalledWith('restore_analysis', { id: record.id })
		);
		const names = invokeMock.mock.calls.map(([c]) => c);
		expect(names.indexOf('delete_analysis')).toBeLessThan(names.indexOf('restore_analysis'));
		expect(await screen.findByText('Analysis restored.')).toBeInTheDocument();
	});

	it('keeps the analysis and says why when deleting fails', async () => {
		await showRecord(offlineAnalysis());
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'delete_analysis') throw { kind: 'store', message: 'disk is read-only' };
			return null;
		});
		await fireEvent.click(screen.getByTestId('delete-analysis'));
		expect(await screen.findByText('disk is read-only')).toBeInTheDocument();
		expect(gotoMock).not.toHaveBeenCalled();
		expect(screen.getByTestId('score')).toBeInTheDocument();
	});
});
