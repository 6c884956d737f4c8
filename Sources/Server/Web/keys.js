// The keyboard, as on a TV remote: arrows move between tiles (left/right in
// a row, up/down between rows) and walk other pages' buttons, Enter opens,
// Esc goes back. Esc never throws away what was typed: in a field it only
// leaves the field, and Settings with unsaved changes asks for a second Esc.

import { $, firstTile, shown } from "./dom.js";
import { back } from "./router.js";
import {
  backFromPlayer, seekBy, shiftSubtitles, toggleFullscreen, toggleMute, toggleOverlay, togglePlay, toggleSubtitles,
} from "./player.js";
import { settingsChanged } from "./settings.js";

let warnedUnsaved = false;

function isField(a) {
  return a && (a.tagName === "TEXTAREA" || a.tagName === "SELECT" || (a.tagName === "INPUT" && !["checkbox", "submit", "button"].includes(a.type)));
}

function escape(a) {
  if (isField(a)) return a.blur();
  const page = shown();
  if (page === "#player") return backFromPlayer();
  if (page === "#settings" && settingsChanged() && !warnedUnsaved) {
    warnedUnsaved = true;
    const line = $("#settings-form .status");
    line.textContent = "You have unsaved changes: Save them, or press Esc again to leave without them.";
    line.scrollIntoView?.({ block: "nearest" });
    return;
  }
  warnedUnsaved = false;
  if (page !== "#home") back("#/");
}

export function onKey(e) {
  const a = document.activeElement;
  if (e.key === "Escape") {
    escape(a);
    e.preventDefault();
    return;
  }
  if (e.key !== "Escape") warnedUnsaved = false;
  const page = shown();
  const plain = !e.ctrlKey && !e.metaKey && !e.altKey && !isField(a);
  if (page === "#player" && plain) {
    // As in other players: f full screen, m mute, c subtitles, i the swarm
    // overlay, space or k pause (a focused video with the browser's
    // controls, or a button, takes space itself).
    // g and h move the subtitles 0.1 s earlier or later (VLC's keys).
    const actions = {
      f: toggleFullscreen, m: toggleMute, c: toggleSubtitles, i: () => toggleOverlay(), k: togglePlay,
      g: () => shiftSubtitles(-1), h: () => shiftSubtitles(1),
    };
    const spaceIsOurs = e.key === " " && !(a?.tagName === "VIDEO" && a.controls) && a?.tagName !== "BUTTON";
    const act = spaceIsOurs ? togglePlay : actions[e.key.toLowerCase()];
    if (act) {
      act();
      e.preventDefault();
      return;
    }
  }
  if (page === "#player" && (e.key === "ArrowLeft" || e.key === "ArrowRight") && a?.tagName !== "INPUT") {
    seekBy(e.key === "ArrowLeft" ? -10 : 10); // ten seconds back or forward
    e.preventDefault();
    return;
  }
  if ((e.key === "ArrowDown" || e.key === "ArrowUp") && page !== "#home") {
    // Other pages: up and down walk their buttons and fields in order,
    // except where the arrows already mean something (text, numbers, lists).
    if (!isField(a)) {
      const items = [...$(page).querySelectorAll("button, input, select, video")].filter((x) => !x.hidden && x.offsetParent !== null && !x.disabled);
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
    firstTile()?.focus();
    e.preventDefault();
    return;
  }
  if (!a?.classList.contains("tile")) return;
  const tiles = [...a.parentElement.children];
  const i = tiles.indexOf(a);
  const rows = [...document.querySelectorAll("#home .row:not([hidden]) .tiles")].filter((t) => t.offsetParent !== null);
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
