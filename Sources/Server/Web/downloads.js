// Downloads (#/downloads): what is stored, its size, whether it is shared;
// remove it with or without its data.

import { $, count, el, show, size } from "./dom.js";
import { api } from "./api.js";

export async function renderDownloads(message) {
  const page = $("#downloads");
  let list;
  try {
    list = await api("/api/downloads");
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
  $(".empty", page).hidden = list.length > 0;
  const total = list.reduce((a, d) => a + d.done, 0);
  $(".summary", page).textContent = list.length ? `${count(list.length, "download")}, ${size(total)} stored.` : "";
  $(".status", page).textContent = typeof message === "string" ? message : "";
  show("#downloads");
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
