/* schemashift UI helpers: DOM building, fetching, and charts drawn as inline SVG.
   No framework, no network beyond this server. */
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

async function fetchJSON(url, options) {
  const response = await fetch(url, Object.assign({ headers: { Accept: "application/json" } }, options || {}));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    // the UI's own endpoints answer {"detail"}, the registry API {"error_code", "message"}
    const detail = body && (body.detail || body.message) ? body.detail || body.message : response.statusText;
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return body;
}

function fmtRate(value) {
  if (!value) return "0";
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function fmtPercent(value) {
  if (!value) return "0%";
  const pct = value * 100;
  return (pct < 1 ? pct.toFixed(2) : pct.toFixed(1)) + "%";
}

function fmtScore(value) {
  return (value || 0).toFixed(3);
}

function fmtTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (isNaN(date.getTime())) return String(iso);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function badge(status) {
  return el("span", { class: "badge " + status, text: status });
}

function subjectHref(subject) {
  return "/ui/subjects/" + encodeURIComponent(subject);
}

/* A drift-score sparkline: scores in [0, 1], newest on the right. */
function sparkline(values, width, height) {
  width = width || 120; height = height || 26;
  const root = svg("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "drift score history" });
  root.append(svg("line", { x1: 0, y1: height - 1, x2: width, y2: height - 1, stroke: "#e2e7ee" }));
  if (!values || values.length === 0) return root;
  const step = values.length > 1 ? (width - 4) / (values.length - 1) : 0;
  const y = (v) => height - 2 - Math.max(0, Math.min(1, v)) * (height - 4);
  const pts = values.map((v, i) => `${(2 + i * step).toFixed(1)},${y(v).toFixed(1)}`);
  root.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: "#1f4e79", "stroke-width": 1.5 }));
  const last = values[values.length - 1];
  root.append(svg("circle", { cx: 2 + (values.length - 1) * step, cy: y(last), r: 2.5,
    fill: last > 0 ? "#b7791f" : "#1e8e4e" }));
  return root;
}

/* Drift score over time with axes; points are {time, score, decision}. */
function driftChart(points, width, height) {
  width = width || 560; height = height || 170;
  const pad = { l: 34, r: 10, t: 10, b: 24 };
  const root = svg("svg", { width: "100%", height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "drift score over time", preserveAspectRatio: "none" });
  const plotW = width - pad.l - pad.r, plotH = height - pad.t - pad.b;
  const y = (v) => pad.t + plotH - Math.max(0, Math.min(1, v)) * plotH;
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    root.append(svg("line", { x1: pad.l, x2: width - pad.r, y1: y(tick), y2: y(tick), stroke: "#eef1f5" }));
    root.append(svg("text", { x: pad.l - 6, y: y(tick) + 4, "text-anchor": "end", "font-size": 10,
      fill: "#65748b", text: tick.toFixed(2) }));
  }
  if (!points || points.length === 0) {
    root.append(svg("text", { x: pad.l + plotW / 2, y: pad.t + plotH / 2, "text-anchor": "middle",
      "font-size": 12, fill: "#65748b", text: "no drift observed yet" }));
    return root;
  }
  const times = points.map((p) => new Date(p.time).getTime());
  const valid = times.every((t) => !isNaN(t));
  const t0 = valid ? Math.min(...times) : 0, t1 = valid ? Math.max(...times) : points.length - 1;
  const x = (i) => {
    const t = valid ? times[i] : i;
    return pad.l + (t1 > t0 ? (t - t0) / (t1 - t0) : 0.5) * plotW;
  };
  const pts = points.map((p, i) => `${x(i).toFixed(1)},${y(p.score).toFixed(1)}`);
  root.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: "#1f4e79", "stroke-width": 1.8 }));
  const colours = { quarantined: "#c53030", registered: "#1e8e4e" };
  points.forEach((p, i) => {
    const dot = svg("circle", { cx: x(i), cy: y(p.score), r: 3.5, fill: colours[p.decision] || "#1f4e79" });
    dot.append(svg("title", { text: `${fmtTime(p.time)}  score ${fmtScore(p.score)}  ${p.decision || ""}` }));
    root.append(dot);
  });
  if (valid) {
    root.append(svg("text", { x: pad.l, y: height - 6, "font-size": 10, fill: "#65748b", text: fmtTime(points[0].time) }));
    root.append(svg("text", { x: width - pad.r, y: height - 6, "text-anchor": "end", "font-size": 10, fill: "#65748b",
      text: fmtTime(points[points.length - 1].time) }));
  }
  return root;
}

/* Versions as dots on a line, oldest left; clicking one selects it. */
function versionTimeline(versions, selected, onSelect) {
  const width = Math.max(260, 76 * versions.length + 60), height = 78;
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "versions timeline" });
  if (versions.length === 0) {
    root.append(svg("text", { x: 10, y: 40, "font-size": 12, fill: "#65748b", text: "no version registered yet" }));
    return root;
  }
  const x = (i) => 48 + i * 76;
  root.append(svg("line", { x1: x(0), x2: x(versions.length - 1), y1: 30, y2: 30, stroke: "#c9d3df", "stroke-width": 2 }));
  versions.forEach((v, i) => {
    const isSel = v.version === selected;
    const group = svg("g", { class: "dot", "data-version": v.version, onclick: () => onSelect(v.version) },
      svg("circle", { cx: x(i), cy: 30, r: isSel ? 9 : 7, fill: isSel ? "#1f4e79" : "#fff", stroke: "#1f4e79",
        "stroke-width": 2 }),
      svg("text", { x: x(i), y: 14, "text-anchor": "middle", "font-size": 11, "font-weight": 600, fill: "#1d2733",
        text: "v" + v.version }),
      svg("text", { x: x(i), y: 56, "text-anchor": "middle", "font-size": 10, fill: "#65748b",
        text: "id " + v.schema_id }),
      svg("text", { x: x(i), y: 70, "text-anchor": "middle", "font-size": 10, fill: "#65748b",
        text: fmtTime(v.created_at) }));
    group.append(svg("title", { text: `version ${v.version}, schema id ${v.schema_id}` }));
    root.append(group);
  });
  return root;
}

/* Pointer-tagged lines of a pretty-printed schema; `marks` maps a pointer prefix to a class. */
function renderLines(pre, lines, marks) {
  pre.replaceChildren();
  const entries = Object.entries(marks || {});
  for (const line of lines) {
    let cls = "ln";
    for (const [prefix, kind] of entries) {
      if (line.pointer === prefix || line.pointer.startsWith(prefix + "/")) { cls += " " + kind; break; }
    }
    pre.append(el("span", { class: cls, "data-pointer": line.pointer, text: line.text }));
  }
}

/* Runs `task` now and every `ms`; the header dot turns red while it fails. */
function poll(task, ms) {
  const live = document.getElementById("live");
  let timer = null;
  async function tick() {
    try {
      await task();
      if (live) live.classList.remove("stale");
    } catch (error) {
      if (live) live.classList.add("stale");
      console.error(error);
    }
    timer = setTimeout(tick, ms);
  }
  tick();
  return () => clearTimeout(timer);
}
