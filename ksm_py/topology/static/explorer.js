// The topology explorer: asks ui/graph for a view or an action, shows the SVG that the server
// drew with Graphviz, and polls (ETag) so the page follows the cluster.  Every name and label
// is set as text; the SVG is parsed and cleaned before it joins the page.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const DEFAULT = { view: "applications", namespace: "", action: "", root: "", depth: "6", limit: "" };
  const ACTION_TITLES = {
    config: "Show configuration and storage",
    deps: "Show dependencies (deep)",
    pods: "Show pods",
    "pods-services": "Show pods & services",
    services: "Show services",
    workloads: "Show workloads",
  };
  let state = { ...DEFAULT };
  let doc = null;
  let etag = "";
  let timer = 0;
  let asked = 0;
  let selected = "";
  let zoom = 0; // 0: fit to the window; otherwise a scale of the drawing's own size

  // -- state in the address (#view=...&namespace=...), so a view can be bookmarked ----------
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    state = { ...DEFAULT };
    for (const k of Object.keys(DEFAULT)) if (p.has(k)) state[k] = p.get(k);
  }

  function go(change) {
    const next = { ...state, ...change };
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v !== "" && v !== DEFAULT[k]) p.set(k, v);
    location.hash = p.toString(); // hashchange refreshes
  }

  // -- talking to the server ------------------------------------------------------------------
  function query() {
    const p = new URLSearchParams({ view: state.view });
    if (state.namespace) p.set("namespace", state.namespace);
    if (state.limit) p.set("limit", state.limit); // components drawn before the view collapses
    if (state.action) {
      p.set("action", state.action);
      p.set("root", state.root);
      p.set("depth", state.depth);
    }
    // Without the user:password of an address like https://user:pw@host/topology/ui (fetch
    // refuses such URLs); the browser sends the credentials it holds for the page anyway.
    const url = new URL("ui/graph?" + p.toString(), location.href);
    url.username = "";
    url.password = "";
    return url.href;
  }

  async function refresh(fresh) {
    clearTimeout(timer);
    if (fresh) etag = "";
    const mine = ++asked;
    const live = $("live");
    try {
      const r = await fetch(query(), { headers: etag ? { "If-None-Match": etag } : {}, cache: "no-store" });
      if (mine !== asked) return;
      if (r.status === 200) {
        etag = r.headers.get("ETag") || "";
        doc = await r.json();
        if (mine !== asked) return;
        render();
      } else if (r.status !== 304) {
        const e = await r.json().catch(() => ({ error: r.status + " " + r.statusText }));
        etag = "";
        showProblem(e.error || String(r.status));
      }
      live.className = "live on";
      live.textContent = "live, updated " + new Date().toLocaleTimeString();
    } catch (e) {
      if (mine !== asked) return;
      live.className = "live off";
      live.textContent = "disconnected, retrying";
    }
    timer = setTimeout(() => refresh(false), doc ? doc.poll_ms : 2000);
  }

  // -- drawing ----------------------------------------------------------------------------------
  const SVG_TAGS = new Set(["svg", "g", "title", "polygon", "polyline", "ellipse", "path", "text", "defs"]);

  function clean(node) {
    for (const el of Array.from(node.querySelectorAll("*"))) {
      if (!SVG_TAGS.has(el.localName)) {
        el.remove();
        continue;
      }
      for (const a of Array.from(el.attributes)) {
        if (a.name.toLowerCase().startsWith("on") || a.localName === "href" || a.localName === "style") {
          el.removeAttributeNode(a);
        }
      }
    }
  }

  function placeSvg(box, text) {
    box.replaceChildren();
    if (!text) return null;
    const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = parsed.documentElement;
    if (svg.localName !== "svg" || parsed.getElementsByTagName("parsererror").length) {
      box.textContent = "The drawing could not be read.";
      return null;
    }
    clean(svg);
    const node = document.importNode(svg, true);
    box.appendChild(node);
    return node;
  }

  function applyZoom() {
    const svg = $("graph").querySelector("svg");
    if (!svg) return;
    const w = parseFloat(svg.dataset.w || svg.getAttribute("width"));
    const h = parseFloat(svg.dataset.h || svg.getAttribute("height"));
    svg.dataset.w = w;
    svg.dataset.h = h;
    if (zoom === 0) {
      svg.setAttribute("width", "100%");
      svg.setAttribute("height", "100%");
      svg.style.maxWidth = w + "pt";
      svg.style.maxHeight = Math.max(h, 200) + "pt";
    } else {
      svg.setAttribute("width", w * zoom + "pt");
      svg.setAttribute("height", h * zoom + "pt");
      svg.style.maxWidth = "";
      svg.style.maxHeight = "";
    }
  }

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  function describe(key) {
    const [type, ns, ...rest] = key.split("/");
    return type + " " + (ns ? ns + "/" : "") + rest.join("/");
  }

  function render() {
    $("cluster").textContent = doc.cluster;
    // What is on screen, for anyone (tests, scripts) waiting for an answer to arrive.
    document.body.dataset.shown = doc.action ? [doc.action, doc.root, doc.depth].join(" ")
      : [doc.view, doc.namespace].join(" ");
    document.title = doc.title + " - topology - ksm-py";
    for (const b of document.querySelectorAll("#views button")) {
      b.setAttribute("aria-pressed", String(!state.action && b.dataset.view === state.view));
    }
    const sel = $("namespace");
    const want = ["", ...doc.namespaces];
    if (sel.options.length !== want.length || want.some((ns, i) => sel.options[i].value !== ns)) {
      sel.replaceChildren(...want.map((ns) => {
        const o = text("option", ns || "all namespaces");
        o.value = ns;
        return o;
      }));
    }
    sel.value = state.namespace;
    sel.disabled = Boolean(state.action);
    $("back").hidden = !state.action;
    $("depth-box").hidden = state.action !== "deps";
    $("depth").value = state.depth;
    $("title").textContent = doc.title + " \u2014 " + doc.count + " of " + doc.total + " components";

    const msg = $("message");
    msg.hidden = !doc.error && !doc.summary;
    msg.className = doc.error ? "message error" : "message";
    msg.textContent = doc.error || (doc.summary ? doc.count + " components are too many to draw one by one (limit " +
      doc.limit + "): they are counted per type and namespace. Pick a namespace, or a namespace's action, to see " +
      "the components." : "");

    // Counts: the small drawing, then the table right under it.
    $("graph").classList.toggle("compact", Boolean(doc.summary));
    const svg = placeSvg($("graph"), doc.svg);
    if (svg) {
      for (const [id, info] of Object.entries(doc.nodes)) {
        const g = svg.querySelector("#" + id);
        if (!g) continue;
        g.dataset.key = info.key;
        g.addEventListener("click", () => select(info.key));
      }
      applyZoom();
    }
    renderSummary();
    renderList();
    placeSvg($("legend"), doc.legend);
    renderDangling();
    const keys = new Set(Object.values(doc.nodes).map((n) => n.key));
    if (selected && !keys.has(selected)) selected = "";
    showDetails();
  }

  function renderSummary() {
    const box = $("summary");
    box.hidden = !doc.summary;
    box.replaceChildren();
    if (!doc.summary) return;
    const types = Object.keys(doc.summary.by_type);
    const table = document.createElement("table");
    table.className = "counts";
    const head = document.createElement("tr");
    head.append(text("th", "namespace"), text("th", "total"), ...types.map((t) => text("th", t)));
    table.createTHead().appendChild(head);
    const body = table.createTBody();
    for (const row of doc.summary.by_namespace.slice(0, 500)) {
      const tr = document.createElement("tr");
      tr.append(text("td", row.namespace || "(cluster)"), text("td", String(row.total), "n"),
        ...types.map((t) => text("td", row.counts[t] ? String(row.counts[t]) : "", "n")));
      if (row.namespace) tr.addEventListener("click", () => go({ namespace: row.namespace }));
      body.appendChild(tr);
    }
    box.appendChild(table);
  }

  function renderList() {
    const table = $("list");
    table.replaceChildren();
    const nodes = doc.svg ? [] : Object.values(doc.nodes);
    table.hidden = nodes.length === 0;
    if (!nodes.length) return;
    const head = document.createElement("tr");
    head.append(text("th", "type"), text("th", "namespace"), text("th", "name"));
    table.createTHead().appendChild(head);
    const body = table.createTBody();
    for (const n of nodes) {
      const tr = document.createElement("tr");
      tr.dataset.key = n.key;
      tr.append(text("td", n.type), text("td", n.namespace), text("td", n.name));
      tr.addEventListener("click", () => select(n.key));
      body.appendChild(tr);
    }
  }

  function renderDangling() {
    const list = $("dangling");
    list.replaceChildren();
    const count = $("dangling-count");
    count.textContent = String(doc.dangling.length);
    count.className = doc.dangling.length ? "count" : "count zero";
    if (!doc.dangling.length) {
      list.appendChild(text("li", "none", "hint"));
      return;
    }
    for (const r of doc.dangling) {
      const li = document.createElement("li");
      li.dataset.source = r.source;
      li.dataset.target = r.target;
      li.append(text("span", describe(r.source)), text("span", " \u2014" + r.type + "\u2192 ", "rel"),
        text("span", describe(r.target) + " (missing)"));
      li.addEventListener("click", () => select(r.source));
      list.appendChild(li);
    }
  }

  function nodeInfo(key) {
    return Object.values(doc.nodes).find((n) => n.key === key);
  }

  function select(key) {
    selected = key;
    showDetails();
  }

  function showDetails() {
    for (const g of $("graph").querySelectorAll("g.node")) {
      g.classList.toggle("selected", Boolean(selected) && g.dataset.key === selected);
    }
    for (const tr of $("list").querySelectorAll("tr[data-key]")) {
      tr.classList.toggle("selected", tr.dataset.key === selected);
    }
    const info = selected ? nodeInfo(selected) : null;
    $("details-hint").hidden = Boolean(info);
    $("details-body").hidden = !info;
    if (!info) return;
    $("d-name").textContent = info.name;
    $("d-type").textContent = info.type;
    $("d-namespace").textContent = info.namespace || "(cluster-scoped)";
    $("d-uid").textContent = info.uid || "\u2013";
    $("d-missing").hidden = !info.missing;
    const tags = $("d-tags");
    tags.replaceChildren(...info.labels.map(([k, v]) => text("li", k + "=" + v)));
    if (!info.labels.length) tags.appendChild(text("li", info.missing ? "\u2013" : "no labels", "none"));
    const actions = $("d-actions");
    actions.replaceChildren(...info.actions.map((a) => {
      const b = text("button", ACTION_TITLES[a] || a);
      b.type = "button";
      b.dataset.action = a;
      b.addEventListener("click", () => go({ action: a, root: info.key, depth: DEFAULT.depth }));
      return b;
    }));
    if (!info.actions.length) actions.appendChild(text("span", "none for a " + info.type, "none"));
    const rels = $("d-relations");
    rels.replaceChildren();
    for (const r of doc.relations) {
      if (r.source !== info.key && r.target !== info.key) continue;
      const out = r.source === info.key;
      const other = out ? r.target : r.source;
      const li = document.createElement("li");
      li.append(text("span", out ? "\u2014" + r.type + "\u2192 " : "\u2190" + r.type + "\u2014 ", "rel"),
        text("span", describe(other) + (r.dangling ? " (missing)" : "")));
      li.addEventListener("click", () => select(other));
      rels.appendChild(li);
    }
    if (!rels.children.length) rels.appendChild(text("li", "none drawn", "hint"));
  }

  function showProblem(message) {
    const msg = $("message");
    msg.hidden = false;
    msg.className = "message error";
    msg.textContent = message;
  }

  // -- wiring -----------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    for (const b of document.querySelectorAll("#views button")) {
      b.addEventListener("click", () => go({ view: b.dataset.view, action: "", root: "", depth: DEFAULT.depth }));
    }
    $("namespace").addEventListener("change", (e) => go({ namespace: e.target.value }));
    $("back").addEventListener("click", () => go({ action: "", root: "", depth: DEFAULT.depth }));
    $("depth").addEventListener("change", (e) => go({ depth: e.target.value }));
    $("zoom-in").addEventListener("click", () => { zoom = (zoom || 1) * 1.25; applyZoom(); });
    $("zoom-out").addEventListener("click", () => { zoom = (zoom || 1) / 1.25; applyZoom(); });
    $("zoom-fit").addEventListener("click", () => { zoom = 0; applyZoom(); });
    window.addEventListener("hashchange", () => { readHash(); refresh(true); });
    readHash();
    refresh(true);
  });
})();
