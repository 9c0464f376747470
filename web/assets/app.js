// The portal's shell: the keys in this browser, sign-in, and the views,
// one per hash route (#/patient, #/clinician, #/pharmacy, #/officer,
// #/payer, #/auditor, #/explorer, #/recovery, #/research).
import * as keys from "./keys.js";
import { Session, submit } from "./api.js";
import { registerPatient } from "./tx.js";
import { act, field, form, h, save, say, section, short } from "./ui.js";
import { patientView } from "./patient.js";
import { clinicianView } from "./clinician.js";
import { pharmacyView } from "./pharmacy.js";
import { payerView } from "./payer.js";
import { researchView } from "./research.js";
import { auditorView, explorerView, officerView } from "./chain.js";
import { recoveryView } from "./recovery.js";

const main = document.getElementById("main");
const who = document.getElementById("who");
let session = null;
let leave = null; // ends the current view's live parts (event streams)

const views = {
  "": { title: "Sign in", render: home, open: true },
  patient: { title: "Patient", render: patientView },
  clinician: { title: "Clinician", render: clinicianView },
  pharmacy: { title: "Pharmacy and trading partners", render: pharmacyView },
  payer: { title: "Payer", render: payerView },
  research: { title: "Clinical trials", render: researchView },
  officer: { title: "Privacy officer", render: officerView },
  auditor: { title: "Auditor", render: auditorView },
  explorer: { title: "Explorer", render: explorerView },
  recovery: { title: "Recovery by guardians", render: recoveryView, open: true },
};

// landing picks the view for a signed-in account: by role, then, for
// other members of pharma and regulator organizations, the pharmacy view,
// for those of payer organizations, the payer view, and for those of
// research organizations, the trials view.
async function landing(a, s) {
  if (a.kind === "patient") return "patient";
  const r = a.roles ?? [];
  if (r.includes("privacy_officer")) return "officer";
  if (r.includes("auditor")) return "auditor";
  if (r.includes("physician") || r.includes("nurse")) return "clinician";
  if (r.includes("pharmacist")) return "pharmacy";
  const org = a.org ? await s.get(`/v1/orgs/${encodeURIComponent(a.org)}`).catch(() => null) : null;
  if (org?.type === "pharma" || org?.type === "regulator") return "pharmacy";
  if (org?.type === "payer") return "payer";
  if (org?.type === "research") return "research";
  return "explorer";
}

async function route() {
  leave?.abort();
  const current = (leave = new AbortController());
  const [name, query] = location.hash.replace(/^#\/?/, "").split("?");
  const v = views[name] ?? views[""];
  const params = new URLSearchParams(query ?? "");
  document.title = `${v.title} · CareLedger`;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const heading = h("h2", { id: "view-title", tabindex: "-1", text: v.title });
  // Each route draws into a box of its own, so that a route still drawing
  // when the next one starts (a sign-in's landing, then a link) fills a box
  // no longer shown instead of adding its sections to the next view.
  const box = h("div", { class: "view" });
  main.replaceChildren(heading, box);
  if (!v.open && !session) {
    box.append(h("p", {}, "Sign in first: ", h("a", { href: "#/" + (params.size ? "?" + params : ""), text: "choose or create a key" }), "."));
    sessionStorage.setItem("after", location.hash);
  } else {
    try {
      await v.render({ main: box, session, params, signal: current.signal, signIn });
    } catch (e) {
      box.append(h("p", { class: "error", role: "alert", text: e.message }));
    }
  }
  if (current !== leave) return; // a later route replaced this one
  if (document.activeElement === document.body || !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
  main.dataset.route = location.hash; // drawn (the browser tests wait for it)
}

// signIn makes key the session's and goes to its view (unless stay).
async function signIn(key, stay = false) {
  const s = new Session(key, await Session.chain());
  const acct = await s.signIn();
  session = s;
  sessionStorage.setItem("key", key.name);
  // The view is chosen before the page shows who is signed in, so that
  // whoever waits for that sees the navigation already made.
  const after = stay ? null : sessionStorage.getItem("after");
  const target = stay ? null : after ?? "#/" + await landing(acct, s);
  showWho();
  say(`Signed in as ${key.name}.`);
  if (stay) return;
  sessionStorage.removeItem("after");
  if (location.hash === target) route();
  else location.hash = target;
}

function showWho() {
  if (!session) { who.replaceChildren(); return; }
  const a = session.account;
  const out = h("button", { type: "button", class: "link", text: "Sign out", onclick: () => {
    session = null; sessionStorage.removeItem("key"); showWho(); location.hash = "#/"; say("Signed out.");
  } });
  who.replaceChildren(h("span", {}, h("strong", { text: session.key.name }), ` · ${a.kind}${a.org ? " of " + a.org : ""}${a.roles ? " (" + a.roles.join(", ") + ")" : ""} · `,
    h("code", { id: "my-address", "data-address": a.address, text: short(a.address) })), " ", out);
}

async function home({ main }) {
  const stored = await keys.list();
  const keyList = stored.length
    ? h("ul", { class: "keys" }, stored.map((k) => h("li", {},
      h("button", { type: "button", "data-key": k.name, onclick: (ev) => act(ev.currentTarget, () => signIn(k)) }, `Sign in as ${k.name}`),
      " ", h("code", { text: short(k.account ?? k.address) }), " ",
      h("button", { type: "button", class: "link", "aria-label": `Forget the key ${k.name}`, text: "Forget",
        onclick: async () => { if (confirm(`Forget ${k.name}? Without its backup file the account is lost.`)) { await keys.remove(k.name); route(); } } }))))
    : h("p", { class: "empty", text: "No key is kept in this browser yet." });

  const backup = h("div", { id: "backup", "aria-live": "polite" });
  const create = form("Create a patient key", [
    field("Name for this key (kept only in this browser)", "name", { required: true, autocomplete: "off", id: "new-name" }),
    field("Backup passphrase (at least 8 characters)", "pass", { type: "password", required: true, minlength: "8", autocomplete: "new-password", id: "new-pass" }),
  ], "Create key and register", async (fd) => {
    const name = fd.get("name").trim();
    say("Making your key and its backup…");
    const { key, backup: file } = await keys.create(name, fd.get("pass"));
    const blob = new Blob([file], { type: "application/json" });
    await submit(key, await Session.chain(), 0, [registerPatient()]);
    await signIn(key, true);
    backup.replaceChildren(h("p", {}, "Your account is registered. Your key's backup, sealed with your passphrase: ",
      h("a", { href: URL.createObjectURL(blob), download: `${name}.key`, id: "backup-link", text: `download ${name}.key` }),
      ". Keep it somewhere safe: the key in this browser cannot be copied out, and without it or the backup the account is lost."),
    h("p", {}, h("a", { href: "#/patient", id: "continue", class: "button", text: "Continue to your record" })));
    document.getElementById("backup-link").focus();
  });

  const imp = form("Import a key file", [
    field("Name for this key", "name", { required: true, autocomplete: "off", id: "import-name" }),
    field("Key file (from careledger keys new, or a backup)", "file", { type: "file", required: true, accept: ".key,application/json", id: "import-file" }),
    field("Passphrase, if the file is sealed", "pass", { type: "password", autocomplete: "current-password", id: "import-pass" }),
  ], "Import and sign in", async (fd) => {
    const k = await keys.importFile(fd.get("name").trim(), await fd.get("file").text(), fd.get("pass"));
    await signIn(k);
  });

  main.append(
    section("Keys in this browser", "keys", keyList),
    section("New patient", "create", h("p", { text: "Your key is made and kept in this browser; nobody else, not even the node, ever holds it." }), create, backup),
    section("Member of an organization, or a backup", "import", imp),
  );
}

// A key signed in before a reload signs in again: the key is in IndexedDB.
async function restore() {
  const name = sessionStorage.getItem("key");
  if (!name) return;
  const k = (await keys.list()).find((x) => x.name === name);
  if (!k) return;
  try {
    session = new Session(k, await Session.chain());
    await session.signIn();
    showWho();
  } catch {
    session = null;
  }
}

window.addEventListener("hashchange", route);
restore().then(route);
