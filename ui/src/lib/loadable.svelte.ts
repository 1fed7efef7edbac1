import { ApiError, toApiError } from './api';

export type LoadStatus = 'idle' | 'loading' | 'ok' | 'error';

/**
 * Reactive state for one async call: status, last good data, last error.
 * Data from a previous load stays visible while a refresh is running;
 * responses that arrive after a newer load started are dropped.
 */
export class Loadable<T> {
	status = $state<LoadStatus>('idle');
	data = $state.raw<T | undefined>(undefined);
	error = $state.raw<ApiError | null>(null);

	#fetcher: () => Promise<T>;
	#seq = 0;

	constructor(fetcher: () => Promise<T>) {
		this.#fetcher = fetcher;
	}

	get loading(): boolean {
		return this.status === 'loading';
	}

	async load(): Promise<void> {
		const seq = ++this.#seq;
		this.status = 'loading';
		this.error = null;
		try {
			const data = await this.#fetcher();
			if (seq !== this.#seq) return;
			this.data = data;
			this.status = 'ok';
		} catch (error) {
			if (seq !== this.#seq) return;
			this.error = toApiError(error);
			this.status = 'error';
		}
	}

	/** Store data obtained elsewhere (cancels any load in flight). */
	set(data: T): void {
		this.#seq++;
		this.data = data;
		this.error = null;
		this.status = 'ok';
	}

	/** Forget everything (cancels any load in flight). */
	reset(): void {
		this.#seq++;
		this.data = undefined;
		this.error = null;
		this.status = 'idle';
	}
}
