// Settings (#/settings), read from and saved to the daemon, and Matinee's
// own updates: the "ready" banner and the Updates part of Settings.

import { $, el, show } from "./dom.js";
import { api } from "./api.js";

let saved = ""; // the form as last read or saved, to tell unsaved changes

/// The form as the API takes it; `missing` collects number fields left
/// empty or holding something that is not a number.
function values(missing = []) {
  const body = {};
  for (const input of $("#settings-form").elements) {
    if (!input.name) continue;
    if (input.type === "number" && (input.value.trim() === "" || input.validity.badInput)) missing.push(input.name);
    body[input.name] = input.type === "checkbox" ? input.checked : input.type === "number" ? Number(input.value) : input.value;
  }
  return body;
}

/// The reason a field was refused, beside it; none clears them all.
function showFieldErrors(fields = {}) {
  const form = $("#settings-form");
  form.querySelectorAll(".field-error").forEach((e) => e.remove());
  let first = null;
  for (const [name, reason] of Object.entries(fields)) {
    const input = form.elements[name];
    if (!input) continue;
    input.setAttribute("aria-invalid", "true");
    const line = el("small", "field-error", reason);
    line.id = `${name}-error`;
    input.setAttribute("aria-describedby", line.id);
    input.closest("label").append(line);
    first ||= input;
  }
  for (const input of form.elements) if (input.name && !(input.name in fields)) input.removeAttribute("aria-invalid");
  first?.focus();
}

/// The form differs from what the daemon has.
export function settingsChanged() {
  return !$("#settings").hidden && saved !== "" && JSON.stringify(values()) !== saved;
}

export async function renderSettings(message) {
  const form = $("#settings-form");
  try {
    const s = await api("/api/settings");
    for (const [k, v] of Object.entries(s)) {
      const input = form.elements[k];
      if (!input) continue;
      if (input.type === "checkbox") input.checked = v;
      else input.value = v;
    }
    saved = JSON.stringify(values());
    showFieldErrors();
    await loadNetwork();
    $(".status", form).textContent = message || "";
  } catch (e) {
    $(".status", form).textContent = e.message;
  }
  await loadUpdate();
  show("#settings");
}

/// How peers are reached in this run (the saved proxy applies from the next start).
async function loadNetwork() {
  const n = await api("/api/network").catch(() => null);
  const line = $("#network-state");
  line.textContent = n ? n.summary + (n.problem ? ` Now: ${n.problem}.` : "") : "";
  line.classList.toggle("warning", Boolean(n?.problem));
}

async function saveSettings() {
  const form = $("#settings-form");
  const missing = [];
  const body = values(missing);
  if (missing.length) {
    // Nothing is sent: an empty field is not 0.
    showFieldErrors(Object.fromEntries(missing.map((n) => [n, "Enter a number here (0 where the label says what 0 means)."])));
    $(".status", form).textContent = "Not saved: a field needs a number.";
    return;
  }
  try {
    const r = await api("/api/settings", { method: "PUT", body: JSON.stringify(body) });
    showFieldErrors();
    await renderSettings(r.message);
  } catch (e) {
    showFieldErrors(e.fields);
    $(".status", form).textContent = `Not saved: ${e.message}`;
  }
}

let updateTimer = 0;
export async function loadUpdate() {
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

export function wireSettings() {
  $("#settings-form").addEventListener("submit", (e) => {
    e.preventDefault();
    saveSettings();
  });
  $("#update-banner .apply").addEventListener("click", () => switchVersion("/api/update/apply", (m) => { $("#update-banner .text").textContent = m; }));
  $("#update-banner .notes-toggle").addEventListener("click", (e) => {
    const notes = $("#update-banner .notes");
    notes.hidden = !notes.hidden;
    e.target.setAttribute("aria-expanded", String(!notes.hidden));
  });
  $("#check-update").addEventListener("click", checkUpdate);
  $("#rollback").addEventListener("click", () => switchVersion("/api/update/rollback", (m) => { $("#update-state").textContent = m; }));
}
