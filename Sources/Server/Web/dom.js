// Small helpers shared by every page: finding and making elements, showing
// one page, and numbers as people read them.

export const $ = (sel, root = document) => root.querySelector(sel);

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export const pages = ["#home", "#title", "#player", "#channels", "#downloads", "#settings"];

/// Shows one page and hides the others.
export function show(id) {
  for (const s of pages) $(s).hidden = s !== id;
}

/// The page shown now: "#home", "#title", ….
export function shown() {
  return pages.find((s) => !$(s).hidden);
}

/// The first poster shown on the wall (the rows, the results or a browse grid).
export function firstTile() {
  return [...document.querySelectorAll("#home .tile")].find((t) => t.offsetParent !== null) || null;
}

/// "1 peer", "2 peers".
export function count(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

export function rate(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB/s`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB/s`;
  return `${n} B/s`;
}

export function size(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

/// Seconds as "1:02:03" or "2:03".
export function clock(t) {
  t = Math.max(0, Math.floor(t || 0));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(s).padStart(2, "0")}`;
}

/// An episode's code: (1, 2) -> "S01E02".
export function episodeCode(season, episode) {
  return `S${String(season).padStart(2, "0")}E${String(episode).padStart(2, "0")}`;
}

/// Every episode code of a title, in order ([] for a film).
export function episodesOf(title) {
  return (title.seasons || []).flatMap((s) => s.episodes.map((e) => episodeCode(s.number, e.number)));
}

// ISO 639-2 codes files use, to the BCP 47 ones browsers name.
const iso6392 = {
  eng: "en", fre: "fr", fra: "fr", ger: "de", deu: "de", spa: "es", ita: "it", jpn: "ja", por: "pt", rus: "ru",
  chi: "zh", zho: "zh", kor: "ko", dut: "nl", nld: "nl", swe: "sv", nor: "no", dan: "da", fin: "fi", pol: "pl",
  tur: "tr", ara: "ar", hin: "hi", heb: "he", gre: "el", ell: "el", cze: "cs", ces: "cs", hun: "hu", ukr: "uk",
};

/// A language code ("fra", "en") as people say it, in the browser's language: "French".
export function languageName(code) {
  if (!code || code === "und") return "Unknown language";
  const tag = iso6392[code.toLowerCase()] || code;
  try {
    return new Intl.DisplayNames([navigator.language || "en"], { type: "language" }).of(tag) || code;
  } catch {
    return code;
  }
}
