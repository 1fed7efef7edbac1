// Pure single-page app: no server rendering, no prerendering.
// adapter-static writes a fallback index.html that boots every route.
export const ssr = false;
export const prerender = false;
