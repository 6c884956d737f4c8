// Channels (#/channels): what is followed, its state; add, refresh, remove.

import { $, el, show } from "./dom.js";
import { api } from "./api.js";

export async function renderChannels(message) {
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
    remove.addEventListener("click", () => {
      if (!confirm(`Stop following ${c.name}? Its titles leave the wall; what you downloaded from it stays.`)) return;
      channelAction(`/api/channels/${encodeURIComponent(c.key)}`, "DELETE", "Removing…");
    });
    actions.append(remove);
    tr.append(name, el("td", null, String(c.titles)), el("td", null, String(c.version)), el("td", state[0], state[1]), actions);
    rows.push(tr);
  }
  $("tbody", page).replaceChildren(...rows);
  $(".status", page).textContent = typeof message === "string" ? message : "";
  show("#channels");
}

async function channelAction(path, method, progress, body) {
  const status = $("#channels .status");
  status.textContent = progress;
  try {
    const r = await api(path, { method, body: body ? JSON.stringify(body) : undefined });
    await renderChannels(r?.message || "Done.");
  } catch (e) {
    await renderChannels(e.message);
  }
}

export function wireChannels() {
  $("#add-channel").addEventListener("submit", (e) => {
    e.preventDefault();
    const address = $("#channel-address").value.trim();
    if (address) channelAction("/api/channels", "POST", "Looking the channel up on the DHT…", { address });
  });
}
