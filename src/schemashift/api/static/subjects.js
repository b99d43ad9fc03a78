/* The subjects list: one row per subject, refreshed every 2 seconds. */
"use strict";

function subjectRow(row) {
  return el("tr", { "data-subject": row.subject, class: "subject-row" },
    el("td", {}, el("a", { href: subjectHref(row.subject), class: "subject-link", text: row.subject })),
    el("td", {}, badge(row.status)),
    el("td", { class: "num latest", text: row.latest_version === null ? "–" : "v" + row.latest_version }),
    el("td", { class: "num rate", text: fmtRate(row.events_per_second) }),
    el("td", { class: "drift", title: "latest drift score " + fmtScore(row.last_score) },
      sparkline(row.drift, 120, 26)),
    el("td", { class: "num dlq", text: fmtPercent(row.dead_letter_rate) }));
}

async function refreshSubjects() {
  const data = await fetchJSON("/ui/api/subjects");
  const t = data.totals;
  document.getElementById("t-subjects").textContent = t.subjects;
  document.getElementById("t-versions").textContent = t.versions;
  document.getElementById("t-rate").textContent = fmtRate(t.events_per_second);
  document.getElementById("t-quarantines").textContent = t.open_quarantines;
  document.getElementById("t-quarantines").parentElement.classList.toggle("on", t.open_quarantines > 0);
  const body = document.querySelector("#subjects tbody");
  if (data.subjects.length === 0) {
    body.replaceChildren(el("tr", { class: "empty" },
      el("td", { colspan: 6, text: "Waiting for the first events… (POST them to /v1/events)" })));
    return;
  }
  body.replaceChildren(...data.subjects.map(subjectRow));
}

const ACTIVITY = {
  "schema.updated": (e) => [`v${e.version} registered`, "healthy"],
  "drift.quarantined": (e) => [`drift quarantined (score ${fmtScore(e.score)}, ${e.changes} change${e.changes === 1 ? "" : "s"})`, "quarantined"],
  "quarantine.accepted": (e) => [`quarantine #${e.quarantine_id ?? ""} accepted`, "healthy"],
  "quarantine.rejected": (e) => [`quarantine #${e.quarantine_id ?? ""} rejected`, "drifting"],
  "version.sunset": (e) => [`v${e.version} sunset`, "drifting"],
};

function activityItem(event) {
  const describe = ACTIVITY[event.kind] || ((e) => [e.kind, "drifting"]);
  const [text, tone] = describe(event);
  return el("li", { class: "event " + tone, "data-kind": event.kind },
    el("span", { class: "when", text: fmtTime(event.time) }),
    el("a", { href: subjectHref(event.subject), text: event.subject }),
    el("span", { text: " " + text }));
}

async function refreshActivity() {
  const data = await fetchJSON("/ui/api/activity");
  if (!data.events.length) return;
  document.getElementById("activity").replaceChildren(...data.events.slice(0, 12).map(activityItem));
}

poll(refreshSubjects, 2000);
poll(refreshActivity, 2000);
