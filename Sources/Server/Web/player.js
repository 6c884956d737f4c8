// The player (#/play/REF[/EPISODE]): the video, its clock and timeline, the
// live overlay, subtitles, "Open in mpv/VLC", where the user stopped.
//
// A file the browser cannot play comes converted from /transcode, which
// counts from 0 at `start`: the film's time is start + currentTime, and a
// seek is a new request.

import { $, clock, count, el, episodesOf, languageName, rate, show, size } from "./dom.js";
import { api, progressOf, refreshHistory, state } from "./api.js";
import { address, back, here, mark } from "./router.js";
import { openTitle } from "./title.js";

let playing = null; // {ref, episode, url, media, converted, start, subtitles}
let overlayTimer = 0;
let lastSave = 0;
const video = () => $("#player video");

/// The live overlay: what is buffered, rates and peers, once a second.
function watchStream(streamPath) {
  clearInterval(overlayTimer);
  const statusPath = streamPath.replace("/stream/", "/api/streams/");
  const update = async () => {
    if ($("#player").hidden) return clearInterval(overlayTimer);
    const s = await api(statusPath).catch(() => null);
    if (!s) return;
    $("#player .buffer").replaceChildren(...s.buffered.map(([a, b]) => {
      const d = el("div");
      d.style.left = `${(100 * a) / s.size}%`;
      d.style.width = `${(100 * (b - a)) / s.size}%`;
      return d;
    }));
    const pct = s.size ? Math.floor((100 * s.bufferedBytes) / s.size) : 100;
    $("#player .stats").textContent = s.problem ? `${pct}% buffered · stopped: ${s.problem}` :
      `${pct}% buffered · ↓ ${rate(s.downloadRate)} ↑ ${rate(s.uploadRate)} · ${count(s.peers, "peer")} (${count(s.seeds, "seed")})`;
  };
  update();
  overlayTimer = setInterval(update, 1000);
}

function filmTime() {
  return (playing?.converted ? playing.start : 0) + (video().currentTime || 0);
}

function filmDuration() {
  const v = video();
  if (playing?.converted) return playing.media?.duration || 0;
  return Number.isFinite(v.duration) ? v.duration : playing?.media?.duration || 0;
}

/// Points the video at the file (or its conversion) from `at` seconds.
function load(at) {
  const v = video();
  v.replaceChildren();
  const shift = playing.converted ? at : 0;
  if (playing.converted) {
    playing.start = at;
    const audio = playing.audio !== undefined ? `&audio=${playing.audio}` : "";
    v.src = `${playing.media.converted}&start=${at.toFixed(3)}${audio}`;
  } else {
    v.src = playing.url;
    if (at > 1) v.addEventListener("loadedmetadata", () => { v.currentTime = at; }, { once: true });
  }
  playing.subtitles.forEach((sub, i) => {
    const t = el("track");
    t.kind = "subtitles";
    t.srclang = sub.language;
    // A bare code ("fr", "fra") is named: "French".
    t.label = /^[a-z]{2,3}$/i.test(sub.label) ? languageName(sub.label) : sub.label;
    t.src = shift ? `${sub.url}&shift=${shift.toFixed(3)}` : sub.url;
    if (i === 0) t.default = true;
    // A track loaded again (a seek in a converted file) keeps the offset.
    t.addEventListener("load", () => {
      if (!subtitleOffset) return;
      for (const c of Array.from(t.track.cues || [])) {
        c.startTime = Math.max(0, c.startTime + subtitleOffset / 10);
        c.endTime = Math.max(0, c.endTime + subtitleOffset / 10);
      }
    });
    v.append(t);
  });
  $("#player .subtitle-tools").hidden = playing.subtitles.length === 0;
  // One clock: a file that plays as it is has the browser's controls; a
  // converted one (whose own clock starts at 0 at each seek) has ours.
  v.controls = !playing.converted;
  $("#player .controls").hidden = !playing.converted;
  $("#player .timeline").max = String(Math.floor(filmDuration()));
  v.play().catch(() => {});
}

export function togglePlay() {
  const v = video();
  if (v.paused) v.play().catch(() => {});
  else v.pause();
}

export function toggleMute() {
  video().muted = !video().muted;
}

export function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else $("#player .screen").requestFullscreen?.().catch(() => {});
}

/// The first subtitle track on or off.
export function toggleSubtitles() {
  const t = video().textTracks[0];
  if (t) t.mode = t.mode === "showing" ? "hidden" : "showing";
}

// MARK: Subtitle size and timing

// Size in percent of the browser's (remembered); timing offset in tenths of
// a second for what plays now (later: positive), applied to the cues.
let subtitleSize = 100;
let subtitleOffset = 0; // tenths of a second
const sizes = [50, 75, 100, 125, 150, 200, 250];

/// One of style.css's `data-cue-size` rules (the page's policy allows no
/// inline style, so the sizes are written there).
function applySubtitleSize() {
  video().dataset.cueSize = String(subtitleSize);
  $("#player .sub-size").textContent = `${subtitleSize}%`;
}

export function resizeSubtitles(step) {
  const i = Math.max(0, Math.min(sizes.length - 1, sizes.indexOf(subtitleSize) + step));
  subtitleSize = sizes[i];
  applySubtitleSize();
  try {
    localStorage.setItem("matinee.subtitleSize", String(subtitleSize));
  } catch {}
}

/// Moves every cue of every track by `tenths` of a second.
function shiftCues(tenths) {
  for (const t of video().textTracks) {
    for (const c of Array.from(t.cues || [])) {
      c.startTime = Math.max(0, c.startTime + tenths / 10);
      c.endTime = Math.max(0, c.endTime + tenths / 10);
    }
  }
}

export function shiftSubtitles(tenths) {
  if (!playing?.subtitles.length) return;
  subtitleOffset += tenths;
  shiftCues(tenths);
  const s = (Math.abs(subtitleOffset) / 10).toFixed(1);
  $("#player .sub-offset").textContent = subtitleOffset === 0 ? "in time" : subtitleOffset > 0 ? `${s} s later` : `${s} s earlier`;
}

/// The swarm overlay on or off; remembered.
export function toggleOverlay(on = $("#player .overlay").hidden) {
  $("#player .overlay").hidden = !on;
  $("#player .overlay-toggle").setAttribute("aria-pressed", String(on));
  try {
    localStorage.setItem("matinee.overlay", on ? "on" : "off");
  } catch {}
}

/// Seeks in film time, whichever way the file plays.
export function seekTo(t) {
  if (!playing) return;
  t = Math.max(0, Math.min(t, Math.max(0, filmDuration() - 1)));
  if (playing.converted) load(t);
  else video().currentTime = t;
}

/// What plays, for casting it: the stream's URL, its label and the film's time.
export function nowPlaying() {
  if (!playing) return null;
  // The subtitles shown now, if any: the TV shows the same.
  const shown = Array.from(video().textTracks).findIndex((t) => t.mode === "showing");
  const sub = shown >= 0 ? playing.subtitles[shown] : null;
  return { url: playing.url, title: $("#player .label").textContent, time: filmTime(), subtitles: sub };
}

export function seekBy(seconds) {
  seekTo(filmTime() + seconds);
}

/// The sound tracks, when the file has several: named by language, the one
/// playing selected. Another one plays through the converted stream.
function showAudioTracks(media) {
  const tracks = media?.info?.audio || [];
  const label = $("#player .audio-label");
  label.hidden = tracks.length < 2;
  if (tracks.length < 2) return;
  const select = $("#player .audio");
  select.replaceChildren(...tracks.map((t, i) => {
    const name = t.language ? languageName(t.language) : `Track ${i + 1}`;
    const o = el("option", null, `${name} (${t.codec.toUpperCase()}${t.channels > 2 ? ` ${t.channels}ch` : ""})${t.isDefault ? " · default" : ""}`);
    o.value = String(t.index);
    return o;
  }));
  select.value = String(media.plan?.audioTrack ?? tracks[0].index);
}

function switchAudio(index) {
  if (!playing?.media?.converted) return;
  const at = filmTime();
  playing.audio = index;
  if (!playing.converted) {
    playing.converted = true;
    $("#player .how").textContent = "Repackaged as it plays, with the sound track you picked.";
  }
  load(at);
}

/// Switches to the converted stream (the browser refused the file as it is).
function convert(at) {
  if (!playing?.media?.converted || playing.converted) return false;
  playing.converted = true;
  $("#player .how").textContent = "Converted as it plays: this browser could not play the file as it is.";
  load(at);
  return true;
}

/// While a start waits: what the engine has found so far, once a second,
/// with a Cancel beside it. Returns the function that stops it.
function watchStart(ref, episode) {
  const params = new URLSearchParams({ ref });
  if (episode) params.set("episode", episode);
  const status = $("#title .status");
  const cancel = $("#title .cancel");
  const play = $("#title .play");
  let on = true;
  cancel.hidden = false;
  play.disabled = true;
  cancel.onclick = () => {
    status.textContent = "Stopping…";
    api("/api/play/cancel", { method: "POST", body: JSON.stringify({ ref, episode }) }).catch(() => {});
  };
  const tick = async () => {
    const p = await api(`/api/play/progress?${params}`).catch(() => null);
    if (!on || !p || p.seconds < 1) return;
    const found = p.peers ? `${count(p.peers, "peer")} connected` :
      p.knownPeers ? `${count(p.knownPeers, "peer")} found, none connected yet` : "no peer found yet";
    const bytes = p.bytes ? ` · ${size(p.bytes)} so far` : "";
    status.textContent = `Looking for peers · ${Math.floor(p.seconds)} s · ${count(p.dhtNodes, "DHT node")} reached · ${found}${bytes}`;
  };
  const timer = setInterval(tick, 1000);
  return () => {
    on = false;
    clearInterval(timer);
    cancel.hidden = true;
    play.disabled = false;
  };
}

/// Starts the title open now (its episode: the one picked, where the user
/// stopped, or the first). The title page says what happens until the
/// stream answers; then the player shows, at `#/play/…` (a new history
/// entry, or this one changed with `replace`).
export async function play({ replace = false } = {}) {
  const current = state.current;
  const status = $("#title .status");
  status.textContent = "Starting…";
  try {
    if (!state.episode && current.title.seasons) state.episode = resumeEpisode(current);
    const episode = state.episode;
    const quality = $("#title .quality").value || undefined;
    const stopWatching = watchStart(current.id, episode);
    const r = await api("/api/play", { method: "POST", body: JSON.stringify({ ref: current.id, episode, quality }) })
      .finally(stopWatching);
    status.textContent = "Reading the file…";
    // What the browser can play: as it is, or converted by ffmpeg.
    const media = r.media ? await api(r.media).catch(() => null) : null;
    if (state.current !== current) return; // the user went elsewhere meanwhile
    const saved = progressOf(current.id, episode || null);
    playing = {
      ref: current.id, episode, url: r.url, media, start: 0, subtitles: r.subtitles || [],
      converted: media?.plan?.mode && media.plan.mode !== "direct",
    };
    $("#player .label").textContent = r.label;
    subtitleOffset = 0;
    $("#player .sub-offset").textContent = "in time";
    showAudioTracks(media);
    const how = $("#player .how");
    how.textContent = playing.converted ? media.plan.explanation || "Converted as it plays." : "";
    how.title = playing.converted ? media.plan.reason : ""; // the technical words, for the curious
    stopCountdown();
    $("#player .up-next").hidden = true;
    $("#player .external-status").textContent = "";
    mark(address("play", current.id, episode), { replace });
    show("#player");
    load(saved && !saved.watched && saved.position > 1 ? saved.position : 0);
    watchStream(r.url);
    video().focus();
    status.textContent = "";
  } catch (e) {
    status.textContent = e.message;
    if (here().name === "play") mark(address("title", current.id), { replace: true });
  }
}

/// #/play/REF[/EPISODE] reached by reload, Forward or a bookmark.
export async function renderPlay([ref, episode]) {
  if (playing && playing.ref === ref && (playing.episode || undefined) === episode && !$("#player").hidden) return;
  await refreshHistory();
  try {
    await openTitle(ref); // its page says what happens until the stream answers
  } catch (e) {
    show("#title");
    $("#title .status").textContent = e.message;
    return;
  }
  state.episode = episode || null;
  await play({ replace: true });
}

/// Leaving the player: where the user stopped is saved, the stream let go.
export async function leavePlayer() {
  stopCountdown();
  if (!playing) return;
  await saveProgress(true);
  const v = video();
  v.pause();
  v.removeAttribute("src");
  v.load();
  playing = null;
  clearInterval(overlayTimer);
}

export function backFromPlayer() {
  back(address("title", playing?.ref || state.current?.id));
}

/// "Open in mpv / VLC": the daemon starts the player with a short-lived link.
async function openExternal(player) {
  const out = $("#player .external-status");
  try {
    const at = filmTime();
    video().pause();
    const r = await api("/api/players/open", {
      method: "POST", body: JSON.stringify({ player, url: playing.url, title: $("#player .label").textContent, start: at }),
    });
    out.textContent = r.message;
  } catch (e) {
    out.textContent = e.message;
  }
}

async function saveProgress(force, { keepalive = false } = {}) {
  const duration = filmDuration();
  if (!playing || !video().src || !(duration > 0)) return;
  const now = Date.now();
  if (!force && now - lastSave < 5000) return;
  lastSave = now;
  const body = { ref: playing.ref, episode: playing.episode || undefined, position: filmTime(), duration };
  await api("/api/history", { method: "PUT", body: JSON.stringify(body), keepalive }).catch(() => {});
  if (!keepalive) await refreshHistory();
}

/// The episode after the one playing, if any: "S01E03".
function nextEpisode() {
  if (!playing?.episode || !state.current?.title.seasons) return null;
  const all = episodesOf(state.current.title);
  return all[all.indexOf(playing.episode) + 1] || null;
}

/// Where Play on a series starts: the episode last watched if it is not
/// finished, else the one after it; the first when none was watched or
/// the last one was finished.
export function resumeEpisode(entry) {
  const all = episodesOf(entry.title);
  const h = progressOf(entry.id);
  if (!h?.episode || !all.includes(h.episode)) return all[0];
  if (!h.watched) return h.episode;
  return all[all.indexOf(h.episode) + 1] || all[0];
}

// Up next: at the end of an episode the next one plays after a countdown
// the user can cancel (or skip with Enter on the focused button).
const countdownSeconds = 8;
let countdownTimer = 0;

function stopCountdown() {
  clearInterval(countdownTimer);
  countdownTimer = 0;
  $("#player .countdown").textContent = "";
  $("#player .next-cancel").hidden = true;
}

function offerNext(next) {
  const box = $("#player .up-next");
  box.hidden = false;
  $("#player .next").textContent = `Next: ${next} ▶`;
  $("#player .next-cancel").hidden = false;
  let left = countdownSeconds;
  const line = $("#player .countdown");
  line.textContent = `Plays in ${left} s`;
  clearInterval(countdownTimer);
  countdownTimer = setInterval(() => {
    left -= 1;
    line.textContent = `Plays in ${left} s`;
    if (left <= 0) playNext();
  }, 1000);
  $("#player .next").focus();
}

function playNext() {
  const next = nextEpisode();
  stopCountdown();
  if (!next) return;
  state.episode = next;
  play({ replace: true });
}

export function wirePlayer() {
  const v = video();
  v.addEventListener("timeupdate", () => {
    saveProgress(false);
    const timeline = $("#player .timeline");
    if (!$("#player .controls").hidden && document.activeElement !== timeline) timeline.value = String(Math.floor(filmTime()));
    $("#player .clock").textContent = playing ? `${clock(filmTime())} / ${clock(filmDuration())}` : "";
  });
  v.addEventListener("error", () => {
    // MEDIA_ERR_SRC_NOT_SUPPORTED or DECODE: try the converted stream.
    if (playing && !playing.converted && v.error && v.error.code >= 3) convert(filmTime());
  });
  $("#player .timeline").addEventListener("change", (e) => seekTo(Number(e.target.value)));
  $("#player .audio").addEventListener("change", (e) => switchAudio(Number(e.target.value)));
  document.querySelectorAll("#player [data-player]").forEach((b) => b.addEventListener("click", () => openExternal(b.dataset.player)));
  $("#player .copy-link").addEventListener("click", async () => {
    const link = new URL(playing?.url || "", location.href).href;
    await navigator.clipboard?.writeText(link).catch(() => {});
    $("#player .external-status").textContent = `Link for other players (works for a few hours): ${link}`;
  });
  v.addEventListener("pause", () => saveProgress(true));
  v.addEventListener("ended", () => {
    saveProgress(true);
    const next = nextEpisode();
    if (next) offerNext(next);
  });
  $("#player .next").addEventListener("click", playNext);
  $("#player .next-cancel").addEventListener("click", () => {
    stopCountdown();
    $("#player .next").focus();
  });
  // Where the user is, saved at once on a seek, and when the page is hidden
  // or closed (a request that outlives the page), not only every 5 s.
  v.addEventListener("seeked", () => saveProgress(true));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") saveProgress(true, { keepalive: true });
  });
  window.addEventListener("pagehide", () => saveProgress(true, { keepalive: true }));
  $("#player .back").addEventListener("click", backFromPlayer);
  $("#player .toggle-play").addEventListener("click", togglePlay);
  $("#player .fullscreen").addEventListener("click", toggleFullscreen);
  $("#player .overlay-toggle").addEventListener("click", () => toggleOverlay());
  const label = () => {
    const b = $("#player .toggle-play");
    b.textContent = v.paused ? "▶" : "❚❚";
    b.setAttribute("aria-label", v.paused ? "Play" : "Pause");
  };
  v.addEventListener("play", label);
  v.addEventListener("pause", label);
  let remembered = "on";
  try {
    remembered = localStorage.getItem("matinee.overlay") || "on";
  } catch {}
  toggleOverlay(remembered !== "off");
  $("#player .sub-smaller").addEventListener("click", () => resizeSubtitles(-1));
  $("#player .sub-larger").addEventListener("click", () => resizeSubtitles(1));
  $("#player .sub-earlier").addEventListener("click", () => shiftSubtitles(-1));
  $("#player .sub-later").addEventListener("click", () => shiftSubtitles(1));
  try {
    const saved = Number(localStorage.getItem("matinee.subtitleSize"));
    if (sizes.includes(saved)) subtitleSize = saved;
  } catch {}
  applySubtitleSize();
}

/// The external players this machine has.
export async function showExternalPlayers() {
  for (const name of await api("/api/players").catch(() => [])) {
    const b = document.querySelector(`#player [data-player="${CSS.escape(name)}"]`);
    if (b) b.hidden = false;
  }
}
