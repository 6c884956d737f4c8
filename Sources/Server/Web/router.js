// Addresses for every page (hash routes, so the server serves one file):
// Back, Forward, reload and bookmarks work.
//
//   #/                    home          #/channels    channels
//   #/search/WORDS        results       #/downloads   downloads
//   #/title/REF           a title       #/settings    settings
//   #/play/REF[/S01E02]   the player
//   #/browse/GENRE/YEAR/SORT   the wall filtered ("all", "any" for none)
//
// Each entry of the browser's history made here carries its depth, so the
// app's own Back goes back in the browser's history while there is an entry
// of ours behind, and to the page above otherwise (a bookmark opened).

const pages = {};
let leaving = null;
let drawn = null; // the address drawn last

/// `render(args)` draws the page `name`; `leave()`, if any, runs when
/// another page is drawn after it.
export function page(name, render, leave) {
  pages[name] = { render, leave };
}

export function parse(hash) {
  const parts = (hash || "").replace(/^#\/?/, "").split("/").map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return "";
    }
  });
  const name = parts[0] || "home";
  return pages[name] ? { name, args: parts.slice(1) } : { name: "home", args: [] };
}

export function address(name, ...args) {
  if (name === "home") return "#/";
  return "#/" + [name, ...args.filter((a) => a !== undefined && a !== null)].map(encodeURIComponent).join("/");
}

export function here() {
  return parse(location.hash);
}

const depth = () => history.state?.matinee ?? 0;

/// Goes to an address: a new history entry, or with `replace` this one changed.
export function go(hash, { replace = false } = {}) {
  if (replace) history.replaceState({ matinee: depth() }, "", hash);
  else if (hash !== location.hash) history.pushState({ matinee: depth() + 1 }, "", hash);
  return render();
}

/// Changes the address without drawing anything: the page is already
/// shown (the player once its stream answered).
export function mark(hash, { replace = false } = {}) {
  if (replace) history.replaceState({ matinee: depth() }, "", hash);
  else if (hash !== location.hash) history.pushState({ matinee: depth() + 1 }, "", hash);
  drawn = location.hash;
  const { name } = here();
  leaving = { name, leave: pages[name].leave };
}

/// The app's Back: the browser's, or up to `fallback` when nothing of ours is behind.
export function back(fallback) {
  if (depth() > 0) history.back();
  else go(fallback, { replace: true });
}

async function render() {
  drawn = location.hash;
  const { name, args } = here();
  if (leaving && leaving.name !== name) await leaving.leave?.();
  leaving = { name, leave: pages[name].leave };
  await pages[name].render(args);
}

export function start() {
  history.replaceState({ matinee: depth() }, "", location.hash || "#/");
  // Back, Forward, and an address typed or set by hand (hashchange; some
  // browsers also send popstate for it: one drawing either way).
  const changed = () => location.hash !== drawn && render();
  window.addEventListener("popstate", changed);
  window.addEventListener("hashchange", changed);
  return render();
}
