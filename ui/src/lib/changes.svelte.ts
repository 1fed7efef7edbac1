// Tells pages that saved data changed elsewhere (e.g. an undo from a toast), so lists reload.

export const dataChanges = $state({ analyses: 0 });

export function analysesChanged(): void {
	dataChanges.analyses++;
}
