/* Webhook subscriptions and deliveries, over the /v1/webhooks API. */
"use strict";

const KINDS = ["schema.updated", "drift.quarantined", "quarantine.accepted", "quarantine.rejected", "version.sunset"];

function notice(message, isError) {
  document.getElementById("flash-box").replaceChildren(
    el("div", { class: "flash" + (isError ? " error" : ""), role: "status", text: message }));
}

async function call(url, options) {
  try {
    return await fetchJSON(url, options);
  } catch (error) {
    notice(error.message, true);
    throw error;
  }
}

function subscriptionRow(s) {
  const toggle = el("button", { type: "button", class: "toggle", "data-id": s.id,
    onclick: () => call(`/v1/webhooks/${s.id}`, { method: "PATCH", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ enabled: !s.enabled }) }).then(refresh) }, s.enabled ? "Pause" : "Resume");
  const remove = el("button", { type: "button", class: "reject", "data-id": s.id,
    onclick: async () => {
      if (!confirm(`Delete subscription #${s.id}?`)) return;
      await fetch(`/v1/webhooks/${s.id}`, { method: "DELETE" });
      notice(`Subscription #${s.id} deleted.`);
      refresh();
    } }, "Delete");
  return el("tr", { "data-subscription": s.id },
    el("td", { text: s.id }),
    el("td", {}, el("code", { text: s.url })),
    el("td", { text: s.subjects.join(", ") }),
    el("td", { text: s.kinds.length === KINDS.length ? "all" : s.kinds.join(", ") }),
    el("td", { class: "num", text: s.pending }),
    el("td", { class: "num", text: s.dead }),
    el("td", {}, el("span", { class: "badge " + (s.enabled ? "healthy" : "drifting"),
      text: s.enabled ? "active" : "paused" })),
    el("td", {}, toggle, " ", remove));
}

function deliveryRow(d) {
  const status = { delivered: "healthy", pending: "drifting", dead: "quarantined" }[d.status] || "drifting";
  const answer = d.last_status_code ? `HTTP ${d.last_status_code}` : (d.last_error || "");
  const resend = d.status === "dead" ? el("button", { type: "button", onclick: () =>
    call(`/v1/webhooks/deliveries/${d.id}/resend`, { method: "POST" }).then(refresh) }, "Re-send") : null;
  return el("tr", {},
    el("td", { text: d.id }), el("td", { text: d.subscription_id }),
    el("td", { text: d.subject }), el("td", { text: d.kind }),
    el("td", {}, el("span", { class: "badge " + status, text: d.status })),
    el("td", { class: "num", text: d.attempts }),
    el("td", { text: answer }), el("td", {}, resend));
}

async function refresh() {
  const [subscriptions, deliveries] = await Promise.all([
    fetchJSON("/v1/webhooks"), fetchJSON("/v1/webhooks/deliveries?limit=50")]);
  const subs = document.querySelector("#subscriptions tbody");
  subs.replaceChildren(...(subscriptions.length ? subscriptions.map(subscriptionRow)
    : [el("tr", { class: "empty" }, el("td", { colspan: 8, text: "No subscription yet." }))]));
  const dels = document.querySelector("#deliveries tbody");
  dels.replaceChildren(...(deliveries.length ? deliveries.map(deliveryRow)
    : [el("tr", { class: "empty" }, el("td", { colspan: 8, text: "Nothing delivered yet." }))]));
}

const kindsBox = document.getElementById("kinds");
for (const kind of KINDS) {
  kindsBox.append(el("label", {}, el("input", { type: "checkbox", name: "kind", value: kind, checked: true }), " " + kind));
}

document.getElementById("new-subscription").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = {
    url: form.url.value.trim(),
    subjects: form.subjects.value.split(",").map((s) => s.trim()).filter(Boolean),
    kinds: [...form.querySelectorAll("input[name=kind]:checked")].map((i) => i.value),
    description: form.description.value,
  };
  const created = await call("/v1/webhooks", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  notice(`Subscription #${created.id} created. Its signing secret (shown once): ${created.secret}`);
  form.reset();
  for (const box of form.querySelectorAll("input[name=kind]")) box.checked = true;
  refresh();
});

document.getElementById("resend-dead").addEventListener("click", () =>
  call("/v1/webhooks/dead-letters/resend", { method: "POST" }).then(() => { notice("Dead letters queued again."); refresh(); }));

poll(refresh, 3000);
