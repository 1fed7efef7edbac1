import { render, screen, waitFor, within } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { healthFixture } from './fixtures';

const { invokeMock, pageState } = vi.hoisted(() => ({
	invokeMock: vi.fn(),
	pageState: { url: new URL('http://localhost/') }
}));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));
vi.mock('$app/state', () => ({ page: pageState }));

import Layout from '../routes/+layout.svelte';

const children = createRawSnippet(() => ({ render: () => '<p>page body</p>' }));

const expectedLinks = [
	['dashboard', 'Dashboard', '/'],
	['analyze', 'Analyze', '/analyze'],
	['analyses', 'Analyses', '/analyses'],
	['roleplay', 'Roleplay', '/roleplay'],
	['market', 'Market', '/market'],
	['images', 'Images', '/images'],
	['clients', 'Clients', '/clients'],
	['campaigns', 'Campaigns', '/campaigns'],
	['training', 'Training', '/training'],
	['status', 'Status', '/status'],
	['settings', 'Settings', '/settings']
];

function renderAt(path: string) {
	pageState.url = new URL(`http://localhost${path}`);
	return render(Layout, { props: { children } });
}

function activeSlugs(): string[] {
	const nav = screen.getByTestId('sidebar');
	return within(nav)
		.getAllByRole('link')
		.filter((a) => a.getAttribute('aria-current') === 'page')
		.map((a) => a.dataset.testid ?? '');
}

describe('app layout', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'health') return healthFixture();
			throw { kind: 'internal', message: `unexpected command ${cmd}` };
		});
	});

	it('renders the sidebar as a nav with all 11 links in order', () => {
		renderAt('/');
		const nav = screen.getByTestId('sidebar');
		expect(nav.tagName).toBe('NAV');
		expect(within(nav).getByText('Salesdesk')).toBeInTheDocument();

		const links = within(within(nav).getByRole('list')).getAllByRole('link');
		expect(
			links.map((a) => [a.dataset.testid, a.textContent?.trim(), a.getAttribute('href')])
		).toEqual(expectedLinks.map(([slug, label, href]) => [`nav-${slug}`, label, href]));
	});

	it('marks only the current page as active', () => {
		renderAt('/analyses');
		expect(activeSlugs()).toEqual(['nav-analyses']);
		expect(screen.getByTestId('nav-dashboard')).not.toHaveAttribute('aria-current');
	});

	it('marks only Dashboard as active on the root path', () => {
		renderAt('/');
		expect(activeSlugs()).toEqual(['nav-dashboard']);
	});

	it('keeps Analyses active on an analysis detail page', () => {
		renderAt('/analysis?id=abc');
		expect(activeSlugs()).toEqual(['nav-analyses']);
	});

	it('renders the page content, a skip link and the main landmark', () => {
		renderAt('/status');
		expect(screen.getByText('page body').closest('main')).toHaveAttribute('id', 'main');
		expect(screen.getByRole('link', { name: 'Skip to main content' })).toHaveAttribute(
			'href',
			'#main'
		);
	});

	it('shows local mode and the store status in the status bar', async () => {
		renderAt('/');
		const bar = screen.getByTestId('statusbar');
		expect(bar).toHaveTextContent('Local mode');
		await waitFor(() => expect(screen.getByTestId('statusbar-store')).toHaveTextContent('Store OK'));
		expect(invokeMock).toHaveBeenCalledWith('health');
	});
});
