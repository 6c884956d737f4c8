// Matinee's web UI. Talks only to the public HTTP API (docs/api.md).
// Catalog text is always set with textContent, never as markup.

const $ = (sel, root = document) => root.querySelector(sel);
let token = "";
let current = null; // the title shown on the title page
let alternatives = []; // the same work in other channels: [Title]
let episode = null; // "S01E02" picked on the title page
let history = []; // GET /api/history: where the user stopped, newest first
let lastSave = 0;
let overlayTimer = 0;

function rate(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB/s`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB/s`;
  return `${n} B/s`;
}

/// The live overlay: what is buffered, rates and peers, once a second.
function watchStream(streamPath) {
  clearInterval(overlayTimer);
  const statusPath = streamPath.replace("/stream/", "/api/streams/");
  const update = async () => {
    if ($("#player").hidden) return clearInterval(overlayTimer);
    const s = await api(statusPath).catch(() => null);
    if (!s) return;
    const bar = $("#player .buffer");
    bar.replaceChildren(...s.buffered.map(([a, b]) => {
      const d = el("div");
      d.style.left = `${(100 * a) / s.size}%`;
      d.style.width = `${(100 * (b - a)) / s.size}%`;
      return d;
    }));
    const pct = s.size ? Math.floor((100 * s.bufferedBytes) / s.size) : 100;
    $("#player .stats").textContent = s.problem ? `${pct}% buffered · stopped: ${s.problem}` :
      `${pct}% buffered · ↓ ${rate(s.downloadRate)} ↑ ${rate(s.uploadRate)} · ${s.peers} peers (${s.seeds} seeds)`;
  };
  update();
  overlayTimer = setInterval(update, 1000);
}

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json", ...(options.headers || {}) };
  if (options.method && options.method !== "GET") headers["X-Matinee-CSRF"] = token;
  const r = await fetch(path, { ...options, headers });
  const body = r.headers.get("Content-Type")?.startsWith("application/json") ? await r.json() : null;
  // Our errors are {"error": "..."}; Hummingbird's own {"error": {"message": "..."}}.
  if (!r.ok) throw new Error(body?.error?.message || body?.error || `HTTP ${r.status}`);
  return body;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function posterOf(entry, cls) {
  if (entry.poster) {
    const img = el("img");
    img.src = entry.poster;
    img.alt = "";
    return img;
  }
  return el("div", cls || "card", entry.title.title);
}

function progressOf(ref, ep) {
  return history.find((h) => h.entry.id === ref && (ep === undefined || (h.episode || null) === ep));
}

function tile(group, note) {
  const entry = group.entries[0];
  const b = el("button", "tile");
  b.dataset.ref = entry.id;
  b.append(posterOf(entry));
  const h = progressOf(entry.id);
  if (h && h.watched && !entry.title.seasons) b.append(el("div", "badge", "✓ Watched"));
  if (h && !h.watched && h.duration > 0) {
    const bar = el("div", "progress");
    const fill = el("div");
    fill.style.width = `${Math.round((100 * h.position) / h.duration)}%`;
    bar.append(fill);
    b.append(bar);
  }
  const year = group.year ? ` (${group.year})` : "";
  b.append(el("div", "caption", note || group.title + year));
  b.setAttribute("aria-label", group.title + year);
  b.addEventListener("click", () => openTitle(entry.id, group.entries));
  return b;
}

function row(title, groups) {
  const s = el("section", "row");
  s.append(el("h2", null, title));
  const tiles = el("div", "tiles");
  groups.forEach((g) => tiles.append(tile(g)));
  s.append(tiles);
  return s;
}

async function loadHome() {
  const rows = $("#rows");
  rows.replaceChildren();
  history = await api("/api/history");
  const resume = history.filter((h) => !h.watched && h.position > 0);
  if (resume.length) {
    const s = row("Continue watching", []);
    s.id = "continue";
    const tiles = $(".tiles", s);
    for (const h of resume) {
      const t = h.entry.title;
      tiles.append(tile({ title: t.title, year: t.year, entries: [h.entry] }, h.episode ? `${t.title} ${h.episode}` : undefined));
    }
    rows.append(s);
  }
  const channels = await api("/api/channels");
  let any = false;
  for (const c of channels) {
    const groups = await api(`/api/titles?channel=${encodeURIComponent(c.key)}&sort=added&limit=60`);
    if (groups.length === 0) continue;
    any = true;
    rows.append(row(c.name + (c.stale ? " (stale)" : ""), groups));
  }
  const genres = new Map();
  for (const g of await api("/api/titles?sort=title&limit=200")) {
    for (const name of g.entries[0].title.genres || []) {
      if (!genres.has(name)) genres.set(name, []);
      genres.get(name).push(g);
    }
  }
  for (const [name, groups] of [...genres].sort((a, b) => b[1].length - a[1].length).slice(0, 6)) {
    if (groups.length > 1) rows.append(row(name, groups));
  }
  $("#empty").hidden = any;
}

let searchTimer = 0;
async function search(words) {
  const results = $("#results");
  if (!words.trim()) {
    results.hidden = true;
    return;
  }
  const groups = await api(`/api/titles?q=${encodeURIComponent(words)}&limit=60`);
  if ($("#search").value !== words) return; // a newer search is on its way
  const tiles = $(".tiles", results);
  tiles.replaceChildren(...groups.map(tile));
  results.hidden = false;
  $("h2", results).textContent = groups.length ? `Results for “${words}”` : `Nothing found for “${words}”`;
}

function show(id) {
  for (const s of ["#home", "#title", "#player", "#channels", "#downloads", "#settings"]) $(s).hidden = s !== id;
}

function size(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

/// Downloads: what is stored, its size, whether it is shared; remove it
/// with or without its data.
async function loadDownloads(message) {
  const page = $("#downloads");
  const list = await api("/api/downloads");
  const rows = list.map((d) => {
    const tr = el("tr");
    tr.dataset.infohash = d.infoHash;
    const name = el("td");
    name.append(el("div", null, d.name), el("small", "meta", d.folder));
    const pct = d.size ? Math.floor((100 * d.done) / d.size) : 100;
    const state = d.problem ? `stopped at ${pct}%: ${d.problem}` :
      { downloading: `downloading ${pct}%`, seeding: "sharing", finished: "done, not shared", checking: "checking" }[d.state] || d.state;
    const actions = el("td");
    const keep = el("button", null, "Remove");
    keep.title = "Forget it, keep the files";
    keep.addEventListener("click", () => removeDownload(d, false));
    const wipe = el("button", null, "Remove and delete files");
    wipe.addEventListener("click", () => removeDownload(d, true));
    actions.append(keep, " ", wipe);
    tr.append(name, el("td", null, size(d.size)), el("td", d.playing ? "playing" : null, d.playing ? `${state} · playing` : state),
      el("td", null, `↑ ${size(d.uploaded)}`), actions);
    return tr;
  });
  $("tbody", page).replaceChildren(...rows);
  $(".empty", page).hidden = list.length > 0;
  const total = list.reduce((a, d) => a + d.done, 0);
  $(".summary", page).textContent = list.length ? `${list.length} downloads, ${size(total)} stored.` : "";
  $(".status", page).textContent = message || "";
  show("#downloads");
}

async function removeDownload(d, data) {
  if (data && !confirm(`Delete the files of ${d.name}?`)) return;
  const status = $("#downloads .status");
  try {
    const r = await api(`/api/downloads/${d.infoHash}${data ? "?data=1" : ""}`, { method: "DELETE" });
    await loadDownloads(r.message);
  } catch (e) {
    status.textContent = e.message;
  }
}

/// Settings: read from and saved to the daemon.
async function loadSettings(message) {
  const form = $("#settings-form");
  const s = await api("/api/settings");
  for (const [k, v] of Object.entries(s)) {
    const input = form.elements[k];
    if (!input) continue;
    if (input.type === "checkbox") input.checked = v;
    else input.value = v;
  }
  $(".status", form).textContent = message || "";
  await loadUpdate();
  show("#settings");
}

async function saveSettings() {
  const form = $("#settings-form");
  const body = {};
  for (const input of form.elements) {
    if (!input.name) continue;
    body[input.name] = input.type === "checkbox" ? input.checked : input.type === "number" ? Number(input.value) : input.value;
  }
  try {
    const r = await api("/api/settings", { method: "PUT", body: JSON.stringify(body) });
    await loadSettings(r.message);
  } catch (e) {
    $(".status", form).textContent = e.message;
  }
}

/// Matinee's own updates: the "ready" banner, and the Updates part of Settings.
let updateTimer = 0;
async function loadUpdate() {
  const u = await api("/api/update").catch(() => null);
  clearTimeout(updateTimer);
  if (!u) return null;
  const banner = $("#update-banner");
  banner.hidden = !u.ready;
  if (u.ready) {
    $(".text", banner).textContent = u.restarting ? `Installing Matinee ${u.ready.version}…` : `Matinee ${u.ready.version} is ready to install.`;
    $(".notes", banner).textContent = u.ready.notes.trim() || "This release has no notes.";
    $(".apply", banner).hidden = !u.installable || u.restarting;
  }
  $("#about").textContent = `This is Matinee ${u.version}` + (u.build ? ` (build ${u.build}).` : ", built from source (updates install only into an installed release).");
  let state = u.problem || "";
  if (!state) state = u.checking ? u.step || "Checking…" : u.lastCheck ? `Last checked ${new Date(u.lastCheck).toLocaleString()}: ${u.lastResult}.` : "Not checked yet.";
  $("#update-state").textContent = state;
  $("#check-update").disabled = Boolean(u.problem) || u.checking;
  const back = $("#rollback");
  back.hidden = !u.installable || !u.previous;
  if (u.previous) back.textContent = `Go back to Matinee ${u.previous}`;
  // Often while a check runs; otherwise now and then (the daemon checks every few hours).
  updateTimer = setTimeout(loadUpdate, u.checking ? 1000 : 60000);
  return u;
}

async function checkUpdate() {
  try {
    await api("/api/update/check", { method: "POST" });
    $("#update-state").textContent = "Looking up the release channel…";
    $("#check-update").disabled = true;
    clearTimeout(updateTimer);
    updateTimer = setTimeout(loadUpdate, 1000);
  } catch (e) {
    $("#update-state").textContent = e.message;
  }
}

/// Install (or roll back), then wait for the daemon to come back on the
/// other version and load the page again from it.
async function switchVersion(path, line) {
  const u = await api("/api/update").catch(() => null);
  try {
    const r = await api(path, { method: "POST" });
    line(r.message);
  } catch (e) {
    line(e.message);
    return;
  }
  $("#update-banner .apply").hidden = true;
  for (let i = 0; i < 180; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await fetch("/api/update", { cache: "no-store" }).then((r) => (r.ok ? r.json() : null)).catch(() => null);
    if (now && !now.restarting && now.build !== u?.build) {
      location.reload();
      return;
    }
  }
  line("Matinee did not come back after restarting: start it again (it goes back to the previous version by itself if the new one cannot start).");
}

/// The channels page: what is followed, its state, and add/refresh/remove.
async function loadChannels(message) {
  const page = $("#channels");
  const rows = [];
  for (const c of await api("/api/channels")) {
    const tr = el("tr");
    tr.dataset.key = c.key;
    const name = el("td");
    name.append(el("div", null, c.name), el("small", "meta", c.local ? "comes with Matinee" : c.address));
    const state = c.error ? ["failed", `refresh failed: ${c.error}`] : c.stale ? ["stale", "stale: expired"] : ["ok", "ok"];
    const actions = el("td");
    if (!c.local) {
      const refresh = el("button", null, "Refresh");
      refresh.addEventListener("click", () => channelAction(`/api/channels/${encodeURIComponent(c.key)}/refresh`, "POST", "Refreshing…"));
      actions.append(refresh, " ");
    }
    const remove = el("button", null, "Remove");
    remove.addEventListener("click", () => channelAction(`/api/channels/${encodeURIComponent(c.key)}`, "DELETE", "Removing…"));
    actions.append(remove);
    tr.append(name, el("td", null, String(c.titles)), el("td", null, String(c.version)), el("td", state[0], state[1]), actions);
    rows.push(tr);
  }
  $("tbody", page).replaceChildren(...rows);
  $(".status", page).textContent = message || "";
  show("#channels");
}

async function channelAction(path, method, progress, body) {
  const status = $("#channels .status");
  status.textContent = progress;
  try {
    const r = await api(path, { method, body: body ? JSON.stringify(body) : undefined });
    await loadChannels(r?.message || "Done.");
  } catch (e) {
    await loadChannels(e.message);
  }
}

async function openTitle(ref, others) {
  const entry = await api(`/api/title?ref=${encodeURIComponent(ref)}`);
  current = entry;
  if (others) alternatives = others;
  else if (!alternatives.some((e) => e.id === ref)) alternatives = [];
  episode = null;
  const t = entry.title;
  const page = $("#title");
  $(".poster-large", page).replaceChildren(posterOf(entry, "card"));
  $(".name", page).textContent = t.title;
  const bits = [t.year, t.runtime ? `${t.runtime} min` : null, (t.genres || []).join(", "), entry.channel].filter(Boolean);
  $(".meta", page).textContent = bits.join(" · ");
  $(".synopsis", page).textContent = t.synopsis || "";
  $(".license", page).textContent = t.license ? `License: ${t.license}` : "";
  // The same work from several channels: the user picks whose copy plays.
  const from = $(".source", page);
  from.replaceChildren(...alternatives.map((e) => {
    const o = el("option", null, e.channel);
    o.value = e.id;
    return o;
  }));
  from.value = entry.id;
  $(".source-label", page).hidden = alternatives.length < 2;
  const sources = t.sources || t.seasons?.[0]?.episodes?.[0]?.sources || [];
  const select = $(".quality", page);
  select.replaceChildren(...sources.map((s, i) => {
    const o = el("option", null, s.quality || (i === 0 ? "Main" : `Version ${i + 1}`));
    o.value = s.quality || "";
    return o;
  }));
  $(".quality-label", page).hidden = sources.length < 2;
  const eps = $(".episodes", page);
  eps.replaceChildren();
  for (const season of t.seasons || []) {
    eps.append(el("h3", null, season.number === 0 ? "Specials" : `Season ${season.number}`));
    for (const e of season.episodes) {
      const code = `S${String(season.number).padStart(2, "0")}E${String(e.number).padStart(2, "0")}`;
      const seen = progressOf(entry.id, code);
      const b = el("button", null, `${e.number}. ${e.title || code}${seen?.watched ? "  ✓" : ""}`);
      b.dataset.episode = code;
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => {
        episode = code;
        eps.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
        play();
      });
      eps.append(b);
    }
  }
  $(".status", page).textContent = "";
  show("#title");
  $(".play", page).focus();
  showSwarm(entry);
}

/// Swarm health on the title page: the engine's view if the torrent is
/// loaded, else what a DHT lookup finds (nothing is downloaded for it).
async function showSwarm(entry) {
  const line = $("#title .swarm");
  line.textContent = "Swarm: looking…";
  const first = entry.title.seasons?.[0];
  const ep = first ? `S${String(first.number).padStart(2, "0")}E${String(first.episodes[0].number).padStart(2, "0")}` : null;
  const params = new URLSearchParams({ ref: entry.id });
  if (ep) params.set("episode", episode || ep);
  const s = await api(`/api/swarm?${params}`).catch(() => null);
  if (current !== entry) return; // another title opened meanwhile
  if (!s || s.source === "unknown") line.textContent = "Swarm: the DHT did not answer yet";
  else if (s.source === "engine") line.textContent = `Swarm: ${s.peers} peers (${s.seeds} seeds) · ${Math.floor(100 * s.progress)}% here`;
  else line.textContent = s.peers ? `Swarm: ${s.peers} ${s.peers === 1 ? "peer" : "peers"} found on the DHT` : "Swarm: nobody found on the DHT yet";
}

// What plays now. A file the browser cannot play comes converted from
// /transcode, which counts from 0 at `start`: the film's time is start +
// currentTime, and a seek is a new request.
let playing = null; // {media, start, subtitles, label}

function filmTime() {
  const video = $("#player video");
  return (playing?.converted ? playing.start : 0) + (video.currentTime || 0);
}

function filmDuration() {
  const video = $("#player video");
  if (playing?.converted) return playing.media?.duration || 0;
  return Number.isFinite(video.duration) ? video.duration : playing?.media?.duration || 0;
}

function clock(t) {
  t = Math.max(0, Math.floor(t || 0));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(s).padStart(2, "0")}`;
}

/// Points the video at the file (or its conversion) from `at` seconds.
function load(at) {
  const video = $("#player video");
  video.replaceChildren();
  const shift = playing.converted ? at : 0;
  if (playing.converted) {
    playing.start = at;
    video.src = `${playing.media.converted}&start=${at.toFixed(3)}`;
  } else {
    video.src = playing.url;
    if (at > 1) video.addEventListener("loadedmetadata", () => { video.currentTime = at; }, { once: true });
  }
  playing.subtitles.forEach((sub, i) => {
    const t = el("track");
    t.kind = "subtitles";
    t.srclang = sub.language;
    t.label = sub.label;
    t.src = shift ? `${sub.url}&shift=${shift.toFixed(3)}` : sub.url;
    if (i === 0) t.default = true;
    video.append(t);
  });
  const timeline = $("#player .timeline");
  timeline.hidden = !playing.converted;
  timeline.max = String(Math.floor(filmDuration()));
  video.play().catch(() => {});
}

/// Seeks in film time, whichever way the file plays.
function seekTo(t) {
  if (!playing) return;
  t = Math.max(0, Math.min(t, Math.max(0, filmDuration() - 1)));
  if (playing.converted) load(t);
  else $("#player video").currentTime = t;
}

/// Switches to the converted stream (the browser refused the file as it is).
function convert(at) {
  if (!playing?.media?.converted || playing.converted) return false;
  playing.converted = true;
  $("#player .how").textContent = "Converted for the browser";
  load(at);
  return true;
}

async function play() {
  const page = $("#title");
  const status = $(".status", page);
  status.textContent = "Starting…";
  try {
    if (!episode && current.title.seasons) {
      // A series: where the user stopped, or its first episode.
      const h = progressOf(current.id);
      const s0 = current.title.seasons[0];
      episode = h?.episode || `S${String(s0.number).padStart(2, "0")}E${String(s0.episodes[0].number).padStart(2, "0")}`;
    }
    const quality = $(".quality", page).value || undefined;
    const r = await api("/api/play", { method: "POST", body: JSON.stringify({ ref: current.id, episode, quality }) });
    status.textContent = "Reading the file…";
    // What the browser can play: as it is, or converted by ffmpeg.
    const media = r.media ? await api(r.media).catch(() => null) : null;
    const saved = progressOf(current.id, episode || null);
    playing = { url: r.url, media, converted: media?.plan?.mode && media.plan.mode !== "direct", start: 0, subtitles: r.subtitles || [] };
    $("#player .label").textContent = r.label;
    $("#player .how").textContent = playing.converted ? `Converted for the browser: ${media.plan.reason}` : "";
    $("#player .next").hidden = true;
    $("#player .external-status").textContent = "";
    show("#player");
    load(saved && !saved.watched && saved.position > 1 ? saved.position : 0);
    watchStream(r.url);
    $("#player video").focus();
    status.textContent = "";
  } catch (e) {
    status.textContent = e.message;
  }
}

/// "Open in mpv / VLC": the daemon starts the player with a short-lived link.
async function openExternal(player) {
  const out = $("#player .external-status");
  try {
    const video = $("#player video");
    const at = filmTime();
    video.pause();
    const r = await api("/api/players/open", { method: "POST", body: JSON.stringify({ player, url: playing.url, title: $("#player .label").textContent, start: at }) });
    out.textContent = r.message;
  } catch (e) {
    out.textContent = e.message;
  }
}

async function saveProgress(force) {
  const video = $("#player video");
  const duration = filmDuration();
  if (!current || !playing || !video.src || !(duration > 0)) return;
  const now = Date.now();
  if (!force && now - lastSave < 5000) return;
  lastSave = now;
  const body = { ref: current.id, episode: episode || undefined, position: filmTime(), duration };
  await api("/api/history", { method: "PUT", body: JSON.stringify(body) }).catch(() => {});
  history = await api("/api/history").catch(() => history);
}

/// The episode after the one playing, if any: "S01E03".
function nextEpisode() {
  if (!episode || !current?.title.seasons) return null;
  const all = current.title.seasons.flatMap((s) => s.episodes.map((e) => `S${String(s.number).padStart(2, "0")}E${String(e.number).padStart(2, "0")}`));
  return all[all.indexOf(episode) + 1] || null;
}

async function back() {
  const video = $("#player video");
  if (!$("#player").hidden) {
    await saveProgress(true);
    video.pause();
    video.removeAttribute("src");
    video.load();
    playing = null;
    // Drawn again: watched marks may have changed.
    await openTitle(current.id).catch(() => show("#title"));
  } else {
    show("#home");
    await loadHome().catch(() => {});
    const t = current && document.querySelector(`.tile[data-ref="${CSS.escape(current.id)}"]`);
    (t || $("#search")).focus();
  }
}

// Keyboard: arrows move between tiles (left/right in a row, up/down between
// rows), Enter opens, Esc goes back; as on a TV remote.
function onKey(e) {
  if (e.key === "Escape") {
    if (!$("#home").hidden) $("#search").blur();
    else back();
    e.preventDefault();
    return;
  }
  const a = document.activeElement;
  if (!$("#player").hidden && (e.key === "ArrowLeft" || e.key === "ArrowRight") && a?.tagName !== "INPUT") {
    // As on a TV remote: ten seconds back or forward.
    seekTo(filmTime() + (e.key === "ArrowLeft" ? -10 : 10));
    e.preventDefault();
    return;
  }
  if ((e.key === "ArrowDown" || e.key === "ArrowUp") && $("#home").hidden) {
    // Other pages: up and down walk their buttons and fields in order,
    // except where the arrows already mean something (text, numbers, lists).
    const typing = a && (a.tagName === "SELECT" || (a.tagName === "INPUT" && !["checkbox", "submit", "button"].includes(a.type)));
    const page = ["#title", "#channels", "#downloads", "#settings", "#player"].map((id) => $(id)).find((p) => !p.hidden);
    if (page && !typing) {
      const items = [...page.querySelectorAll("button, input, select, video")].filter((x) => !x.hidden && x.offsetParent !== null && !x.disabled);
      const i = items.indexOf(a);
      const next = items[e.key === "ArrowDown" ? (i < 0 ? 0 : i + 1) : i - 1];
      if (next) {
        next.focus();
        next.scrollIntoView?.({ block: "nearest" });
        e.preventDefault();
      }
      return;
    }
  }
  if (e.key === "ArrowDown" && a === $("#search")) {
    $(".tile:not([hidden])")?.focus();
    e.preventDefault();
    return;
  }
  if (!a?.classList.contains("tile")) return;
  const tiles = [...a.parentElement.children];
  const i = tiles.indexOf(a);
  const rows = [...document.querySelectorAll("#home .row:not([hidden]) .tiles")];
  const r = rows.indexOf(a.parentElement);
  let next = null;
  if (e.key === "ArrowRight") next = tiles[i + 1];
  if (e.key === "ArrowLeft") next = tiles[i - 1];
  if (e.key === "ArrowDown") next = rows[r + 1]?.children[Math.min(i, rows[r + 1].children.length - 1)];
  if (e.key === "ArrowUp") next = r > 0 ? rows[r - 1].children[Math.min(i, rows[r - 1].children.length - 1)] : $("#search");
  if (next) {
    next.focus();
    next.scrollIntoView?.({ block: "nearest", inline: "nearest" });
    e.preventDefault();
  }
}

async function main() {
  token = (await api("/api/session")).csrfToken;
  const video = $("#player video");
  video.addEventListener("timeupdate", () => {
    saveProgress(false);
    const timeline = $("#player .timeline");
    if (!timeline.hidden && document.activeElement !== timeline) timeline.value = String(Math.floor(filmTime()));
    $("#player .clock").textContent = playing ? `${clock(filmTime())} / ${clock(filmDuration())}` : "";
  });
  video.addEventListener("error", () => {
    // MEDIA_ERR_SRC_NOT_SUPPORTED or DECODE: try the converted stream.
    if (playing && !playing.converted && video.error && video.error.code >= 3) convert(filmTime());
  });
  $("#player .timeline").addEventListener("change", (e) => seekTo(Number(e.target.value)));
  document.querySelectorAll("#player [data-player]").forEach((b) => b.addEventListener("click", () => openExternal(b.dataset.player)));
  $("#player .copy-link").addEventListener("click", async () => {
    const link = new URL(playing?.url || "", location.href).href;
    await navigator.clipboard?.writeText(link).catch(() => {});
    $("#player .external-status").textContent = `Link for other players (works for a few hours): ${link}`;
  });
  video.addEventListener("pause", () => saveProgress(true));
  video.addEventListener("ended", () => {
    saveProgress(true);
    const next = nextEpisode();
    const b = $("#player .next");
    b.hidden = !next;
    if (next) {
      b.textContent = `Next: ${next} ▶`;
      b.focus();
    }
  });
  $("#player .next").addEventListener("click", () => {
    episode = nextEpisode();
    play();
  });
  document.addEventListener("keydown", onKey);
  document.querySelectorAll("[data-action=back]").forEach((b) => b.addEventListener("click", back));
  $("#title .play").addEventListener("click", play);
  $("#title .source").addEventListener("change", (e) => openTitle(e.target.value));
  $("#nav-channels").addEventListener("click", () => loadChannels());
  $("#nav-downloads").addEventListener("click", () => loadDownloads().catch((e) => { $("#downloads .status").textContent = e.message; show("#downloads"); }));
  $("#nav-settings").addEventListener("click", () => loadSettings().catch((e) => { $("#settings .status").textContent = e.message; show("#settings"); }));
  $("#settings-form").addEventListener("submit", (e) => {
    e.preventDefault();
    saveSettings();
  });
  $("#nav-home").addEventListener("click", async () => {
    show("#home");
    await loadHome();
  });
  $("#add-channel").addEventListener("submit", (e) => {
    e.preventDefault();
    const address = $("#channel-address").value.trim();
    if (address) channelAction("/api/channels", "POST", "Looking the channel up on the DHT…", { address });
  });
  $("#search").addEventListener("input", (e) => {
    clearTimeout(searchTimer);
    const words = e.target.value;
    searchTimer = setTimeout(() => search(words).catch(() => {}), 150);
  });
  // The external players this machine has.
  for (const name of await api("/api/players").catch(() => [])) {
    const b = document.querySelector(`#player [data-player="${CSS.escape(name)}"]`);
    if (b) b.hidden = false;
  }
  $("#update-banner .apply").addEventListener("click", () => switchVersion("/api/update/apply", (m) => { $("#update-banner .text").textContent = m; }));
  $("#update-banner .notes-toggle").addEventListener("click", (e) => {
    const notes = $("#update-banner .notes");
    notes.hidden = !notes.hidden;
    e.target.setAttribute("aria-expanded", String(!notes.hidden));
  });
  $("#check-update").addEventListener("click", checkUpdate);
  $("#rollback").addEventListener("click", () => switchVersion("/api/update/rollback", (m) => { $("#update-state").textContent = m; }));
  loadUpdate();
  await loadHome();
  // Keyboard users start on the first tile, unless they already went
  // somewhere while the page loaded (typing a search, say).
  if (!document.activeElement || document.activeElement === document.body) $(".tile")?.focus();
}

main();
