// An in-page accessibility check (WCAG 2.1 AA, the automatable part):
// language, labels, accessible names, unique ids, heading order, focus
// order, and text contrast. The browser test evaluates it on every page;
// it returns the violations found, each a line of text.
(() => {
  const out = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"; };
  const desc = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "");
  const name = (el) => (el.getAttribute("aria-label") || (el.getAttribute("aria-labelledby") || "").split(" ").map((id) => document.getElementById(id)?.textContent ?? "").join(" ") || el.textContent || el.getAttribute("alt") || el.getAttribute("title") || "").trim();

  if (!document.documentElement.lang) out.push("html has no lang");
  if (!document.title) out.push("the page has no title");
  if (document.querySelectorAll("h1").length !== 1) out.push(`the page has ${document.querySelectorAll("h1").length} h1 elements; want 1`);
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const labelled = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) || el.closest("label");
    if (!labelled) out.push(`${desc(el)} has no label`);
  }
  for (const el of document.querySelectorAll("button, a[href], [role=button]")) {
    if (visible(el) && !name(el)) out.push(`${desc(el)} has no accessible name`);
  }
  for (const el of document.querySelectorAll("img")) if (!el.hasAttribute("alt")) out.push(`${desc(el)} has no alt`);
  const ids = new Map();
  for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
  for (const [id, n] of ids) if (n > 1) out.push(`id ${id} is used ${n} times`);
  for (const el of document.querySelectorAll("[tabindex]")) if (Number(el.getAttribute("tabindex")) > 0) out.push(`${desc(el)} has a positive tabindex`);
  let last = 1;
  for (const el of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const level = Number(el.tagName[1]);
    if (level > last + 1) out.push(`heading ${desc(el)} (h${level}) skips a level after h${last}`);
    last = level;
  }
  for (const el of document.querySelectorAll("table")) if (!el.querySelector("th")) out.push(`${desc(el)} has no header cells`);

  // Contrast of every visible element that holds text of its own.
  const rgba = (s) => { const m = s.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0, 0]; return { r: m[0], g: m[1], b: m[2], a: m[3] ?? 1 }; };
  const lum = ({ r, g, b }) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; }
    return { r: 255, g: 255, b: 255 };
  };
  for (const el of document.querySelectorAll("body *")) {
    if (!visible(el) || el.closest("[disabled], .visually-hidden, .skip")) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const s = getComputedStyle(el);
    const fg = rgba(s.color), bg = background(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push(`${desc(el)} text contrast ${ratio.toFixed(2)}:1; want ${need}:1`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push(`the page is wider (${document.documentElement.scrollWidth}px) than the window (${window.innerWidth}px)`);
  return out;
})()
