// Matinee's web UI. Talks only to the public HTTP API (docs/api.md).
// Catalog text is always set with textContent, never as markup.
// Plain ES modules, no build step: each page is a module, the router
// (router.js) gives every page an address.

import { $ } from "./dom.js";
import { startSession } from "./api.js";
import { address, back, go, page, start } from "./router.js";
import { onFilterChange, onSearchInput, renderBrowse, renderHome, renderSearch } from "./home.js";
import { renderTitle } from "./title.js";
import { leavePlayer, play, renderPlay, showExternalPlayers, wirePlayer } from "./player.js";
import { renderChannels, wireChannels } from "./channels.js";
import { renderDownloads } from "./downloads.js";
import { loadUpdate, renderSettings, wireSettings } from "./settings.js";
import { onKey } from "./keys.js";
import { leaveCast, wireCast } from "./cast.js";

/// A page other than the results: the search box no longer says what is shown.
function away(render) {
  return (args) => {
    const box = $("#search");
    if (box !== document.activeElement) box.value = "";
    return render(args);
  };
}

page("home", () => renderHome());
page("search", (args) => renderSearch(args));
page("browse", (args) => renderBrowse(args));
page("title", away(renderTitle));
page("play", away(renderPlay), () => {
  leaveCast();
  return leavePlayer();
});
page("channels", away(() => renderChannels()));
page("downloads", away(() => renderDownloads()));
page("settings", away(() => renderSettings()));

async function main() {
  await startSession();
  wirePlayer();
  wireCast();
  wireChannels();
  wireSettings();
  document.addEventListener("keydown", onKey);
  $("#title .back").addEventListener("click", () => back("#/"));
  $("#title .play").addEventListener("click", () => play());
  // Another channel's copy of the same work: this entry of the history changes.
  $("#title .source").addEventListener("change", (e) => go(address("title", e.target.value), { replace: true }));
  $("#logo").addEventListener("click", (e) => {
    e.preventDefault();
    go("#/");
  });
  $("#nav-home").addEventListener("click", () => go("#/"));
  $("#nav-channels").addEventListener("click", () => go("#/channels"));
  $("#nav-downloads").addEventListener("click", () => go("#/downloads"));
  $("#nav-settings").addEventListener("click", () => go("#/settings"));
  $("#search").addEventListener("input", onSearchInput);
  $("#wall-filter").addEventListener("change", onFilterChange);
  $("#wall-filter").addEventListener("submit", (e) => e.preventDefault());
  showExternalPlayers();
  loadUpdate();
  await start();
}

main();
