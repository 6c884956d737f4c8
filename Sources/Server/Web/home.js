// Home: Continue watching, a row per channel, rows by genre; search results
// above them (#/search/WORDS).

import { $, el, episodesOf, firstTile, show } from "./dom.js";
import { api, progressOf, state } from "./api.js";
import { address, go } from "./router.js";

function posterOf(entry, cls) {
  if (entry.poster) {
    const img = el("img");
    img.src = entry.poster;
    img.alt = "";
    return img;
  }
  // No artwork: a card of the title's own colour, so a row of them is not
  // a wall of identical tiles.
  const card = el("div", cls || "card", entry.title.title);
  let h = 0;
  for (const ch of entry.title.title) h = (h * 31 + ch.codePointAt(0)) % 360;
  card.style.background = `linear-gradient(160deg, hsl(${h} 45% 38%), hsl(${(h + 40) % 360} 50% 14%))`;
  return card;
}
export { posterOf };

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
  b.addEventListener("click", () => {
    state.alternatives = group.entries;
    go(address("title", entry.id));
  });
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

/// Continue watching, one tile per title from its latest history: a film
/// or episode stopped midway resumes; a series whose episode was finished
/// offers the next one, and a finished series stays (marked watched) until
/// the user removes it from the row (its title page).
function continueTiles(history) {
  const latest = new Map();
  for (const h of history) if (!latest.has(h.entry.id)) latest.set(h.entry.id, h);
  const out = [];
  for (const h of latest.values()) {
    if (h.hidden) continue;
    const t = h.entry.title;
    const group = { title: t.title, year: t.year, entries: [h.entry] };
    if (!t.seasons) {
      if (!h.watched && h.position > 0) out.push(tile(group));
      continue;
    }
    const all = episodesOf(t);
    if (!h.watched) out.push(tile(group, `${t.title} ${h.episode}`));
    else if (all[all.indexOf(h.episode) + 1]) out.push(tile(group, `${t.title} · next: ${all[all.indexOf(h.episode) + 1]}`));
    else out.push(tile(group, `${t.title} · ✓ watched`));
  }
  return out;
}

async function loadRows() {
  const rows = $("#rows");
  state.watched = await api("/api/history");
  const out = [];
  const resume = continueTiles(state.watched);
  if (resume.length) {
    const s = row("Continue watching", []);
    s.id = "continue";
    $(".tiles", s).append(...resume);
    out.push(s);
  }
  const mine = await api("/api/mylist").catch(() => []);
  if (mine.length) {
    const s = row("My list", mine.map((e) => ({ title: e.title.title, year: e.title.year, entries: [e] })));
    s.id = "mylist";
    out.push(s);
  }
  let any = false;
  for (const c of await api("/api/channels")) {
    const groups = await api(`/api/titles?channel=${encodeURIComponent(c.key)}&sort=added&limit=60`);
    if (groups.length === 0) continue;
    any = true;
    const r = row(c.name + (c.stale ? " (stale)" : ""), groups);
    // The bundled channel's films come from the internet's swarms; another
    // channel's row says what the channel says of itself (the demo's: that
    // it plays offline).
    const note = c.local ? "openly licensed, needs the internet" : c.about;
    if (note) {
      const small = el("small", "row-note", ` · ${note.length > 120 ? note.slice(0, 119) + "…" : note}`);
      small.title = note;
      $("h2", r).append(small);
    }
    out.push(r);
  }
  const genres = new Map();
  const all = await api("/api/titles?sort=title&limit=200");
  for (const g of all) {
    for (const name of g.entries[0].title.genres || []) {
      if (!genres.has(name)) genres.set(name, []);
      genres.get(name).push(g);
    }
  }
  for (const [name, groups] of [...genres].sort((a, b) => b[1].length - a[1].length).slice(0, 6)) {
    if (groups.length > 1) out.push(row(name, groups));
  }
  rows.replaceChildren(...out);
  $("#empty").hidden = any;
  fillFilters([...genres.keys()].sort(), [...new Set(all.map((g) => g.year).filter(Boolean))].sort((a, b) => b - a));
}

// MARK: The wall's filters (#/browse/GENRE/YEAR/SORT, "all" and "any" for none)

/// The genre and year menus, from the titles the wall shows; what is chosen stays.
function fillFilters(genres, years) {
  const form = $("#wall-filter");
  for (const [name, values, none] of [["genre", genres, "All genres"], ["year", years, "Any year"]]) {
    const select = form.elements[name];
    const chosen = select.value;
    const options = [none, ...values].map((v) => {
      const o = el("option", null, String(v));
      o.value = v === none ? "" : String(v);
      return o;
    });
    select.replaceChildren(...options);
    select.value = values.map(String).includes(chosen) ? chosen : "";
  }
}

function chosenFilters() {
  const f = $("#wall-filter").elements;
  return { genre: f.genre.value, year: f.year.value, sort: f.sort.value };
}

export function onFilterChange() {
  const { genre, year, sort } = chosenFilters();
  if (!genre && !year && !sort) return go("#/");
  go(address("browse", genre || "all", year || "any", sort || "added"), { replace: location.hash.startsWith("#/browse/") });
}

/// #/browse/…: every title of that genre and year, in that order, as a grid
/// in place of the rows.
export async function renderBrowse([genre = "all", year = "any", sort = "added"]) {
  genre = genre === "all" ? "" : genre;
  year = /^\d{4}$/.test(year) ? year : "";
  sort = ["added", "year", "title"].includes(sort) ? sort : "added";
  $("#results").hidden = true;
  show("#home");
  if (!$("#rows").children.length) await loadRows().catch(() => {});
  const form = $("#wall-filter").elements;
  for (const [select, v] of [[form.genre, genre], [form.year, year]]) {
    if (!v || [...select.options].some((o) => o.value === v)) continue;
    const o = el("option", null, v);
    o.value = v;
    select.append(o);
  }
  form.genre.value = genre;
  form.year.value = year;
  form.sort.value = sort;
  const params = new URLSearchParams({ sort, limit: "200" });
  if (genre) params.set("genre", genre);
  if (year) params.set("year", year);
  const groups = await api(`/api/titles?${params}`).catch(() => []);
  const browse = $("#browse");
  $(".tiles", browse).replaceChildren(...groups.map((g) => tile(g)));
  const what = [genre || "All titles", year].filter(Boolean).join(", ");
  const order = { added: "recently added first", year: "newest first", title: "by title" }[sort];
  $("h2", browse).textContent = groups.length ? `${what} · ${order}` : `No titles for ${what}`;
  browse.hidden = false;
  $("#rows").hidden = true;
  focusFrom();
}

/// #/: the wall, with the focus back on the title the user came from.
export async function renderHome() {
  $("#results").hidden = true;
  $("#browse").hidden = true;
  $("#rows").hidden = false;
  $("#wall-filter").reset();
  if ($("#search") !== document.activeElement) $("#search").value = "";
  show("#home");
  await loadRows().catch(() => {});
  focusFrom();
}

/// Keyboard users land on the title they came from, or the first tile,
/// unless they went on typing a search meanwhile.
function focusFrom() {
  if (document.activeElement === $("#search") || $("#home").hidden) return;
  const from = state.current &&
    [...document.querySelectorAll(`#home .tile[data-ref="${CSS.escape(state.current.id)}"]`)].find((t) => t.offsetParent !== null);
  (from || firstTile())?.focus();
}

/// #/search/WORDS: results above the wall.
export async function renderSearch([words = ""]) {
  const box = $("#search");
  if (box.value !== words && box !== document.activeElement) box.value = words;
  show("#home");
  $("#browse").hidden = true;
  $("#rows").hidden = false;
  const rows = $("#rows").children.length ? null : loadRows().catch(() => {});
  await search(words);
  await rows;
  focusFrom();
}

async function search(words) {
  const results = $("#results");
  if (!words.trim()) {
    results.hidden = true;
    return;
  }
  const groups = await api(`/api/titles?q=${encodeURIComponent(words)}&limit=60`).catch(() => []);
  if ($("#search").value !== words) return; // a newer search is on its way
  $(".tiles", results).replaceChildren(...groups.map((g) => tile(g)));
  results.hidden = false;
  $("h2", results).textContent = groups.length ? `Results for “${words}”` : `Nothing found for “${words}”`;
}

/// Typing in the search box, from any page: the results page follows it.
/// The first letter makes a history entry; the next ones change it.
let searchTimer = 0;
export function onSearchInput(e) {
  clearTimeout(searchTimer);
  const words = e.target.value;
  searchTimer = setTimeout(() => {
    const onResults = location.hash.startsWith("#/search/");
    if (words.trim()) go(address("search", words), { replace: onResults });
    else if (onResults) go("#/", { replace: true }); // the box emptied: the wall again
  }, 150);
}
