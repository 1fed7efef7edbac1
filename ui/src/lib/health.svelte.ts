import { api, type Health } from './api';
import { Loadable } from './loadable.svelte';

/** App-wide health snapshot, shown in the status bar and on the dashboard. */
export const appHealth = new Loadable<Health>(() => api.health());
