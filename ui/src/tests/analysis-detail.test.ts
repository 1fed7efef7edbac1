import { render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { analysisRecord } from './fixtures';

const { invokeMock, pageState } = vi.hoisted(() => ({
	invokeMock: vi.fn(),
	pageState: { url: new URL('http://localhost/analysis') }
}));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));
vi.mock('$app/state', () => ({ page: pageState }));

import AnalysisPage from '../routes/analysis/+page.svelte';

describe('Analysis detail page', () => {
	beforeEach(() => {
		invokeMock.mockReset();
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
});
