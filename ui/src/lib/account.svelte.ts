// The team account as the whole UI sees it (sidebar, status bar, account pages), and the
// form checks shared by the account forms. Passwords live only in a form's own field until
// it is submitted; nothing here ever holds a token (the core never sends one).
import { api, type AccountStatus } from './api';
import { Loadable } from './loadable.svelte';

export const appAccount = new Loadable<AccountStatus>(() => api.accountStatus());

/** Shown before the status has loaded, or when it cannot be read. */
export const LOCAL_MODE = 'Local mode — sign in';

/** The one-line account summary for the status bar and sidebar. */
export function accountSummary(status: AccountStatus | undefined): string {
	return status?.summary ?? LOCAL_MODE;
}

/** `null` when fine, else what to fix. Mirrors the core's check so mistakes show at once. */
export function emailProblem(email: string): string | null {
	const value = email.trim();
	if (!value) return 'Enter your email address.';
	const at = value.indexOf('@');
	const domain = value.slice(at + 1);
	if (at < 1 || !domain.includes('.') || domain.startsWith('.') || domain.endsWith('.') || /\s/.test(value)) {
		return `"${value}" is not an email address (expected name@company.com).`;
	}
	return null;
}

/** Supabase's default minimum is 6; bcrypt reads only the first 72 bytes. */
export const MIN_PASSWORD = 8;

export function passwordProblem(password: string, confirm?: string): string | null {
	if (!password) return 'Enter a password.';
	if (password.length < MIN_PASSWORD) return `Use at least ${MIN_PASSWORD} characters.`;
	if (new TextEncoder().encode(password).length > 72) return 'Use at most 72 bytes.';
	if (confirm !== undefined && confirm !== password) return 'The two passwords differ.';
	return null;
}
