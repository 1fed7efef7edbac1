import { render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { clampPage, fitScale, pdfErrorMessage, previewMode } from '$lib/pdfPreview';

const { openPdf } = vi.hoisted(() => ({ openPdf: vi.fn() }));
vi.mock('$lib/pdfjs', () => ({ openPdf }));

import PdfPreview from '$lib/components/PdfPreview.svelte';

// jsdom has no layout: Svelte's `bind:clientWidth` needs a ResizeObserver to exist.
vi.stubGlobal(
	'ResizeObserver',
	class {
		observe() {}
		unobserve() {}
		disconnect() {}
	}
);

describe('how each material is shown', () => {
	it('previews PDFs, images, video and audio in the app and opens the rest with the system app', () => {
		expect(previewMode('pdf')).toBe('pdf');
		expect(previewMode('image')).toBe('image');
		expect(previewMode('video')).toBe('video');
		expect(previewMode('audio')).toBe('audio');
		for (const kind of ['slides', 'document', 'spreadsheet', 'other'] as const) {
			expect(previewMode(kind)).toBe('system');
		}
	});
});

describe('pages', () => {
	it('keeps the page inside the document', () => {
		expect(clampPage(0, 5)).toBe(1);
		expect(clampPage(6, 5)).toBe(5);
		expect(clampPage(3, 5)).toBe(3);
		expect(clampPage(2.6, 5)).toBe(3);
		expect(clampPage(Number.NaN, 5)).toBe(1);
		expect(clampPage(4, 0)).toBe(1);
	});

	it('fits the page to the panel, sharp on dense screens, never blown up past the limit', () => {
		expect(fitScale(600, 900, 1)).toEqual({ css: 1.5, canvas: 1.5 });
		expect(fitScale(600, 900, 2)).toEqual({ css: 1.5, canvas: 3 });
		expect(fitScale(100, 900, 1)).toEqual({ css: 2, canvas: 2 });
		expect(fitScale(1200, 600, 1).css).toBe(0.5);
		expect(fitScale(0, 600, 2)).toEqual({ css: 1, canvas: 2 });
	});
});

describe('errors', () => {
	const named = (name: string) => Object.assign(new Error('internal detail'), { name });
	it('says what to do instead of showing pdf.js internals', () => {
		expect(pdfErrorMessage(named('PasswordException'))).toMatch(/password-protected/);
		expect(pdfErrorMessage(named('InvalidPDFException'))).toMatch(/not a readable PDF/);
		expect(pdfErrorMessage(new Error('boom'))).not.toMatch(/boom/);
	});

	it('shows a broken PDF as a message with the way out, not a blank canvas', async () => {
		openPdf.mockRejectedValueOnce(named('InvalidPDFException'));
		const onOpenExternally = vi.fn();
		render(PdfPreview, { url: 'http://asset.localhost/x.pdf', title: 'Deck', onOpenExternally });
		const alert = await screen.findByRole('alert');
		expect(alert.textContent).toMatch(/not a readable PDF/);
		screen.getByRole('button', { name: 'Open with the system app' }).click();
		expect(onOpenExternally).toHaveBeenCalledOnce();
		expect(openPdf).toHaveBeenCalledWith('http://asset.localhost/x.pdf');
	});

	it('counts the pages of an opened document', async () => {
		openPdf.mockResolvedValueOnce({
			numPages: 3,
			getPage: () => new Promise(() => {}),
			destroy: vi.fn()
		});
		render(PdfPreview, { url: 'http://asset.localhost/y.pdf', title: 'Deck' });
		await waitFor(() => expect(screen.getByTestId('pdf-page').textContent).toMatch(/Page 1 of 3/));
		screen.getByRole('button', { name: 'Next' }).click();
		await waitFor(() => expect(screen.getByTestId('pdf-page').textContent).toMatch(/Page 2 of 3/));
	});
});
