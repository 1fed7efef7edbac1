import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import NotBuiltYet from '$lib/components/NotBuiltYet.svelte';
import RoleplayPage from '../routes/roleplay/+page.svelte';
import MarketPage from '../routes/market/+page.svelte';

describe('pages that are not built yet', () => {
	it('the Roleplay page says plainly that it is not built', () => {
		render(RoleplayPage);
		expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Roleplay');
		expect(screen.getByTestId('not-built')).toHaveTextContent(
			"Roleplay isn't built yet — this page will let you practice calls with an AI customer."
		);
	});

	it('the Market page says so too', () => {
		render(MarketPage);
		expect(screen.getByTestId('not-built')).toHaveTextContent("Market isn't built yet");
	});

	it('the component uses the feature and description it is given', () => {
		render(NotBuiltYet, { props: { feature: 'Widgets', what: 'frobnicate widgets' } });
		expect(screen.getByTestId('not-built')).toHaveTextContent(
			"Widgets isn't built yet — this page will let you frobnicate widgets."
		);
	});
});
