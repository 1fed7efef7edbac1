// App-wide toasts (shown by `Toaster.svelte` in the layout, so they survive navigation).

export type ToastAction = {
	label: string;
	run: () => void | Promise<void>;
};

export type ToastOptions = {
	tone?: 'info' | 'error';
	action?: ToastAction;
	/** How long the toast stays; paused while the pointer or focus is on it. */
	timeoutMs?: number;
};

export type Toast = {
	id: number;
	message: string;
	tone: 'info' | 'error';
	action: ToastAction | null;
	timeoutMs: number;
};

export const UNDO_TIMEOUT_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 5_000;
/** Older toasts are dropped beyond this many. */
const MAX_TOASTS = 3;

export class ToastStore {
	items = $state<Toast[]>([]);
	// Timers are bookkeeping, not UI state: a plain Map on purpose.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	#timers = new Map<number, ReturnType<typeof setTimeout>>();
	#nextId = 1;

	show(message: string, options: ToastOptions = {}): number {
		const id = this.#nextId++;
		const toast: Toast = {
			id,
			message,
			tone: options.tone ?? 'info',
			action: options.action ?? null,
			timeoutMs: options.timeoutMs ?? (options.action ? UNDO_TIMEOUT_MS : DEFAULT_TIMEOUT_MS)
		};
		this.items = [...this.items, toast].slice(-MAX_TOASTS);
		for (const [tid] of this.#timers) {
			if (!this.items.some((t) => t.id === tid)) this.pause(tid);
		}
		this.resume(id);
		return id;
	}

	dismiss(id: number): void {
		this.pause(id);
		this.items = this.items.filter((t) => t.id !== id);
	}

	/** Stops the toast's countdown (pointer or keyboard focus on it). */
	pause(id: number): void {
		const timer = this.#timers.get(id);
		if (timer !== undefined) clearTimeout(timer);
		this.#timers.delete(id);
	}

	/** Starts the countdown again, from the full time. */
	resume(id: number): void {
		const toast = this.items.find((t) => t.id === id);
		if (!toast) return;
		this.pause(id);
		this.#timers.set(
			id,
			setTimeout(() => this.dismiss(id), toast.timeoutMs)
		);
	}

	/** Runs the toast's action once and removes the toast. */
	async act(id: number): Promise<void> {
		const toast = this.items.find((t) => t.id === id);
		if (!toast?.action) return;
		this.dismiss(id);
		await toast.action.run();
	}

	clear(): void {
		for (const t of this.items) this.pause(t.id);
		this.items = [];
	}
}

export const toasts = new ToastStore();
