// The PDF preview's decisions, kept apart from pdf.js so they can be tested without a canvas:
// how each material kind is shown, which page to show, and the scale that fits a page to the
// panel sharply on high-density screens.
import type { MaterialKind } from '$lib/bindings';

/** How the Training page shows a material: inside the app, or with the system's app. */
export type PreviewMode = 'image' | 'video' | 'audio' | 'pdf' | 'system';

export function previewMode(kind: MaterialKind): PreviewMode {
	switch (kind) {
		case 'image':
		case 'video':
		case 'audio':
		case 'pdf':
			return kind;
		default:
			// Slides, documents and spreadsheets: WebKitGTK renders none of them.
			return 'system';
	}
}

/** A page number the document has: 1..total (1 while the count is unknown). */
export function clampPage(page: number, total: number): number {
	if (!Number.isFinite(page) || total < 1) return 1;
	return Math.min(Math.max(Math.round(page), 1), total);
}

/** The scale that fits a page `pageWidth` CSS pixels wide (at scale 1) into `panelWidth`,
 *  never enlarging more than `maxZoom`, and the canvas's backing scale for the device's
 *  pixel ratio so that text stays sharp. */
export function fitScale(
	pageWidth: number,
	panelWidth: number,
	devicePixelRatio = 1,
	maxZoom = 2
): { css: number; canvas: number } {
	if (!(pageWidth > 0) || !(panelWidth > 0)) return { css: 1, canvas: Math.max(devicePixelRatio, 1) };
	const css = Math.min(panelWidth / pageWidth, maxZoom);
	return { css, canvas: css * Math.max(devicePixelRatio, 1) };
}

/** A message for a PDF pdf.js could not open, without the library's internals. */
export function pdfErrorMessage(error: unknown): string {
	const name = error instanceof Error ? error.name : '';
	if (name === 'PasswordException') {
		return 'This PDF is password-protected: open it with the system app to enter the password.';
	}
	if (name === 'InvalidPDFException') {
		return 'This file is not a readable PDF: open it with the system app or upload it again.';
	}
	return 'The PDF could not be shown here: open it with the system app.';
}
