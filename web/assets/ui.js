// Small DOM helpers: elements built from data (never HTML strings, so
// nothing a node or a record says can run as script), an announcer for
// screen readers, and buttons that report their errors.

// h builds an element. attrs: text, class, on* handlers, and attributes;
// kids: strings, nodes, arrays of them, or null.
export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(Infinity)) if (kid !== null && kid !== undefined && kid !== false) el.append(kid);
  return el;
}

let hide = 0;
// say announces a message in the status region, which screen readers read
// out; on screen it shows for a few seconds (longer for an error), and
// clicks pass through it, so it never stands in front of a control.
export function say(msg, kind = "info") {
  const s = document.getElementById("status");
  const p = h("p", { class: kind, text: msg });
  s.replaceChildren(p);
  clearTimeout(hide);
  hide = setTimeout(() => p.remove(), kind === "error" ? 15000 : 6000);
}

// act runs f for a button or form, disabled meanwhile, and announces the
// error it throws; it returns f's result, or undefined on error.
export async function act(control, f) {
  control.disabled = true;
  control.setAttribute("aria-busy", "true");
  try {
    return await f();
  } catch (e) {
    say(e.message || String(e), "error");
    return undefined;
  } finally {
    control.disabled = false;
    control.removeAttribute("aria-busy");
  }
}

// form returns a <form> whose submission runs f with its fields.
export function form(label, fields, button, f, attrs = {}) {
  const submit = h("button", { type: "submit", text: button });
  const el = h("form", { "aria-label": label, ...attrs }, fields, submit);
  el.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(submit, () => f(new FormData(el), el));
  });
  return el;
}

let uid = 0;
// field is a labelled input (or select with options, or textarea).
export function field(label, name, attrs = {}, options) {
  const id = attrs.id ?? `f-${name}-${++uid}`;
  let input;
  if (options) input = h("select", { id, name, ...attrs }, options.map((o) => h("option", { value: o[0] ?? o, text: o[1] ?? o })));
  else if (attrs.type === "textarea") input = h("textarea", { id, name, ...attrs, type: null });
  else input = h("input", { id, name, type: "text", ...attrs });
  const hint = attrs.hint ? h("small", { id: id + "-hint", text: attrs.hint }) : null;
  if (hint) { input.setAttribute("aria-describedby", id + "-hint"); input.removeAttribute("hint"); }
  return h("div", { class: "field" }, h("label", { for: id, text: label }), input, hint);
}

// table renders rows under headings; cells are strings or nodes.
export function table(caption, heads, rows) {
  if (!rows.length) return h("p", { class: "empty", text: `${caption}: none.` });
  return h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": caption },
    h("table", {}, h("caption", { text: caption }),
      h("thead", {}, h("tr", {}, heads.map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))));
}

// section is a titled part of a view.
export const section = (title, id, ...kids) =>
  h("section", { id, "aria-labelledby": id + "-h" }, h("h3", { id: id + "-h", text: title }), kids);

export const short = (hex) => (hex ? hex.slice(0, 8) + "…" + hex.slice(-4) : "");
export const when = (t) => (t ? new Date(t).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "");

// mark is a status that does not rely on colour: a symbol and words.
export const mark = (ok, yes, no) => h("span", { class: ok ? "ok" : "bad" }, h("span", { "aria-hidden": "true", text: ok ? "✓ " : "✗ " }), ok ? yes : no);

// save offers blob as a file download.
export function save(blob, name) {
  const a = h("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

export const PURPOSES = [["TREAT", "Treatment"], ["ETREAT", "Emergency treatment"], ["CAREMGT", "Care management"], ["COC", "Coordination of care"],
  ["HPAYMT", "Payment"], ["HOPERAT", "Operations"], ["HRESCH", "Research"], ["CLINTRCH", "Clinical trial research"], ["PUBHLTH", "Public health"],
  ["HLEGAL", "Legal"], ["PATRQT", "Patient requested"], ["FAMRQT", "Family requested"]];
export const purposeName = (p) => (PURPOSES.find((x) => x[0] === p)?.[1] ?? p);

// GLASS_REASONS are the break-the-glass reason codes (consent.GlassReasons).
export const GLASS_REASONS = [["unconscious", "The patient is unconscious"], ["life_threatening", "A life-threatening condition leaves no time to ask"],
  ["unable_to_consent", "The patient cannot consent"], ["other", "Another emergency (explain it to your privacy officer)"]];
export const glassReasonName = (r) => (GLASS_REASONS.find((x) => x[0] === r)?.[1] ?? r ?? "no reason given");
