// Cast to a TV from the player (issue 14): the renderers on the network
// (DLNA/UPnP TVs and Chromecasts), and the player as the remote while one
// plays the film, with the subtitles shown here.
// The daemon serves the TV the stream on its LAN face; this page only asks.

import { $, clock, el } from "./dom.js";
import { api } from "./api.js";
import { nowPlaying, seekTo } from "./player.js";

let timer = 0;
let last = null; // the cast's last status

function line(text) {
  $("#player .cast-status").textContent = text;
}

/// Lists the renderers (searching again with `refresh`), one button each.
async function openMenu(refresh = false) {
  const menu = $("#player .cast-menu");
  menu.hidden = false;
  const list = $(".cast-list", menu);
  list.replaceChildren();
  line("Looking for TVs on your network…");
  const found = await api(`/api/cast/renderers${refresh ? "?refresh=1" : ""}`).catch((e) => (line(e.message), null));
  if (!found) return;
  line(found.length ? "" : "No TV answered. Is it on, and on the same network as this computer?");
  for (const r of found) {
    const b = el("button", "cast-to");
    b.title = `${r.model} at ${r.host}`;
    b.append(el("span", "cast-name", r.name), el("span", "cast-kind", r.kind === "chromecast" ? "Chromecast" : "DLNA"));
    b.addEventListener("click", () => castTo(r));
    const item = el("li");
    item.append(b);
    list.append(item);
  }
}

async function castTo(renderer) {
  const now = nowPlaying();
  if (!now) return;
  const [, infoHash, file] = now.url.split("?")[0].match(/\/stream\/([0-9a-f]{40})\/(\d+)/) || [];
  if (!infoHash) return line("This film cannot be cast.");
  line(`Starting on ${renderer.name}…`);
  const body = { infoHash, file: Number(file), title: now.title, renderer: renderer.udn, start: now.time };
  if (now.subtitles) {
    const q = new URL(now.subtitles.url, location.href).searchParams;
    body.subtitles = { ref: q.get("ref"), infohash: q.get("infohash"), index: Number(q.get("index")) };
    if (/^[a-z-]{2,16}$/i.test(now.subtitles.language || "")) body.subtitles.language = now.subtitles.language;
  }
  try {
    const status = await api("/api/cast", { method: "POST", body: JSON.stringify(body) });
    $("#player video").pause();
    $("#player .cast-menu").hidden = true;
    line("");
    showRemote(status);
  } catch (e) {
    line(`Cannot cast: ${e.message}`);
  }
}

/// The remote: what the TV does, and buttons that drive it.
function showRemote(status) {
  last = status;
  const remote = $("#player .remote");
  remote.hidden = false;
  $(".remote-what", remote).textContent = `Playing on ${status.renderer.name}`;
  const at = status.position !== undefined && status.position !== null ? clock(status.position) : "–";
  const of = status.duration ? ` / ${clock(status.duration)}` : "";
  $(".remote-state", remote).textContent = status.problem ? `${status.state}: ${status.problem}` : `${status.state} · ${at}${of}`;
  const toggle = $(".remote-toggle", remote);
  toggle.textContent = status.state === "playing" ? "❚❚" : "▶";
  toggle.setAttribute("aria-label", status.state === "playing" ? "Pause on the TV" : "Play on the TV");
  clearTimeout(timer);
  timer = setTimeout(poll, 1000);
}

async function poll() {
  if ($("#player").hidden || $("#player .remote").hidden) return;
  try {
    showRemote(await api("/api/cast"));
  } catch {
    // Nothing is cast any more (stopped elsewhere).
    hideRemote();
  }
}

async function control(action, value) {
  try {
    const status = await api("/api/cast/control", { method: "POST", body: JSON.stringify({ action, value }) });
    if (status && action !== "stop") showRemote(status);
    return status;
  } catch (e) {
    $(".remote-state", $("#player .remote")).textContent = e.message;
    return null;
  }
}

function hideRemote() {
  clearTimeout(timer);
  $("#player .remote").hidden = true;
}

/// Back to this screen, where the TV was.
async function stopCasting() {
  const status = await control("stop");
  hideRemote();
  const at = status?.position ?? last?.position;
  if (at) seekTo(at);
  $("#player video").play().catch(() => {});
}

/// Whether the player is a remote now (keys then drive the TV).
export function casting() {
  return !$("#player .remote").hidden;
}

/// Leaving the player stops watching the cast, not the TV.
export function leaveCast() {
  clearTimeout(timer);
  $("#player .cast-menu").hidden = true;
  $("#player .remote").hidden = true;
}

export function wireCast() {
  $("#player .cast-open").addEventListener("click", () => openMenu(false));
  $("#player .cast-refresh").addEventListener("click", () => openMenu(true));
  $("#player .cast-close").addEventListener("click", () => ($("#player .cast-menu").hidden = true));
  $("#player .remote-toggle").addEventListener("click", () => control(last?.state === "playing" ? "pause" : "play"));
  $("#player .remote-back").addEventListener("click", () => control("seek", Math.max(0, (last?.position || 0) - 10)));
  $("#player .remote-forward").addEventListener("click", () => control("seek", (last?.position || 0) + 10));
  $("#player .remote-volume").addEventListener("change", (e) => control("volume", Number(e.target.value)));
  $("#player .remote-stop").addEventListener("click", stopCasting);
}
