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

/** Starts listening; resolves to a function that stops (safe to call more than once). */
export async function listenForFileDrops(handler: (event: FileDrag) => void): Promise<() => void> {
	if (!runningInTauri()) return () => {};
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
			void Promise.resolve(unlisten()).catch(() => {});
		};
	} catch {
		// No permission to listen, or no webview: dropping files just does nothing.
		return () => {};
	}
}
