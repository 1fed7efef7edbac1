import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SearchQuery } from '$lib/bindings';
import Toaster from '$lib/components/Toaster.svelte';
import { toasts } from '$lib/toast.svelte';
import { twoAnalyses } from './fixtures';

const { invokeMock } = vi.hoisted(() => ({ invokeMock: vi.fn() }));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));

import AnalysesPage from '../routes/analyses/+page.svelte';

const ALL: SearchQuery = { text: null, since: null, until: null, min_score: null, max_score: null, limit: 500 };

function searches(): SearchQuery[] {
	return invokeMock.mock.calls
		.filter(([cmd]) => cmd === 'search_analyses')
		.map(([, args]) => (args as { query: SearchQuery }).query);
}

describe('Analyses page', () => {
	beforeEach(() => {
		invokeMock.mockReset();
	});

	afterEach(() => {
		vi.useRealTimers();
		toasts.clear();
	});

	it('shows a loading state while the list is loading', async () => {
		invokeMock.mockReturnValue(new Promise(() => {}));
		render(AnalysesPage);
		expect(screen.getByTestId('loading')).toHaveTextContent('Loading analyses');
		expect(screen.queryByTestId('analyses-table')).not.toBeInTheDocument();
		expect(screen.queryByTestId('analyses-empty')).not.toBeInTheDocument();
	});

	it('shows the empty state when there are no analyses', async () => {
		invokeMock.mockResolvedValue([]);
		render(AnalysesPage);

		const empty = await screen.findByTestId('analyses-empty');
		expect(empty).toHaveTextContent('No analyses yet');
		expect(empty).toHaveTextContent('salesdesk analyze FILE');
		expect(screen.queryByTestId('analyses-table')).not.toBeInTheDocument();
		expect(invokeMock).toHaveBeenCalledWith('search_analyses', { query: ALL });
		expect(screen.queryByTestId('analyses-no-match')).not.toBeInTheDocument();
	});

	it('renders one row per analysis with title, provider, model and a detail link', async () => {
		invokeMock.mockResolvedValue(twoAnalyses);
		render(AnalysesPage);

		const table = await screen.findByTestId('analyses-table');
		const headers = within(table)
			.getAllByRole('columnheader')
			.map((th) => th.textContent?.trim());
		expect(headers).toEqual(['Title', 'Created', 'Score', 'Provider', 'Model', 'Actions']);

		const rows = within(table).getAllByTestId('analysis-row');
		expect(rows).toHaveLength(2);

		const first = within(rows[0]);
		const link = first.getByRole('link', { name: 'Discovery call with Acme' });
		expect(link).toHaveAttribute('href', `/analysis?id=${twoAnalyses[0].id}`);
		expect(rows[0]).toHaveTextContent('openai');
		expect(rows[0]).toHaveTextContent('gpt-4o-mini');
		expect(first.getByText((_, el) => el?.tagName === 'TIME')).toHaveAttribute(
			'datetime',
			'2024-05-02T09:30:00Z'
		);

		expect(within(rows[1]).getByRole('link', { name: 'Renewal with Globex' })).toHaveAttribute(
			'href',
			`/analysis?id=${twoAnalyses[1].id}`
		);
		expect(rows[1]).toHaveTextContent('mock');
		expect(within(rows[0]).getByTestId('analysis-score')).toHaveTextContent(/^72$/);
		expect(within(rows[1]).getByTestId('analysis-score')).toHaveTextContent(/^—$/);
		expect(screen.queryByTestId('analyses-empty')).not.toBeInTheDocument();
	});

	it('shows the error with a Retry button that loads again', async () => {
		invokeMock.mockRejectedValueOnce({ kind: 'store', message: 'database is locked' });
		render(AnalysesPage);

		const banner = await screen.findByTestId('error-banner');
		expect(banner).toHaveTextContent('database is locked');
		expect(screen.queryByTestId('analyses-table')).not.toBeInTheDocument();

		invokeMock.mockResolvedValueOnce(twoAnalyses);
		await fireEvent.click(screen.getByRole('button', { name: 'Retry' }));

		expect(await screen.findAllByTestId('analysis-row')).toHaveLength(2);
		expect(screen.queryByTestId('error-banner')).not.toBeInTheDocument();
		expect(invokeMock).toHaveBeenCalledTimes(2);
	});

	it('searches titles and transcripts after a pause in typing', async () => {
		invokeMock.mockResolvedValue(twoAnalyses);
		render(AnalysesPage);
		await screen.findAllByTestId('analysis-row');
		expect(searches()).toEqual([ALL]);

		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		const box = screen.getByTestId('analyses-search');
		await fireEvent.input(box, { target: { value: 'ac' } });
		await vi.advanceTimersByTimeAsync(150);
		await fireEvent.input(box, { target: { value: 'acme ' } });
		await vi.advanceTimersByTimeAsync(199);
		expect(searches()).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(1);
		expect(searches()).toEqual([ALL, { ...ALL, text: 'acme' }]);
	});

	it('passes the date and score filters', async () => {
		invokeMock.mockResolvedValue(twoAnalyses);
		render(AnalysesPage);
		await screen.findAllByTestId('analysis-row');

		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		await fireEvent.input(screen.getByTestId('filter-since'), { target: { value: '2024-05-01' } });
		await fireEvent.input(screen.getByTestId('filter-until'), { target: { value: '2024-05-31' } });
		await fireEvent.input(screen.getByTestId('filter-min-score'), { target: { value: '60' } });
		await fireEvent.input(screen.getByTestId('filter-max-score'), { target: { value: '90' } });
		await vi.advanceTimersByTimeAsync(200);

		expect(searches().at(-1)).toEqual({
			text: null,
			since: '2024-05-01',
			until: '2024-05-31',
			min_score: 60,
			max_score: 90,
			limit: 500
		});
		expect(searches()).toHaveLength(2);
	});

	it('shows a no-match state, distinct from having no analyses, and clears filters', async () => {
		invokeMock.mockImplementation(async (_cmd: string, args: { query: SearchQuery }) =>
			args.query.text ? [] : twoAnalyses
		);
		render(AnalysesPage);
		await screen.findAllByTestId('analysis-row');

		await fireEvent.input(screen.getByTestId('analyses-search'), { target: { value: 'zebra' } });
		const noMatch = await screen.findByTestId('analyses-no-match');
		expect(noMatch).toHaveTextContent('No analyses match');
		expect(screen.queryByTestId('analyses-empty')).not.toBeInTheDocument();
		expect(screen.queryByTestId('analyses-table')).not.toBeInTheDocument();
		expect(searches().at(-1)).toEqual({ ...ALL, text: 'zebra' });

		await fireEvent.click(screen.getByTestId('clear-filters'));
		expect(await screen.findAllByTestId('analysis-row')).toHaveLength(2);
		expect(screen.getByTestId('analyses-search')).toHaveValue('');
		expect(searches().at(-1)).toEqual(ALL);
	});

	it('deletes a row and restores it from the undo toast', async () => {
		const [first, second] = twoAnalyses;
		let deleted = false;
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'search_analyses') return deleted ? [second] : twoAnalyses;
			if (cmd === 'delete_analysis') {
				deleted = true;
				return null;
			}
			if (cmd === 'restore_analysis') {
				deleted = false;
				return null;
			}
			throw { kind: 'internal', message: `unexpected ${cmd}` };
		});
		render(Toaster);
		render(AnalysesPage);
		const rows = await screen.findAllByTestId('analysis-row');

		await fireEvent.click(within(rows[0]).getByTestId('delete-row'));
		await waitFor(() => expect(screen.getAllByTestId('analysis-row')).toHaveLength(1));
		expect(invokeMock).toHaveBeenCalledWith('delete_analysis', { id: first.id });
		expect(screen.getByTestId('analysis-row')).toHaveTextContent('Renewal with Globex');

		const toast = await screen.findByTestId('toast');
		expect(toast).toHaveTextContent('Analysis deleted.');
		await fireEvent.click(within(toast).getByRole('button', { name: 'Undo' }));

		await waitFor(() => expect(screen.getAllByTestId('analysis-row')).toHaveLength(2));
		expect(invokeMock).toHaveBeenCalledWith('restore_analysis', { id: first.id });
		const names = invokeMock.mock.calls.map(([c]) => c);
		expect(names.indexOf('delete_analysis')).toBeLessThan(names.indexOf('restore_analysis'));
	});
});
