// The signed-in (or local) user's avatar as the whole UI sees it: the sidebar's account item
// and Settings → Profile share it, so a change shows everywhere at once.
import { avatarApi } from './api';
import { Loadable } from './loadable.svelte';

/** A URL for the avatar in force; `null` when none is set. */
export const appAvatar = new Loadable<string | null>(() => avatarApi.preview());
