// Helpers for Settings → Offline files: the budgets offered and sizes as people read them.

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** The budgets offered, in MiB, always including the one in force. */
export function budgetChoices(currentBytes: number): number[] {
	const offered = [512, 1024, 2048, 5 * 1024, 10 * 1024, 20 * 1024, 50 * 1024, 100 * 1024];
	const current = Math.round(currentBytes / MIB);
	return [...new Set([...offered, current])].sort((a, b) => a - b);
}

/** `512 MB`, `2 GB`, `1.5 GB`. */
export function sizeLabel(bytes: number): string {
	if (bytes >= GIB) {
		const g = bytes / GIB;
		return `${Number.isInteger(g) ? g : g.toFixed(1)} GB`;
	}
	return `${Math.round(bytes / MIB)} MB`;
}
