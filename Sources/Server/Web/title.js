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
  const eps = $(".episodes", page);
  eps.replaceChildren();
  for (const season of t.seasons || []) {
    eps.append(el("h3", null, season.number === 0 ? "Specials" : `Season ${season.number}`));
    for (const e of season.episodes) {
      const code = episodeCode(season.number, e.number);
      const seen = progressOf(entry.id, code);
      const b = el("button", null, `${e.number}. ${e.title || code}${seen?.watched ? "  ✓" : ""}`);
      b.dataset.episode = code;
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => {
        state.episode = code;
        eps.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
        go(address("play", entry.id, code));
      });
      eps.append(b);
    }
  }
  $(".status", page).textContent = "";
  await showActions(entry);
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
  mark.onclick = async () => {
    const duration = h?.duration > 0 ? h.duration : 1;
    const body = { ref: entry.id, position: h?.watched ? 0 : duration, duration };
    await api("/api/history", { method: "PUT", body: JSON.stringify(body) }).catch(() => {});
    await refreshHistory();
    await showActions(entry);
  };
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
