import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccountStatus, TeamSettingsView } from '$lib/api';

const { invokeMock } = vi.hoisted(() => ({ invokeMock: vi.fn() }));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock
}));

import { appAccount, emailProblem, passwordProblem } from '$lib/account.svelte';
import AccountPage from '../routes/account/+page.svelte';
import SignUpPage from '../routes/account/signup/+page.svelte';
import ResetPage from '../routes/account/reset/+page.svelte';
import VerifyPage from '../routes/account/verify/+page.svelte';
import TeamSettings from '$lib/components/settings/TeamSettings.svelte';
import StatusBar from '$lib/components/StatusBar.svelte';

const PASSWORD = 'test-password-not-real';

function status(over: Partial<AccountStatus> = {}): AccountStatus {
	return {
		configured: true,
		signed_in: false,
		user_id: null,
		email: null,
		role: null,
		verified: false,
		expires_at: null,
		expired: false,
		online: null,
		last_error: null,
		next_retry_at: null,
		summary: 'Local mode — sign in',
		...over
	};
}

const signedIn = status({
	signed_in: true,
	user_id: 'u-1',
	email: 'ana@example.com',
	role: 'manager',
	verified: true,
	expires_at: '2026-11-26T13:00:00Z',
	online: true,
	summary: 'Signed in as ana@example.com'
});

async function type(testid: string, value: string) {
	await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

describe('account form checks', () => {
	it('explains what is wrong with an email or password', () => {
		expect(emailProblem('')).toMatch(/Enter your email/);
		expect(emailProblem('ana')).toMatch(/not an email address/);
		expect(emailProblem('ana@example')).toMatch(/not an email address/);
		expect(emailProblem(' ana@example.com ')).toBeNull();
		expect(passwordProblem('')).toMatch(/Enter a password/);
		expect(passwordProblem('short')).toMatch(/at least 8/);
		expect(passwordProblem('long enough', 'different')).toMatch(/differ/);
		expect(passwordProblem('x'.repeat(73))).toMatch(/72/);
		expect(passwordProblem('long enough', 'long enough')).toBeNull();
	});
});

describe('account page', () => {
	beforeEach(() => {
		invokeMock.mockReset();
	});

	it('in local mode says the app works without an account', async () => {
		invokeMock.mockResolvedValue(status({ configured: false, summary: 'Local mode — set up a team in Settings to sign in' }));
		render(AccountPage);
		expect(await screen.findByTestId('local-mode')).toHaveTextContent('without an account');
	});

	it('checks the sign-in form before calling the core', async () => {
		invokeMock.mockResolvedValue(status());
		render(AccountPage);
		await screen.findByTestId('signin-form');
		await fireEvent.click(screen.getByTestId('submit'));
		expect(screen.getByTestId('form-error')).toHaveTextContent('Enter your email');
		await type('email', 'ana');
		await fireEvent.click(screen.getByTestId('submit'));
		expect(screen.getByTestId('form-error')).toHaveTextContent('not an email address');
		await type('email', 'ana@example.com');
		await fireEvent.click(screen.getByTestId('submit'));
		expect(screen.getByTestId('form-error')).toHaveTextContent('Enter your password');
		expect(invokeMock).not.toHaveBeenCalledWith('sign_in', expect.anything());
	});

	it("shows the core's error and keeps what was typed", async () => {
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'account_status') return status();
			if (cmd === 'sign_in') throw { kind: 'invalid_input', message: 'wrong email or password (invalid_credentials)' };
		});
		render(AccountPage);
		await screen.findByTestId('signin-form');
		await type('email', 'ana@example.com');
		await type('password', PASSWORD);
		await fireEvent.click(screen.getByTestId('submit'));
		expect(await screen.findByTestId('form-error')).toHaveTextContent('wrong email or password');
		expect((screen.getByTestId('email') as HTMLInputElement).value).toBe('ana@example.com');
	});

	it('signs in, forgets the password and holds no token, then shows the account', async () => {
		let signed = false;
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'account_status') return signed ? signedIn : status();
			if (cmd === 'sign_in') {
				signed = true;
				return signedIn;
			}
		});
		render(AccountPage);
		await screen.findByTestId('signin-form');
		await type('email', ' ana@example.com ');
		await type('password', PASSWORD);
		const password = screen.getByTestId('password') as HTMLInputElement;
		await fireEvent.click(screen.getByTestId('submit'));
		expect(invokeMock).toHaveBeenCalledWith('sign_in', { email: 'ana@example.com', password: PASSWORD });
		const panel = await screen.findByTestId('account-panel');
		expect(password.value).toBe('');
		expect(panel).toHaveTextContent('ana@example.com');
		expect(screen.getByTestId('role')).toHaveTextContent('manager');
		expect(screen.getByTestId('verified')).toHaveTextContent('Confirmed');
		expect(document.body.textContent).not.toContain(PASSWORD);
		const state = JSON.stringify(appAccount.data);
		expect(state).not.toContain(PASSWORD);
		expect(state).not.toMatch(/token/i);
	});

	it('signs out here or everywhere and says when the server could not be told', async () => {
		let signed = true;
		invokeMock.mockImplementation(async (cmd: string, args?: Record<string, unknown>) => {
			if (cmd === 'account_status') return signed ? signedIn : status();
			if (cmd === 'sign_out') {
				signed = false;
				return { server_confirmed: args?.everywhere === true };
			}
		});
		render(AccountPage);
		await fireEvent.click(await screen.findByTestId('signout-here'));
		expect(invokeMock).toHaveBeenCalledWith('sign_out', { everywhere: false });
		expect(await screen.findByTestId('account-note')).toHaveTextContent('could not be told');
		await screen.findByTestId('signin-form');
	});

	it('shows offline state with the session kept', async () => {
		invokeMock.mockResolvedValue({ ...signedIn, online: false, summary: 'Offline, signed in as ana@example.com', last_error: 'cannot reach the sign-in service' });
		render(AccountPage);
		expect(await screen.findByTestId('connection')).toHaveTextContent('Offline');
		expect(screen.getByTestId('signout-everywhere')).toBeEnabled();
	});
});

describe('sign-up, reset and verify pages', () => {
	beforeEach(() => invokeMock.mockReset());

	it('sign-up checks the passwords match, then asks to confirm the email', async () => {
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'sign_up') return { confirmation_sent: true, status: status() };
			if (cmd === 'account_status') return status();
		});
		render(SignUpPage);
		await type('email', 'ana@example.com');
		await type('password', PASSWORD);
		await type('confirm', 'something else');
		await fireEvent.click(screen.getByTestId('submit'));
		expect(screen.getByTestId('form-error')).toHaveTextContent('differ');
		expect(invokeMock).not.toHaveBeenCalled();
		await type('confirm', PASSWORD);
		await fireEvent.click(screen.getByTestId('submit'));
		expect(await screen.findByTestId('confirmation-sent')).toHaveTextContent('ana@example.com');
		expect(screen.getByTestId('verify-form')).toBeInTheDocument();
		expect(document.body.innerHTML).not.toContain(PASSWORD);
	});

	it('reset sends the email, then verifies the 6-digit code with the address', async () => {
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'request_password_reset') return null;
			if (cmd === 'verify_email') return signedIn;
			if (cmd === 'account_status') return signedIn;
		});
		render(ResetPage);
		await type('email', 'ana@example.com');
		await fireEvent.click(screen.getByTestId('submit'));
		expect(await screen.findByTestId('reset-sent')).toBeInTheDocument();
		await type('token', '123456');
		await fireEvent.click(screen.getByTestId('submit'));
		expect(invokeMock).toHaveBeenCalledWith('verify_email', {
			input: { kind: 'recovery', email: 'ana@example.com', token: '123456' }
		});
		expect(await screen.findByTestId('password-form')).toBeInTheDocument();
	});

	it('verify needs a code or link, and shows an expired link clearly', async () => {
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'verify_email') throw { kind: 'invalid_input', message: 'the link or code is invalid or has expired (otp_expired). Ask for a new email' };
		});
		render(VerifyPage);
		await fireEvent.click(screen.getByTestId('submit'));
		expect(screen.getByTestId('form-error')).toHaveTextContent('Paste the link');
		await type('token', '123456');
		await fireEvent.click(screen.getByTestId('submit'));
		expect(screen.getByTestId('form-error')).toHaveTextContent('Enter your email');
		await type('token', 'https://example.test/auth/v1/verify?token_hash=abc&type=signup');
		await fireEvent.click(screen.getByTestId('submit'));
		expect(await screen.findByText(/otp_expired/)).toBeInTheDocument();
	});
});

describe('Settings → Team', () => {
	beforeEach(() => invokeMock.mockReset());

	const empty: TeamSettingsView = {
		supabase_url: null,
		anon_key: null,
		database_url: null,
		database_password_set: false,
		from_environment: [],
		configured: false
	};

	it('checks the fields, saves, and never shows the password again', async () => {
		invokeMock.mockImplementation(async (cmd: string, args?: { settings: Record<string, string | null> }) => {
			if (cmd === 'get_team_settings') return empty;
			if (cmd === 'account_status') return status();
			if (cmd === 'save_team_settings') {
				const s = args!.settings;
				return {
					supabase_url: s.supabase_url,
					anon_key: s.anon_key,
					database_url: s.database_url,
					database_password_set: !!s.database_password,
					from_environment: [],
					configured: true
				};
			}
		});
		render(TeamSettings);
		await waitFor(() => expect(invokeMock).toHaveBeenCalledWith('get_team_settings'));
		await type('team-url', 'https://project-ref.supabase.co');
		await fireEvent.click(screen.getByTestId('team-save'));
		expect(screen.getByTestId('form-error')).toHaveTextContent('both the project URL and its anon key');
		await type('team-key', 'test-anon-key-not-real');
		await type('team-db-url', 'mysql://db');
		await fireEvent.click(screen.getByTestId('team-save'));
		expect(screen.getByTestId('form-error')).toHaveTextContent('postgres://');
		expect(invokeMock).not.toHaveBeenCalledWith('save_team_settings', expect.anything());

		await type('team-db-url', 'postgres://salesdesk_app@db.example.test:6543/postgres');
		await type('team-password', PASSWORD);
		await fireEvent.click(screen.getByTestId('team-save'));
		expect(invokeMock).toHaveBeenCalledWith('save_team_settings', {
			settings: {
				supabase_url: 'https://project-ref.supabase.co',
				anon_key: 'test-anon-key-not-real',
				database_url: 'postgres://salesdesk_app@db.example.test:6543/postgres',
				database_password: PASSWORD
			}
		});
		expect(await screen.findByTestId('team-saved')).toBeInTheDocument();
		expect(screen.getByTestId('team-password-state')).toHaveTextContent('set');
		expect((screen.getByTestId('team-password') as HTMLInputElement).value).toBe('');
		expect(document.body.innerHTML).not.toContain(PASSWORD);
	});

	it('shows an error from the core', async () => {
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'get_team_settings') return empty;
			if (cmd === 'save_team_settings') throw { kind: 'unavailable', message: 'the keyring is locked or refused access' };
		});
		render(TeamSettings);
		await waitFor(() => expect(invokeMock).toHaveBeenCalledWith('get_team_settings'));
		await type('team-url', 'https://project-ref.supabase.co');
		await type('team-key', 'test-anon-key-not-real');
		await fireEvent.click(screen.getByTestId('team-save'));
		expect(await screen.findByTestId('form-error')).toHaveTextContent('keyring is locked');
	});
});

describe('status bar account item', () => {
	beforeEach(() => invokeMock.mockReset());

	it('says offline while keeping the user signed in', async () => {
		invokeMock.mockResolvedValue({ ...signedIn, online: false, summary: 'Offline, signed in as ana@example.com' });
		await appAccount.load();
		render(StatusBar);
		expect(screen.getByTestId('statusbar-account')).toHaveTextContent('Offline, signed in as ana@example.com');
		expect(screen.getByTestId('statusbar-account')).toHaveAttribute('href', '/account');
	});
});

import ImportBrowserData from '$lib/components/settings/ImportBrowserData.svelte';

describe('Settings → Import from the browser app', () => {
	beforeEach(() => invokeMock.mockReset());

	it('imports the chosen file and shows counts and skipped entries', async () => {
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'pick_import_file') return '/home/ana/export.json';
			if (cmd === 'import_browser_export') {
				return {
					format_version: 1,
					sections: [
						{ section: 'clients', added: 2, updated: 0, unchanged: 1, skipped: 1 },
						{ section: 'analyses', added: 1, updated: 0, unchanged: 0, skipped: 0 }
					],
					skipped: [{ section: 'clients', index: 2, old_id: 'c-3', reason: "email 'x' is not an email address" }]
				};
			}
		});
		render(ImportBrowserData);
		await fireEvent.click(screen.getByTestId('import-choose'));
		const table = await screen.findByTestId('import-report');
		expect(invokeMock).toHaveBeenCalledWith('import_browser_export', { path: '/home/ana/export.json' });
		expect(table.querySelector('[data-section="clients"]')).toHaveTextContent('Clients2011');
		expect(screen.getByTestId('import-skipped')).toHaveTextContent('Clients #3 (id c-3): email');
	});

	it('does nothing when the dialog is cancelled, and shows a refused file', async () => {
		invokeMock.mockResolvedValueOnce(null);
		render(ImportBrowserData);
		await fireEvent.click(screen.getByTestId('import-choose'));
		await waitFor(() => expect(screen.getByTestId('import-choose')).toBeEnabled());
		expect(invokeMock).not.toHaveBeenCalledWith('import_browser_export', expect.anything());
		invokeMock.mockImplementation(async (cmd: string) => {
			if (cmd === 'pick_import_file') return '/home/ana/notes.json';
			if (cmd === 'import_browser_export') throw { kind: 'invalid_input', message: 'the file is not valid JSON (line 1, column 2: …)' };
		});
		await fireEvent.click(screen.getByTestId('import-choose'));
		expect(await screen.findByTestId('form-error')).toHaveTextContent('not valid JSON');
		expect(screen.queryByTestId('import-report')).toBeNull();
	});
});
