// Downloads (#/downloads): what is kept for offline and how far it came;
// what is stored, its size, whether it is shared; remove it with or without
// its data. Asked again every 2 s while something downloads.

import { $, count, el, show, shown, size } from "./dom.js";
import { api } from "./api.js";
import { address, go } from "./router.js";

let timer = null;

export async function renderDownloads(message) {
  clearTimeout(timer);
  const page = $("#downloads");
  let list, offline;
  try {
    [list, offline] = await Promise.all([api("/api/downloads"), api("/api/offline").catch(() => [])]);
  } catch (e) {
    $(".status", page).textContent = e.message;
    show("#downloads");
    return;
  }
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
  $(".offline", page).hidden = offline.length === 0;
  $(".offline-list", page).replaceChildren(...offline.map(offlineRow));
  $(".empty", page).hidden = list.length > 0;
  const total = list.reduce((a, d) => a + d.done, 0);
  $(".summary", page).textContent = list.length ? `${count(list.length, "download")}, ${size(total)} stored.` : "";
  if (typeof message === "string") $(".status", page).textContent = message;
  else if (shown() !== "#downloads") $(".status", page).textContent = "";
  show("#downloads");
  const busy = list.some((d) => d.state === "downloading" || d.state === "checking") || offline.some((i) => i.state !== "ready");
  if (busy) timer = setTimeout(() => { if (shown() === "#downloads") renderDownloads(); }, 2000);
}

/// A film or episode kept for offline: its state, a bar, Play and Remove.
function offlineRow(i) {
  const li = el("li");
  li.dataset.ref = i.ref;
  if (i.episode) li.dataset.episode = i.episode;
  li.dataset.state = i.state;
  const pct = i.size ? Math.floor((100 * i.done) / i.size) : 0;
  const text = {
    ready: `ready to play offline · ${size(i.size)}`,
    downloading: `downloading ${pct}% of ${size(i.size)}`,
    looking: "looking for peers…",
    stopped: `stopped at ${pct}%: ${i.problem || ""}`,
  }[i.state] || i.state;
  const bar = el("div", "bar");
  const fill = el("div");
  fill.style.width = `${i.state === "ready" ? 100 : pct}%`;
  bar.append(fill);
  const play = el("button", "play-offline", "▶ Play");
  play.addEventListener("click", () => go(address("play", i.ref, i.episode)));
  const remove = el("button", "remove-offline", "Remove");
  remove.title = "Delete the offline copy";
  remove.addEventListener("click", async () => {
    if (!confirm(`Remove the offline copy of ${i.label}? Its files are deleted.`)) return;
    const params = new URLSearchParams({ ref: i.ref });
    if (i.episode) params.set("episode", i.episode);
    try {
      const r = await api(`/api/offline?${params}`, { method: "DELETE" });
      await renderDownloads(r.message);
    } catch (e) {
      $("#downloads .status").textContent = e.message;
    }
  });
  li.append(el("span", "name", i.label), el("span", "state", text), bar, play, remove);
  return li;
}

async function removeDownload(d, data) {
  if (data && !confirm(`Delete the files of ${d.name}?`)) return;
  try {
    const r = await api(`/api/downloads/${d.infoHash}${data ? "?data=1" : ""}`, { method: "DELETE" });
    await renderDownloads(r.message);
  } catch (e) {
    $("#downloads .status").textContent = e.message;
  }
}
