import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { twoAnalyses } from './fixtures';

const { invokeMock } = vi.hoisted(() => ({ invokeMock: vi.fn() }));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));

import AnalysesPage from '../routes/analyses/+page.svelte';

describe('Analyses page', () => {
	beforeEach(() => {
		invokeMock.mockReset();
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
		expect(invokeMock).toHaveBeenCalledWith('list_analyses');
	});

	it('renders one row per analysis with title, provider, model and a detail link', async () => {
		invokeMock.mockResolvedValue(twoAnalyses);
		render(AnalysesPage);

		const table = await screen.findByTestId('analyses-table');
		const headers = within(table)
			.getAllByRole('columnheader')
			.map((th) => th.textContent?.trim());
		expect(headers).toEqual(['Title', 'Created', 'Provider', 'Model']);

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
});
