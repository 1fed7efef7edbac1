import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileDrag } from '$lib/dragdrop';

const { invokeMock, drops } = vi.hoisted(() => ({
	invokeMock: vi.fn(),
	drops: { handler: null as ((event: FileDrag) => void) | null }
}));

vi.mock('$app/state', () => ({ page: { url: new URL('http://localhost/settings') } }));

vi.mock('@tauri-apps/api/core', async (importOriginal) => ({
	...(await importOriginal<typeof import('@tauri-apps/api/core')>()),
	invoke: invokeMock,
	convertFileSrc: (path: string) => `http://asset.localhost/${encodeURIComponent(path)}`
}));
vi.mock('$lib/dragdrop', () => ({
	listenForFileDrops: vi.fn(async (handler: (event: FileDrag) => void) => {
		drops.handler = handler;
		return () => {};
	})
}));

import ProfileSettings from '$lib/components/settings/ProfileSettings.svelte';
import Sidebar from '$lib/components/Sidebar.svelte';
import { appAvatar } from '$lib/avatar.svelte';

const preview = (name: string) => ({ path: `/data/cache/previews/${name}`, mime: 'image/png' });

/** Answers like the core: one avatar at most; `refuse` names paths refused with a message. */
function core(initial: string | null, refuse: Record<string, string> = {}) {
	let current = initial;
	invokeMock.mockImplementation(async (cmd: string, args?: { path?: string }) => {
		if (cmd === 'get_avatar_preview') return current ? preview(current) : null;
		if (cmd === 'pick_material_files') return ['/home/me/picked.png'];
		if (cmd === 'set_avatar') {
			const path = args?.path ?? '';
			if (refuse[path]) throw { kind: 'invalid_input', message: refuse[path] };
			current = path.split('/').pop() ?? null;
			return preview(current!);
		}
		if (cmd === 'account_status') throw { kind: 'internal', message: 'not needed here' };
		if (cmd === 'remove_avatar') {
			const had = current !== null;
			current = null;
			return had;
		}
		throw new Error(`unexpected command ${cmd}`);
	});
}

describe('ProfileSettings', () => {
	beforeEach(() => {
		invokeMock.mockReset();
		drops.handler = null;
		appAvatar.reset();
	});

	it('shows no avatar, then the chosen one, then none after remove', async () => {
		core(null);
		render(ProfileSettings);
		expect(await screen.findByTestId('avatar-empty')).toBeTruthy();
		await fireEvent.click(screen.getByTestId('avatar-choose'));
		const img = (await screen.findByTestId('avatar-image')) as HTMLImageElement;
		expect(img.src).toContain(encodeURIComponent('/data/cache/previews/picked.png'));
		expect(invokeMock).toHaveBeenCalledWith('set_avatar', { path: '/home/me/picked.png' });
		await fireEvent.click(screen.getByTestId('avatar-remove'));
		expect(await screen.findByTestId('avatar-empty')).toBeTruthy();
		expect(invokeMock).toHaveBeenCalledWith('remove_avatar');
	});

	it('sets a dropped image, and keeps the current avatar when one is refused', async () => {
		core('me.png', { '/home/me/notes.txt': '“notes.txt” is text/plain, not an image an avatar can use' });
		render(ProfileSettings);
		const img = (await screen.findByTestId('avatar-image')) as HTMLImageElement;
		expect(img.src).toContain('me.png');
		await waitFor(() => expect(drops.handler).not.toBeNull());
		drops.handler!({ type: 'drop', paths: ['/home/me/notes.txt'] });
		expect(await screen.findByText(/not an image an avatar can use/)).toBeTruthy();
		expect(((await screen.findByTestId('avatar-image')) as HTMLImageElement).src).toContain('me.png');
		drops.handler!({ type: 'drop', paths: ['/home/me/new.png'] });
		await waitFor(() =>
			expect((screen.getByTestId('avatar-image') as HTMLImageElement).src).toContain('new.png')
		);
	});

	it('shows the avatar in the sidebar account item, and follows a change made in Settings', async () => {
		core('me.png');
		render(Sidebar);
		const img = (await screen.findByTestId('nav-avatar')) as HTMLImageElement;
		expect(img.src).toContain('me.png');
		render(ProfileSettings);
		await fireEvent.click(await screen.findByTestId('avatar-remove'));
		await waitFor(() => expect(screen.queryByTestId('nav-avatar')).toBeNull());
	});
});
