// The clinical trials view (#/research). For a member: the trials their
// organization sponsors (versions and approvals, enrollment, with a
// consented participant enrolled here, data commitments, the
// outcome-switching report) and those it oversees as an
// ethics board (versions awaiting its approval, approved here with the key
// in this browser). For a patient: the trials they take part in, the
// version in force, consent, re-consent and withdrawal signed with their
// own key, and the trials open to consent. Trials come from the FHIR API's
// ResearchStudy and ResearchSubject; versions and the report from /v1.
import { trialsApprove, trialsConsent, trialsEnroll, trialsWithdraw } from "./tx.js";
import { fromHex } from "./proof.js";
import { act, h, mark, save, say, section, short, table } from "./ui.js";

const ext = (r, url) => (r.extension ?? []).find((e) => e.url === url);
const boardOf = (study) => ext(study, "urn:careledger:ethics-board")?.valueIdentifier?.value ?? "";
const sponsorOf = (study) => study.sponsor?.identifier?.value ?? "";
const entries = (bundle) => (bundle.entry ?? []).map((e) => e.resource);
const trialPath = (id) => `/v1/trials/${encodeURIComponent(id)}`;
const outcomes = (list) => (list?.length ? list.join(", ") : "none");
const redraw = () => window.dispatchEvent(new HashChangeEvent("hashchange"));

export async function researchView({ main, session, params }) {
  if (session.account.kind === "patient") {
    await participantPage(main, session);
    return;
  }
  const org = session.account.org;
  const studies = entries(await session.fhir("ResearchStudy"));
  const sponsored = studies.filter((s) => sponsorOf(s) === org);
  const overseen = studies.filter((s) => boardOf(s) === org);
  if (!sponsored.length && !overseen.length) {
    main.append(h("p", { class: "empty", id: "no-trials", text: `${org ?? "This account"} neither sponsors nor oversees a trial.` }));
    return;
  }
  if (sponsored.length) main.append(await sponsorPart(session, sponsored, params.get("trial")));
  if (overseen.length) main.append(await boardPart(session, overseen));
}

// sponsorPart lists the organization's trials and shows one in full.
async function sponsorPart(session, studies, chosen) {
  const open = studies.find((s) => s.id === chosen) ?? studies[0];
  const rows = studies.map((s) => [
    h("a", { href: `#/research?trial=${encodeURIComponent(s.id)}`, "aria-current": s === open ? "true" : null, text: s.id }),
    s.title ?? "", s.status, String(ext(s, "urn:careledger:protocol-version-in-force")?.valueUnsignedInt ?? 0), boardOf(s)]);
  return h("div", {},
    section("Trials your organization sponsors", "sponsored", table("Trials", ["Trial", "Title", "Status", "Version in force", "Ethics board"], rows)),
    await trialSection(session, open));
}

async function trialSection(session, study) {
  const id = study.id;
  const [{ trial, versions }, subjects, data, report] = await Promise.all([
    session.get(trialPath(id)),
    session.fhir(`ResearchSubject?study=${encodeURIComponent(id)}`).then(entries),
    datasets(session, study),
    session.get(`${trialPath(id)}/report`).catch((e) => ({ error: e.message })),
  ]);
  const versionRows = versions.map((v) => [String(v.number), outcomes(v.primary), outcomes(v.secondary),
    h("code", { title: v.protocol, text: short(v.protocol) }), String(v.proposed_height),
    v.approved_height ? mark(true, `approved at block ${v.approved_height}`, "") : h("span", { class: "pending", text: "awaiting the ethics board" })]);
  const roles = session.account.roles ?? [];
  const mayEnroll = roles.includes("researcher") || roles.includes("admin");
  const subjectRows = subjects.map((s) => {
    const reconsent = ext(s, "urn:careledger:reconsent-needed")?.valueBoolean;
    const who = s.individual.identifier.value;
    const enroll = s.status === "pending-on-study" && !reconsent && mayEnroll
      ? h("button", { type: "button", class: "enroll", "data-participant": who, "aria-label": `Enroll ${short(who)}`, text: "Enroll",
        onclick: (ev) => act(ev.currentTarget, async () => {
          await session.send(trialsEnroll({ trial: id, participant: fromHex(who) }));
          say(`Participant ${short(who)} enrolled.`);
          redraw();
        }) })
      : "";
    return [h("code", { title: who, text: short(who) }), s.status,
      String(ext(s, "urn:careledger:consented-version")?.valueUnsignedInt ?? 0),
      s.status === "withdrawn" ? "" : mark(!reconsent, "consented to the version in force", "re-consent needed: no data captured"), enroll];
  });
  return section(`Trial ${id}`, "trial",
    h("dl", { class: "facts" },
      h("dt", { text: "Status" }), h("dd", { id: "trial-status", text: study.status }),
      h("dt", { text: "Ethics board" }), h("dd", { text: trial.board }),
      h("dt", { text: "Version in force" }), h("dd", { id: "trial-in-force", text: trial.in_force ? String(trial.in_force) : "none approved yet" }),
      h("dt", { text: "Data capture began" }), h("dd", { text: trial.capture_height ? `at block ${trial.capture_height}` : "not yet" }),
      h("dt", { text: "Results reports" }), h("dd", { text: String(trial.results) })),
    h("h4", { text: "Protocol versions and approvals" }),
    h("div", { id: "trial-versions" }, table("Protocol versions", ["Version", "Primary outcomes", "Secondary outcomes", "Protocol (SHA-256)", "Proposed at block", "Approval"], versionRows)),
    h("h4", { text: "Enrollment" }),
    h("div", { id: "trial-enrollment" }, table("Participants", ["Participant", "Status", "Consented to version", "Consent", "Enroll"], subjectRows)),
    h("h4", { text: "Data commitments" }),
    h("p", { class: "hint", text: "Each dataset's RFC 6962 root, checked offline with careledger verify dataset." }),
    h("div", { id: "trial-datasets" }, table("Data commitments", ["Dataset", "Root", "Rows", "Captured under version", "Participants", "Block"], data)),
    h("h4", { text: "Outcome-switching report" }),
    reportPart(session, id, report));
}

// datasets returns the rows of the trial's data commitments, from the
// sponsor's events in the audit log.
async function datasets(session, study) {
  const rows = [];
  let after = -1;
  for (;;) {
    const q = new URLSearchParams({ org: sponsorOf(study), limit: "1000" });
    if (after >= 0) q.set("after", String(after));
    const page = await session.get(`/v1/audit/events?${q}`);
    for (const e of page.events) {
      const a = Object.fromEntries((e.event.event.attrs ?? []).map((x) => [x.key, x.value]));
      if (e.event.event.type === "trials.data_committed" && a.trial === study.id) {
        rows.push([a.dataset, h("code", { title: a.root, text: short(a.root) }), a.rows, a.version, a.participants, String(e.event.height)]);
      }
    }
    if (page.events.length < 1000) return rows;
    after = page.events.at(-1).index;
  }
}

function reportPart(session, id, report) {
  if (report.error) return h("p", { class: "error", id: "trial-report", text: report.error });
  const f = report.findings;
  const at = (m) => (m ? ` (version ${m.version} in force, block ${m.height})` : "");
  const items = [
    ...(f.not_reported ?? []).map((x) => `Not reported: ${x.outcome} (${x.role} in the pre-specified version)`),
    ...(f.not_prespecified ?? []).map((x) => `Not pre-specified: ${x.outcome} (${x.role || "no role"}${at(x.at)})`),
    ...(f.changed ?? []).map((x) => `Changed after data capture: ${x.outcome} from ${x.from || "none"} in version ${x.previous} to ${x.to || "none"} in version ${x.version}${at(x.at)}`),
  ];
  return h("div", { id: "trial-report" },
    h("p", {}, mark(items.length === 0, "No outcome was switched.", `${items.length} findings`),
      ` Pre-specified: version ${f.baseline || "none"}; ${f.results.length} results reports; ${report.leaves.length} events proven in the log certified at block ${report.height}.`),
    items.length ? h("ul", { class: "findings" }, items.map((t) => h("li", { text: t }))) : null,
    h("p", {}, h("button", { type: "button", id: "download-report", onclick: () => {
      save(new Blob([JSON.stringify(report, null, 2)], { type: "application/json" }), `trial-${id}-report.json`);
      say("The signed report is downloaded: careledger verify trial-report checks it offline.");
    } }, "Download the signed report")));
}

// boardPart shows the versions awaiting the board and those it approved.
async function boardPart(session, studies) {
  const roles = session.account.roles ?? [];
  const mayApprove = roles.includes("admin") || roles.includes("auditor");
  const pending = [];
  const approved = [];
  for (const s of studies) {
    const { versions } = await session.get(trialPath(s.id));
    for (const v of versions) {
      const cells = [s.id, String(v.number), outcomes(v.primary), outcomes(v.secondary), h("code", { title: v.protocol, text: short(v.protocol) })];
      if (v.approved_height) {
        approved.push([...cells, String(v.approved_height), h("code", { title: v.approver, text: short(v.approver) })]);
        continue;
      }
      const label = `Approve version ${v.number} of ${s.id}`;
      pending.push([...cells, String(v.proposed_height), mayApprove
        ? h("button", { type: "button", class: "approve", "data-trial": s.id, "data-version": String(v.number), "aria-label": label, text: "Approve",
          onclick: (ev) => act(ev.currentTarget, async () => {
            await session.send(trialsApprove({ trial: s.id, version: v.number }));
            say(`Version ${v.number} of ${s.id} approved: it is in force.`);
            redraw();
          }) })
        : h("span", { class: "hint", text: "an admin or auditor approves" })]);
    }
  }
  return section("Ethics board", "board",
    h("p", { class: "hint", text: "A protocol version is in force from the block of your approval; participants consent to it again before their data is captured." }),
    h("div", { id: "board-pending" }, table("Awaiting your approval", ["Trial", "Version", "Primary outcomes", "Secondary outcomes", "Protocol (SHA-256)", "Proposed at block", "Approve"], pending)),
    h("div", { id: "board-approved" }, table("Approved", ["Trial", "Version", "Primary outcomes", "Secondary outcomes", "Protocol (SHA-256)", "Approved at block", "By"], approved)));
}

// participantPage is the patient's: their trials and the trials open to
// consent.
async function participantPage(main, session) {
  const me = session.account.address;
  const [subjects, studies] = await Promise.all([session.fhir("ResearchSubject").then(entries), session.fhir("ResearchStudy?status=active").then(entries)]);
  const mine = new Set(subjects.map((s) => s.study.reference.replace(/^ResearchStudy\//, "")));
  const consent = (trial, version, again) => h("button", { type: "button", class: "consent", "data-trial": trial,
    "aria-label": `${again ? "Consent again" : "Consent"} to version ${version} of ${trial}`, text: again ? `Consent again to version ${version}` : `Consent to version ${version}`,
    onclick: (ev) => act(ev.currentTarget, async () => {
      await session.send(trialsConsent({ trial, version }));
      say(`You consented to version ${version} of ${trial}.`);
      redraw();
    }) });
  const rows = [];
  for (const s of subjects) {
    const trial = s.study.reference.replace(/^ResearchStudy\//, "");
    const { trial: t } = await session.get(trialPath(trial));
    const consented = ext(s, "urn:careledger:consented-version")?.valueUnsignedInt ?? 0;
    const withdrawn = s.status === "withdrawn";
    const actions = withdrawn ? [] : [
      consented !== t.in_force ? consent(trial, t.in_force, consented > 0) : null,
      h("button", { type: "button", class: "withdraw", "data-trial": trial, "aria-label": `Withdraw from ${trial}`, text: "Withdraw",
        onclick: (ev) => act(ev.currentTarget, async () => {
          if (!confirm(`Withdraw from ${trial}? No data about you is captured afterwards, and this cannot be undone.`)) return;
          await session.send(trialsWithdraw({ trial, participant: fromHex(me) }));
          say(`You withdrew from ${trial}.`);
          redraw();
        }) })];
    rows.push([trial, { "pending-on-study": "consented, not yet enrolled", "on-study": "enrolled", withdrawn: "withdrawn" }[s.status] ?? s.status,
      String(t.in_force), String(consented),
      withdrawn ? "" : mark(consented === t.in_force, "your consent covers it", "consent again before your data is captured"),
      h("span", { class: "actions" }, actions)]);
  }
  const open = studies.filter((s) => !mine.has(s.id)).map((s) => {
    const v = ext(s, "urn:careledger:protocol-version-in-force")?.valueUnsignedInt ?? 0;
    return [s.id, s.title ?? "", sponsorOf(s), (s.objective ?? []).map((o) => o.name).join(", "), consent(s.id, v, false)];
  });
  main.append(
    section("Your trials", "my-trials",
      h("p", { class: "hint", text: "You consent with your own key, to one protocol version. When the ethics board approves a new version, your data is not captured until you consent to it again; withdrawing stops it for good." }),
      h("div", { id: "my-trials-body" }, table("Trials you take part in", ["Trial", "Status", "Version in force", "You consented to", "Consent", "Actions"], rows))),
    section("Trials open to consent", "open-trials",
      h("p", { class: "hint", text: "Consenting lets the sponsor enroll you; it shares nothing from your records." }),
      h("div", { id: "open-trials-body" }, table("Trials open to consent", ["Trial", "Title", "Sponsor", "Outcomes", "Consent"], open))));
}
