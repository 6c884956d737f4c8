// A title's page (#/title/REF): artwork, facts, which channel's copy and
// version, the episodes, Play.

import { $, count, el, episodeCode, show } from "./dom.js";
import { api, progressOf, refreshHistory, state } from "./api.js";
import { address, go } from "./router.js";
import { posterOf } from "./home.js";

/// Fetches a title and fills its page; `shown` false leaves it hidden (the
/// player drawn from its own address needs the title, not its page).
export async function openTitle(ref, { shown = true } = {}) {
  const entry = await api(`/api/title?ref=${encodeURIComponent(ref)}`);
  state.current = entry;
  if (!state.alternatives.some((e) => e.id === ref)) state.alternatives = [];
  state.episode = null;
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
  from.replaceChildren(...state.alternatives.map((e) => {
    const o = el("option", null, e.channel);
    o.value = e.id;
    return o;
  }));
  from.value = entry.id;
  $(".source-label", page).hidden = state.alternatives.length < 2;
  const sources = t.sources || t.seasons?.[0]?.episodes?.[0]?.sources || [];
  const select = $(".quality", page);
  select.replaceChildren(...sources.map((s, i) => {
    const o = el("option", null, s.quality || (i === 0 ? "Main" : `Version ${i + 1}`));
    o.value = s.quality || "";
    return o;
  }));
  $(".quality-label", page).hidden = sources.length < 2;
  drawEpisodes(entry);
  $(".status", page).textContent = "";
  await showActions(entry);
  await showOffline(entry);
  if (shown) {
    show("#title");
    // Enter plays; the page itself opens at its top (on a phone the Play
    // button is below the poster and the synopsis).
    $(".play", page).focus({ preventScroll: true });
    window.scrollTo(0, 0);
    showSwarm(entry);
  }
  return entry;
}

/// The episodes by season: each plays, is marked watched or unwatched by
/// hand, and downloads for offline; a season downloads as a whole.
function drawEpisodes(entry) {
  const eps = $("#title .episodes");
  eps.replaceChildren();
  for (const season of entry.title.seasons || []) {
    const head = el("h3", null, season.number === 0 ? "Specials" : `Season ${season.number}`);
    const whole = el("button", "download-season", "⬇ Download season");
    whole.dataset.season = season.number;
    whole.addEventListener("click", () => download(entry, { season: season.number }));
    head.append(" ", whole);
    eps.append(head);
    for (const e of season.episodes) {
      const code = episodeCode(season.number, e.number);
      const seen = progressOf(entry.id, code);
      const line = el("div", "episode");
      const b = el("button", "ep", `${e.number}. ${e.title || code}${seen?.watched ? "  ✓" : ""}`);
      b.dataset.episode = code;
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => {
        state.episode = code;
        eps.querySelectorAll("button.ep").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
        go(address("play", entry.id, code));
      });
      const mark = el("button", "ep-watched", seen?.watched ? "Mark unwatched" : "Mark watched");
      mark.dataset.episode = code;
      mark.title = seen?.watched ? `Mark ${code} as not watched` : `Mark ${code} as watched`;
      mark.addEventListener("click", () => markWatched(entry, code, seen));
      const down = el("button", "ep-download", "⬇");
      down.dataset.episode = code;
      down.title = `Download ${code} for offline`;
      down.addEventListener("click", () => toggleOffline(entry, code));
      line.append(b, mark, down);
      eps.append(line);
    }
  }
}

async function markWatched(entry, code, seen) {
  const duration = seen?.duration > 0 ? seen.duration : 1;
  const body = { ref: entry.id, position: seen?.watched ? 0 : duration, duration };
  if (code) body.episode = code;
  await api("/api/history", { method: "PUT", body: JSON.stringify(body) }).catch((e) => {
    $("#title .status").textContent = e.message;
  });
  await refreshHistory();
  if (state.current !== entry) return;
  if (code) drawEpisodes(entry);
  await showActions(entry);
  await showOffline(entry);
}

// MARK: Download for offline

let offlineTimer = null;

/// What is kept for offline, on the title page: the film's Download button,
/// or each episode's, with progress while it downloads (asked again every
/// 2 s while one is not ready and the page is shown).
async function showOffline(entry) {
  clearTimeout(offlineTimer);
  const items = (await api("/api/offline").catch(() => [])).filter((i) => i.ref === entry.id);
  if (state.current !== entry) return;
  const label = (i) => {
    if (!i) return null;
    if (i.state === "ready") return "✓ Downloaded";
    if (i.state === "stopped") return `Stopped: ${i.problem || "see Downloads"}`;
    if (i.state === "looking" || !i.size) return "Looking for peers…";
    return `Downloading ${Math.floor((100 * i.done) / i.size)}%`;
  };
  const film = $("#title .download");
  film.hidden = Boolean(entry.title.seasons);
  const mine = items.find((i) => !i.episode);
  film.textContent = label(mine) || "⬇ Download";
  film.title = mine ? "Kept for offline; press to remove the copy" : "Download the whole film, to watch with no network";
  film.dataset.state = mine?.state || "";
  film.onclick = () => toggleOffline(entry, null);
  for (const b of document.querySelectorAll("#title .ep-download")) {
    const i = items.find((x) => x.episode === b.dataset.episode);
    b.textContent = i ? (i.state === "ready" ? "✓ Offline" : i.size ? `${Math.floor((100 * i.done) / i.size)}%` : "…") : "⬇";
    b.dataset.state = i?.state || "";
  }
  for (const b of document.querySelectorAll("#title .download-season")) {
    const season = (entry.title.seasons || []).find((s) => String(s.number) === b.dataset.season);
    const codes = (season?.episodes || []).map((e) => episodeCode(season.number, e.number));
    const kept = items.filter((i) => codes.includes(i.episode));
    b.hidden = kept.length === codes.length;
  }
  if (items.some((i) => i.state !== "ready")) {
    offlineTimer = setTimeout(() => { if (!$("#title").hidden) showOffline(entry); }, 2000);
  }
}

async function download(entry, what) {
  const status = $("#title .status");
  try {
    const r = await api("/api/offline", { method: "POST", body: JSON.stringify({ ref: entry.id, ...what }) });
    status.textContent = r.message;
  } catch (e) {
    status.textContent = e.message;
  }
  await showOffline(entry);
}

/// Download one (the film: `code` null), or remove its offline copy.
async function toggleOffline(entry, code) {
  const items = await api("/api/offline").catch(() => []);
  const kept = items.find((i) => i.ref === entry.id && (i.episode || null) === code);
  if (!kept) return download(entry, code ? { episode: code } : {});
  if (!confirm(`Remove the offline copy of ${kept.label}? Its files are deleted.`)) return;
  const params = new URLSearchParams({ ref: entry.id });
  if (code) params.set("episode", code);
  try {
    const r = await api(`/api/offline?${params}`, { method: "DELETE" });
    $("#title .status").textContent = r.message;
  } catch (e) {
    $("#title .status").textContent = e.message;
  }
  await showOffline(entry);
}

/// My list, watched by hand, and Remove from Continue watching.
async function showActions(entry) {
  const page = $("#title");
  const mine = await api("/api/mylist").catch(() => []);
  const on = mine.some((e) => e.id === entry.id);
  const list = $(".mylist", page);
  list.textContent = on ? "✓ On my list" : "+ My list";
  list.setAttribute("aria-pressed", String(on));
  list.onclick = async () => {
    await api(`/api/mylist?ref=${encodeURIComponent(entry.id)}`, { method: on ? "DELETE" : "PUT" }).catch((e) => {
      $(".status", page).textContent = e.message;
    });
    await showActions(entry);
  };
  // A film is marked as a whole; a series' episodes play through.
  const mark = $(".mark-watched", page);
  const h = progressOf(entry.id);
  mark.hidden = Boolean(entry.title.seasons);
  mark.textContent = h?.watched ? "Mark as unwatched" : "Mark as watched";
  mark.onclick = () => markWatched(entry, null, h);
  const hide = $(".hide-continue", page);
  hide.hidden = !h || h.hidden;
  hide.onclick = async () => {
    await api(`/api/history?ref=${encodeURIComponent(entry.id)}`, { method: "DELETE" }).catch(() => {});
    await refreshHistory();
    await showActions(entry);
  };
}

/// #/title/REF, drawn again each time (watched marks may have changed).
export async function renderTitle([ref]) {
  if (!ref) return go("#/", { replace: true });
  await refreshHistory();
  try {
    await openTitle(ref);
  } catch (e) {
    show("#title");
    $("#title .name").textContent = "";
    $("#title .status").textContent = e.message;
  }
}

/// Swarm health on the title page: the engine's view if the torrent is
/// loaded, else what a DHT lookup finds (nothing is downloaded for it).
async function showSwarm(entry) {
  const line = $("#title .swarm");
  line.textContent = "Swarm: looking…";
  const first = entry.title.seasons?.[0];
  const ep = first ? episodeCode(first.number, first.episodes[0].number) : null;
  const params = new URLSearchParams({ ref: entry.id });
  if (ep) params.set("episode", state.episode || ep);
  const s = await api(`/api/swarm?${params}`).catch(() => null);
  if (state.current !== entry) return; // another title opened meanwhile
  if (!s || s.source === "unknown") line.textContent = "Swarm: the DHT did not answer yet";
  else if (s.source === "engine") line.textContent = `Swarm: ${count(s.peers, "peer")} (${count(s.seeds, "seed")}) · ${Math.floor(100 * s.progress)}% here`;
  else line.textContent = s.peers ? `Swarm: ${count(s.peers, "peer")} found on the DHT` : "Swarm: nobody found on the DHT yet";
}
