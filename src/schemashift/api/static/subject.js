/* One subject: versions, schema, diff, drift chart, consumers, the quarantine queue and the
   dead letters (read and re-driven through the /v1/dead-letters API). */
"use strict";

const PREFIX = "/ui/subjects/";
const SUBJECT = decodeURIComponent(location.pathname.slice(PREFIX.length));
const state = { data: null, selected: null, pinned: false, shownSchema: "", diffFrom: null, diffTo: null, shownDiff: null, versionsKey: "", openLetters: new Set() };
const DEAD_LETTER_ROWS = 20;

document.getElementById("subject-name").textContent = SUBJECT;
document.getElementById("title").textContent = SUBJECT;
document.title = "schemashift · " + SUBJECT;

function flash(message, isError, cardId) {
  const card = document.getElementById(cardId || "quarantine-card");
  const old = card.querySelector(".flash");
  if (old) old.remove();
  card.insertBefore(el("div", { class: "flash" + (isError ? " error" : ""), role: "status", text: message }),
    card.children[1]);
}

/* The schema pointer a change is about, for highlighting (schema_path, else derived from path). */
function schemaPointer(change) {
  if (change.schema_path !== undefined && change.schema_path !== null) return change.schema_path;
  const parts = (change.path || "").split("/").slice(1);
  return parts.map((p) => (p === "*" ? "items" : "properties/" + p)).map((p) => "/" + p).join("");
}

/* Each change marks its lines in both panes (where its pointer exists): green for additive,
   red for subtractive, amber for modifications. */
function changeMarks(changes) {
  const kinds = { additive: "added", subtractive: "removed" };
  const marks = {};
  for (const change of changes) {
    marks[schemaPointer(change)] = kinds[change.class || change.change_class] || "changed";
  }
  return { oldMarks: marks, newMarks: marks };
}

function short(value) {
  if (value === undefined || value === null) return "—";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 60 ? text.slice(0, 57) + "…" : text;
}

function changeRow(change, maxContribution) {
  const contribution = change.contribution || 0;
  const width = maxContribution > 0 ? Math.max(2, Math.round(80 * contribution / maxContribution)) : 0;
  const cls = change.class || change.change_class || "";
  return el("tr", { class: "change" },
    el("td", {}, el("code", { text: change.path || "/" })),
    el("td", { text: change.code || change.kind || "" }),
    el("td", {}, el("span", { class: "badge " + cls, text: cls })),
    el("td", { text: change.severity === undefined ? "" : String(change.severity) }),
    el("td", {}, el("code", { text: short(change.before) }), " → ", el("code", { text: short(change.after) })),
    el("td", { class: "contribution" }, el("span", { class: "bar", style: `width:${width}px` }),
      fmtScore(contribution)));
}

async function showDiff(from, to) {
  const summary = document.getElementById("diff-summary");
  const table = document.getElementById("diff-changes");
  const panes = document.getElementById("diff-panes");
  if (!from || !to) return;
  const data = await fetchJSON(`/ui/api/diff?subject=${encodeURIComponent(SUBJECT)}&from=${from}&to=${to}`);
  state.shownDiff = `${from}-${to}`;
  const changes = data.changes || [];
  summary.replaceChildren(
    el("span", {}, `v${from} → v${to}: `),
    el("strong", { id: "diff-score", text: "drift score " + fmtScore(data.score) }),
    el("span", {}, `, ${changes.length} change${changes.length === 1 ? "" : "s"}`));
  const max = Math.max(0, ...changes.map((c) => c.contribution || 0));
  table.tBodies[0].replaceChildren(...changes.map((c) => changeRow(c, max)));
  table.hidden = changes.length === 0;
  const { oldMarks, newMarks } = changeMarks(changes);
  document.getElementById("diff-old-title").textContent = "version " + from;
  document.getElementById("diff-new-title").textContent = "version " + to;
  renderLines(document.getElementById("diff-old"), data.old, oldMarks);
  renderLines(document.getElementById("diff-new"), data.new, newMarks);
  panes.hidden = false;
  // bring the first highlighted line of each pane into view
  for (const pane of panes.querySelectorAll("pre")) {
    const first = pane.querySelector(".ln.added, .ln.removed, .ln.changed");
    pane.scrollTop = first ? Math.max(0, first.offsetTop - pane.offsetTop - 40) : 0;
  }
}

function fillSelect(select, versions, value) {
  select.replaceChildren(...versions.map((v) => el("option", { value: v.version, text: "v" + v.version })));
  if (value !== null) select.value = String(value);
}

function renderVersions(data) {
  const versions = data.versions;
  const key = versions.map((v) => v.version).join(",");
  const changed = key !== state.versionsKey;
  state.versionsKey = key;
  const numbers = versions.map((v) => v.version);
  // follow the newest version unless the user picked one
  if (!state.pinned || !numbers.includes(state.selected)) state.selected = numbers[numbers.length - 1] ?? null;
  if (changed) {
    if (numbers.length >= 2) {
      state.diffFrom = numbers[numbers.length - 2];
      state.diffTo = numbers[numbers.length - 1];
    }
    fillSelect(document.getElementById("schema-version"), versions, state.selected);
    fillSelect(document.getElementById("diff-from"), versions, state.diffFrom);
    fillSelect(document.getElementById("diff-to"), versions, state.diffTo);
  } else if (state.selected !== null) {
    document.getElementById("schema-version").value = String(state.selected);
  }
  document.getElementById("timeline").replaceChildren(versionTimeline(versions, state.selected, selectVersion));
  // re-render the viewer only when what it shows changes (a refresh must not reset scrolling)
  const shown = `${key}:${state.selected}`;
  if (shown !== state.shownSchema) {
    state.shownSchema = shown;
    const current = versions.find((v) => v.version === state.selected);
    renderLines(document.getElementById("schema-view"), current ? current.lines : [], {});
  }
  document.getElementById("diff-card").hidden = numbers.length < 2;
  return changed;
}

function selectVersion(version) {
  state.selected = version;
  state.pinned = true;
  document.getElementById("schema-version").value = String(version);
  renderVersions(state.data);
}

function quarantineItem(item) {
  const report = item.report || {};
  const changes = report.changes || [];
  const id = item.id;
  const actions = el("div", { class: "actions" },
    el("button", { type: "button", class: "accept", "data-id": id, onclick: () => decide(id, "accept") }, "Accept as new version"),
    el("button", { type: "button", class: "reject", "data-id": id, onclick: () => decide(id, "reject") }, "Reject"));
  const reasons = (item.reasons || []).map((r) => el("li", { text: r }));
  const changeItems = changes.map((c) => el("li", {},
    el("code", { text: c.path || "/" }), " ", c.code || "", " ",
    el("span", { class: "badge " + (c.class || "") , text: c.class || "" }),
    " contribution " + fmtScore(c.contribution)));
  const proposed = el("pre", { class: "code" });
  const marks = changeMarks(changes).newMarks;
  renderLines(proposed, item.lines || [], marks);
  const affected = (item.consumers || []).length
    ? el("div", { class: "affects" }, el("strong", { text: "Affects consumers: " }),
      ...(item.consumers || []).map((c) => el("span", { class: "badge quarantined", text: c })))
    : null;
  const samples = (item.samples || []).map((sample) =>
    el("pre", { class: "code sample", text: JSON.stringify(sample) }));
  return el("div", { class: "quarantine-item", "data-quarantine": id },
    el("header", {},
      el("strong", { text: `#${id}` }),
      el("span", { text: `drift score ${fmtScore(report.score)} against v${item.base_version ?? "–"}` }),
      el("span", { class: "muted", text: `${(item.samples || []).length} sample(s) kept · ${fmtTime(item.created_at)}` }),
      actions),
    reasons.length ? el("div", {}, el("strong", { text: "Why: " }), el("ul", {}, reasons)) : null,
    changeItems.length ? el("ul", {}, changeItems) : null,
    affected,
    el("details", {}, el("summary", { text: "proposed schema" }), proposed),
    samples.length ? el("details", { class: "samples" },
      el("summary", { text: `events that showed it (${samples.length} kept; all are on the dead-letter stream)` }),
      samples) : null);
}

async function decide(id, action) {
  for (const button of document.querySelectorAll(`button[data-id="${id}"]`)) button.disabled = true;
  try {
    const result = await fetchJSON(`/ui/api/quarantine/${id}/${action}`, { method: "POST" });
    const version = result.result && (result.result.version ?? result.result.resolved_version);
    flash(action === "accept"
      ? `Quarantine #${id} accepted${version ? ": registered as version " + version : ""}.`
      : `Quarantine #${id} rejected.`);
    await refreshSubject();
  } catch (error) {
    flash(`Could not ${action} quarantine #${id}: ${error.message}`, true);
    for (const button of document.querySelectorAll(`button[data-id="${id}"]`)) button.disabled = false;
  }
}

function renderQuarantine(items) {
  const box = document.getElementById("quarantine");
  const key = items.map((q) => q.id).join(",");
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(...(items.length ? items.map(quarantineItem)
    : [el("p", { class: "muted", text: "Nothing quarantined." })]));
}

function renderConsumers(consumers) {
  const body = document.querySelector("#consumers tbody");
  if (!consumers.length) {
    body.replaceChildren(el("tr", { class: "empty" },
      el("td", { colspan: 3, text: "No consumer has declared the fields it reads." })));
    return;
  }
  body.replaceChildren(...consumers.map((c) => el("tr", {},
    el("td", { text: c.consumer }),
    el("td", {}, ...(c.fields || []).map((f) => el("code", { text: f + " " }))),
    el("td", { text: fmtTime(c.declared_at) }))));
}

async function refreshSubject() {
  const data = await fetchJSON("/ui/api/subject?subject=" + encodeURIComponent(SUBJECT));
  state.data = data;
  const status = document.getElementById("status");
  status.className = "badge " + data.status;
  status.textContent = data.status;
  document.getElementById("t-latest").textContent = data.latest_version === null ? "–" : "v" + data.latest_version;
  document.getElementById("t-rate").textContent = fmtRate(data.events_per_second);
  document.getElementById("t-dlq").textContent = fmtPercent(data.dead_letter_rate);
  document.getElementById("t-quarantines").textContent = data.quarantine.length;
  document.getElementById("t-quarantines").parentElement.classList.toggle("on", data.quarantine.length > 0);
  const p = data.policy || {};
  document.getElementById("policy").textContent =
    `policy: ${p.compatibility} compatibility · drift threshold ${p.drift_threshold} · ` +
    `${p.min_samples} samples before a version · auto-register ${p.auto_register ? "on" : "off"}`;
  const versionsChanged = renderVersions(data);
  document.getElementById("drift-chart").replaceChildren(driftChart(data.drift));
  renderQuarantine(data.quarantine);
  renderConsumers(data.consumers);
  if (versionsChanged && state.diffFrom && state.diffTo && state.diffFrom !== state.diffTo) {
    await showDiff(state.diffFrom, state.diffTo);
  }
}

/* ---- dead letters ---- */

/* The original message of a dead letter: pretty JSON when it is JSON, else its text (or a
   note that it is binary), so a person sees exactly what the producer sent. */
function payloadText(item) {
  if (item.data !== null && item.data !== undefined) return JSON.stringify(item.data, null, 2);
  let bytes;
  try {
    bytes = Uint8Array.from(atob(item.data_base64 || ""), (c) => c.charCodeAt(0));
  } catch (error) {
    return "(unreadable payload)";
  }
  try {
    return "(not JSON) " + new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    return `(${bytes.length} bytes, not UTF-8) base64: ${item.data_base64}`;
  }
}

async function replayDeadLetters(selection, what) {
  for (const button of document.querySelectorAll("#dead-letters-card button.replay")) button.disabled = true;
  try {
    const result = await fetchJSON("/v1/dead-letters/replay", {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ subject: SUBJECT }, selection)),
    });
    flash(`Replayed ${result.replayed} dead letter${result.replayed === 1 ? "" : "s"} ${what}.`, false, "dead-letters-card");
  } catch (error) {
    flash(`Could not replay ${what}: ${error.message}`, true, "dead-letters-card");
  }
  // redraw both tables whatever changed, so no button stays disabled
  for (const body of document.querySelectorAll("#dead-letters-card tbody")) body.dataset.key = "";
  await refreshDeadLetters();
}

function renderDeadLetterCounts(counts) {
  const dead = counts.dead || {}, parked = counts.parked || {}, replayed = counts.replayed || {};
  const total = (m) => Object.values(m).reduce((a, b) => a + b, 0);
  document.getElementById("dl-summary").textContent =
    `${total(dead)} dead · ${total(parked)} parked · ${total(replayed)} replayed`;
  const reasons = [...new Set([...Object.keys(dead), ...Object.keys(parked), ...Object.keys(replayed)])].sort();
  const body = document.querySelector("#dl-reasons tbody");
  const key = JSON.stringify(counts);
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  if (!reasons.length) {
    body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 5, text: "No dead letters." })));
    return;
  }
  body.replaceChildren(...reasons.map((reason) => el("tr", { "data-reason": reason },
    el("td", {}, el("span", { class: "badge reason", text: reason })),
    el("td", { class: "num dead", text: String(dead[reason] || 0) }),
    el("td", { class: "num parked", text: String(parked[reason] || 0) }),
    el("td", { class: "num replayed", text: String(replayed[reason] || 0) }),
    el("td", { class: "actions" }, dead[reason]
      ? el("button", { type: "button", class: "replay", onclick: () => replayDeadLetters({ reason }, `with reason ${reason}`) },
        `Replay ${dead[reason]}`)
      : null))));
}

function deadLetterRows(item) {
  const open = state.openLetters.has(item.id);
  const toggle = el("button", { type: "button", class: "show", "aria-expanded": open ? "true" : "false" }, open ? "hide" : "show");
  toggle.addEventListener("click", () => {
    if (state.openLetters.has(item.id)) state.openLetters.delete(item.id); else state.openLetters.add(item.id);
    const body = document.querySelector("#dl-items tbody");
    body.dataset.key = "";
    renderDeadLetterItems(state.letters || []);
  });
  const row = el("tr", { class: "dead-letter", "data-id": item.id },
    el("td", { title: item.time, text: fmtTime(item.time) }),
    el("td", {}, el("span", { class: "badge reason", text: item.reason })),
    el("td", {}, item.path ? el("code", { text: item.path }) : "—"),
    el("td", { class: "message", text: item.message }),
    el("td", { class: "actions" }, toggle,
      el("button", { type: "button", class: "replay", onclick: () => replayDeadLetters({ ids: [item.id] }, `#${item.id}`) }, "Replay")));
  if (!open) return [row];
  const headers = Object.entries(item.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  return [row, el("tr", { class: "payload", "data-for": item.id },
    el("td", { colspan: 5 },
      el("pre", { class: "code sample payload-text", text: payloadText(item) }),
      headers ? el("pre", { class: "code sample headers", text: headers }) : null,
      el("div", { class: "muted", text: `#${item.id} · ${item.raw_subject} seq ${item.raw_seq} · ${item.time}` })))];
}

function renderDeadLetterItems(items) {
  state.letters = items;
  const body = document.querySelector("#dl-items tbody");
  const key = items.map((i) => i.id).join(",") + "|" + [...state.openLetters].join(",");
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  if (!items.length) {
    body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 5, text: "Nothing waits to be replayed." })));
    return;
  }
  body.replaceChildren(...items.flatMap(deadLetterRows));
}

async function refreshDeadLetters() {
  const subject = encodeURIComponent(SUBJECT);
  const [counts, page] = await Promise.all([
    fetchJSON(`/v1/dead-letters/counts?subject=${subject}`),
    fetchJSON(`/v1/dead-letters?subject=${subject}&limit=${DEAD_LETTER_ROWS}`),
  ]);
  renderDeadLetterCounts(counts.counts || {});
  renderDeadLetterItems(page.items || []);
}

document.getElementById("schema-version").addEventListener("change", (e) => selectVersion(Number(e.target.value)));
document.getElementById("diff-from").addEventListener("change", (e) => { state.diffFrom = Number(e.target.value); });
document.getElementById("diff-to").addEventListener("change", (e) => { state.diffTo = Number(e.target.value); });
document.getElementById("diff-show").addEventListener("click", () => {
  showDiff(state.diffFrom, state.diffTo).catch((error) => {
    document.getElementById("diff-summary").textContent = "Could not compute the diff: " + error.message;
  });
});

poll(refreshSubject, 3000);
poll(refreshDeadLetters, 3000);
