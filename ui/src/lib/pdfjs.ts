// Loads pdf.js on first use (it is large: only the Training page's PDF preview needs it), with
// its worker bundled by Vite as a local asset: the CSP allows scripts and workers from the app
// only, never a CDN. The legacy build supports the WebKitGTK versions the app runs on.
import type { PDFDocumentProxy } from 'pdfjs-dist';

let configured: Promise<typeof import('pdfjs-dist')> | null = null;

async function pdfjs(): Promise<typeof import('pdfjs-dist')> {
	configured ??= (async () => {
		const [lib, worker] = await Promise.all([
			import('pdfjs-dist/legacy/build/pdf.mjs'),
			import('pdfjs-dist/legacy/build/pdf.worker.min.mjs?url')
		]);
		lib.GlobalWorkerOptions.workerSrc = worker.default;
		return lib as unknown as typeof import('pdfjs-dist');
	})();
	return configured;
}

/** Opens the PDF at `url` (an asset-protocol URL of the verified preview copy). */
export async function openPdf(url: string): Promise<PDFDocumentProxy> {
	const lib = await pdfjs();
	// No eval (the CSP forbids it) and no font or image fetching beyond the document itself.
	return lib.getDocument({ url, isEvalSupported: false, disableFontFace: false }).promise;
}
