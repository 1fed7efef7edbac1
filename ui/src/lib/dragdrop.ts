// Files dragged onto the window from the desktop. Tauri intercepts OS file drags and reports
// them as webview events with full paths (HTML drag-and-drop never sees them). Outside the
// desktop app (tests, a plain browser) this does nothing.
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { runningInTauri } from './api';

export type FileDrag =
	| { type: 'enter'; paths: string[] }
	| { type: 'over' }
	| { type: 'leave' }
	| { type: 'drop'; paths: string[] };

/**
 * The DOM event the end-to-end test dispatches (`detail: { paths }`) to deliver a drop:
 * WebDriver cannot drag a file from the desktop. It grants nothing: commands read only files
 * the Rust side granted, so a page dispatching it gains no access.
 */
export const TEST_DROP_EVENT = 'salesdesk-file-drop';

function listenForTestDrops(handler: (event: FileDrag) => void): () => void {
	const onDrop = (e: Event) => {
		const paths = (e as CustomEvent<{ paths?: unknown }>).detail?.paths;
		if (Array.isArray(paths) && paths.every((p) => typeof p === 'string')) {
			handler({ type: 'drop', paths });
		}
	};
	window.addEventListener(TEST_DROP_EVENT, onDrop);
	return () => window.removeEventListener(TEST_DROP_EVENT, onDrop);
}

/** Starts listening; resolves to a function that stops (safe to call more than once). */
export async function listenForFileDrops(handler: (event: FileDrag) => void): Promise<() => void> {
	if (!runningInTauri()) return () => {};
	const stopTestDrops = listenForTestDrops(handler);
	try {
		const unlisten = await getCurrentWebview().onDragDropEvent((event) => {
			const p = event.payload;
			if (p.type === 'enter') handler({ type: 'enter', paths: p.paths });
			else if (p.type === 'over') handler({ type: 'over' });
			else if (p.type === 'drop') handler({ type: 'drop', paths: p.paths });
			else handler({ type: 'leave' });
		});
		let done = false;
		return () => {
			if (done) return;
			done = true;
			stopTestDrops();
			void Promise.resolve(unlisten()).catch(() => {});
		};
	} catch {
		// No permission to listen, or no webview: dropping files just does nothing.
		stopTestDrops();
		return () => {};
	}
}
