// The daemon's public HTTP API (docs/api.md), and what the pages share.

let token = "";

/// Asks for the CSRF token every change must carry.
export async function startSession() {
  token = (await api("/api/session")).csrfToken;
}

export async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json", ...(options.headers || {}) };
  if (options.method && options.method !== "GET") headers["X-Matinee-CSRF"] = token;
  const r = await fetch(path, { ...options, headers });
  const body = r.headers.get("Content-Type")?.startsWith("application/json") ? await r.json() : null;
  // Our errors are {"error": "..."}; Hummingbird's own {"error": {"message": "..."}}.
  if (!r.ok) {
    const e = new Error(body?.error?.message || body?.error || `HTTP ${r.status}`);
    e.fields = body?.fields || {}; // Settings: the reason for each field refused
    throw e;
  }
  return body;
}

/// What the pages share: the title open now, the same work in other
/// channels, the episode picked, and where the user stopped in each title.
export const state = {
  current: null, // the Title shown on the title page
  alternatives: [], // [Title]
  episode: null, // "S01E02"
  watched: [], // GET /api/history, newest first
};

export function progressOf(ref, ep) {
  return state.watched.find((h) => h.entry.id === ref && (ep === undefined || (h.episode || null) === ep));
}

export async function refreshHistory() {
  state.watched = await api("/api/history").catch(() => state.watched);
}
