// Polls /stats once a second and turns its counters into rates over the
// appliance's own clock (uptime_ms), drawn as small charts of the last
// minute. No framework: the page is part of the image (www/).
"use strict";

const PERIOD_MS = 1000;
const POINTS = 60;
const series = {};
let last = null;

function $(id) { return document.getElementById(id); }

function sum(obj) {
  let s = 0;
  for (const k in obj || {}) if (typeof obj[k] === "number") s += obj[k];
  return s;
}

function push(name, v) {
  const s = series[name] || (series[name] = []);
  s.push(v);
  if (s.length > POINTS) s.shift();
}

function fmt(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (v >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return v >= 100 || v === Math.round(v) ? Math.round(v).toString()
                                         : v.toFixed(1);
}

function color(name) {
  return getComputedStyle(document.documentElement)
    .getPropertyValue(name).trim();
}

// Draws one or two series; each scaled to its own peak when `own` is set.
function draw(id, names, own) {
  const c = $(id);
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  if (c.width !== w * dpr || c.height !== h * dpr) {
    c.width = w * dpr;
    c.height = h * dpr;
  }
  const g = c.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.strokeStyle = color("--line");
  g.beginPath();
  g.moveTo(0, h - 0.5);
  g.lineTo(w, h - 0.5);
  g.stroke();
  let peak = 0;
  for (const n of names) for (const v of series[n] || []) peak = Math.max(peak, v);
  names.forEach((n, i) => {
    const s = series[n] || [];
    const top = own ? Math.max(...s, 0) : peak;
    if (s.length < 2) return;
    g.strokeStyle = color(i ? "--second" : "--accent");
    g.lineWidth = 1.6;
    g.beginPath();
    s.forEach((v, k) => {
      const x = (w - 1) * (k + POINTS - s.length) / (POINTS - 1);
      const y = h - 2 - (top > 0 ? v / top : 0) * (h - 6);
      if (k) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.stroke();
  });
}

function counters(st) {
  const d = st.driver || {}, n = st.netif || {}, http = st.http || {};
  return {
    t: st.uptime_ms,
    rx: d.rx_packets || 0,
    tx: d.tx_packets || 0,
    req: http.requests || 0,
    drops: sum(d.drops) + sum(n.drops) + ((n.txq || {}).drops || 0),
    irq: sum(d.irqs),
    polls: d.polls || 0,
  };
}

function showXdp(x) {
  $("xdp-prog").textContent = x && x.attached
    ? x.attached + (x.jit ? " (JIT)" : " (interpreted)") : "no program";
  const dl = $("xdp");
  dl.textContent = "";
  if (!x || !x.attached) return;
  for (const k of ["runs", "pass", "drop", "tx", "redirect", "aborted"]) {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = fmt(x[k] || 0);
    dd.id = "xdp-" + k;
    dl.append(dt, dd);
  }
}

function update(st) {
  const now = counters(st);
  $("mode").textContent = st.mode;
  $("uptime").textContent = fmt(st.uptime_ms / 1000) + " s";
  $("requests").textContent = fmt(now.req);
  $("active").textContent = fmt((st.http || {}).active || 0);
  $("drops").textContent = fmt(now.drops);
  const heap = st.heap || {};
  $("heap").textContent = fmt((heap.in_use || 0) / 1024);
  $("heap-peak").textContent = fmt((heap.peak || 0) / 1024);
  $("heap-arena").textContent = fmt((heap.arena || 0) / 1024);
  push("heap", (heap.in_use || 0) / 1024);
  showXdp(st.xdp);
  if (last && now.t > last.t) {
    const dt = (now.t - last.t) / 1000;
    const rate = (k) => Math.max(0, now[k] - last[k]) / dt;
    push("rx", rate("rx"));
    push("tx", rate("tx"));
    push("rps", rate("req"));
    push("dps", rate("drops"));
    push("irq", rate("irq"));
    push("polls", rate("polls"));
    $("pps").textContent = fmt(rate("rx") + rate("tx"));
    $("rps").textContent = fmt(rate("req"));
    $("dps").textContent = fmt(rate("drops"));
    $("ips").textContent = fmt(rate("irq"));
    $("polls").textContent = fmt(rate("polls"));
  }
  last = now;
  draw("c-pps", ["rx", "tx"]);
  draw("c-rps", ["rps"]);
  draw("c-dps", ["dps"]);
  draw("c-irq", ["irq", "polls"], true);
  draw("c-heap", ["heap"]);
}

async function poll() {
  const state = $("state");
  try {
    const r = await fetch("/stats", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    update(await r.json());
    state.textContent = "live";
    state.className = "";
  } catch (e) {
    // Shown on the page, not thrown: the appliance may be restarting.
    state.textContent = "no answer (" + e.message + ")";
    state.className = "bad";
  }
  setTimeout(poll, PERIOD_MS);
}

poll();
