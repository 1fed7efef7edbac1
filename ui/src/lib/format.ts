const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
	dateStyle: 'medium',
	timeStyle: 'short'
});

/** Formats an RFC 3339 timestamp in the user's locale and time zone. */
export function formatDateTime(iso: string): string {
	const date = new Date(iso);
	if (Number.isNaN(date.getTime())) return iso;
	return dateTimeFormat.format(date);
}

/** Pretty-prints JSON for display. */
export function prettyJson(value: unknown): string {
	return JSON.stringify(value, null, 2) ?? 'null';
}

/** "provider / model", or just the provider when no model is recorded. */
export function providerModel(provider: string, model: string | null): string {
	return model ? `${provider} / ${model}` : provider;
}
