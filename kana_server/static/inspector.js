// kana-server inspector: plain JavaScript, no build step, no network beyond this server.
// Every value from the server reaches the page as text (textContent / createTextNode), never as HTML.
"use strict";

(function () {
  const KEY_STORAGE = "kana-inspector-key";
  const POLL_MS = 2000;
  const MAX_ROWS = 200;
  const SVG = "http://www.w3.org/2000/svg";
  const numbers = new Intl.NumberFormat("en");

  const state = {
    key: null,
    overview: null,
    userId: null,
    chartFeature: null,
    lastRequestId: 0,
    generation: 0,
    filters: { operation: "", user: "" },
    live: true,
    timer: null,
    refreshQueued: false,
  };

  const $ = (id) => document.getElementById(id);

  // DOM helpers -------------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function badge(text, kind) {
    return el("span", { class: "badge" + (kind ? " " + kind : "") }, text);
  }

  function fmt(n) {
    return n === null || n === undefined ? "—" : numbers.format(n);
  }

  function when(iso) {
    return iso ? iso.slice(0, 16).replace("T", " ") : "—";
  }

  function day(iso) {
    return iso ? iso.slice(0, 10) : "—";
  }

  function clock(iso) {
    return iso ? iso.slice(11, 23) : "";
  }

  function status(message, isError) {
    const node = $("status");
    node.textContent = message || "";
    node.classList.toggle("error", Boolean(isError));
  }

  // Server -------------------------------------------------------------------------------------

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: state.key }, cache: "no-store" });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.error ? body.error.message : "HTTP " + response.status;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function query(params) {
    const parts = [];
    for (const [name, value] of Object.entries(params)) {
      if (value !== "" && value !== null && value !== undefined) {
        parts.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
      }
    }
    return parts.length ? "?" + parts.join("&") : "";
  }

  // Key ---------------------------------------------------------------------------------------

  async function open(key) {
    state.key = key;
    status("Opening the project…");
    try {
      state.overview = await api("/_kana/inspector/overview");
    } catch (error) {
      state.key = null;
      sessionStorage.removeItem(KEY_STORAGE);
      $("main").hidden = true;
      $("forget-key").hidden = true;
      status(error.status === 401 ? "That key was refused: " + error.message : error.message, true);
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    $("forget-key").hidden = false;
    $("main").hidden = false;
    status("");
    renderOverview();
    resetRequests();
    if (state.userId && !state.overview.users.some((u) => u.id === state.userId)) state.userId = null;
    if (state.userId) await showUser(state.userId, false);
  }

  function forget() {
    sessionStorage.removeItem(KEY_STORAGE);
    stopPolling();
    Object.assign(state, { key: null, overview: null, userId: null, chartFeature: null, lastRequestId: 0 });
    $("main").hidden = true;
    $("forget-key").hidden = true;
    $("key-input").value = "";
    clear($("requests"));
    status("The key was forgotten.");
    $("key-input").focus();
  }

  // Overview ----------------------------------------------------------------------------------

  function renderOverview() {
    const o = state.overview;
    $("project-name").textContent = o.project.name;
    const facts = clear($("project-facts"));
    const fact = (term, value) => facts.appendChild(el("div", {}, el("dt", {}, term), el("dd", {}, value)));
    const clockText = o.project.clock.frozen ? " (frozen)" : o.project.clock.virtual ? " (virtual)" : "";
    fact("Project time", when(o.project.now) + " UTC" + clockText);
    fact("Features", fmt(o.features.length));
    fact("Packages", fmt(o.packages.length));
    fact("Users", fmt(o.usersTotal));

    const users = clear($("users"));
    for (const user of o.users) {
      const button = el(
        "button",
        { type: "button", "data-user": user.id, "aria-current": user.id === state.userId ? "true" : null },
        el("span", {}, user.id),
        el("span", { class: "sub" }, user.name || user.email || "")
      );
      button.addEventListener("click", () => showUser(user.id, true));
      users.appendChild(el("li", {}, button));
    }
    if (!o.users.length) users.appendChild(el("li", { class: "muted" }, "No users yet."));
    $("users-more").textContent =
      o.usersTotal > o.users.length ? "Showing the first " + fmt(o.users.length) + " of " + fmt(o.usersTotal) + "." : "";

    const features = clear($("features"));
    for (const f of o.features) {
      features.appendChild(
        el(
          "tr",
          {},
          el("td", {}, el("div", {}, f.name), el("div", { class: "small mono" }, f.id)),
          el("td", {}, badge(f.type.toLowerCase(), f.type === "CONSUMABLE" ? "info" : null))
        )
      );
    }
    if (!o.features.length) features.appendChild(el("tr", {}, el("td", { colspan: 2, class: "muted" }, "No features yet.")));

    const names = Object.fromEntries(o.features.map((f) => [f.id, f.name]));
    const packages = clear($("packages"));
    for (const p of o.packages) {
      const kind = p.status === "PUBLISHED" ? "ok" : p.status === "DRAFT" ? "warn" : null;
      packages.appendChild(
        el(
          "div",
          { class: "package" },
          el("h3", {}, el("span", {}, p.name), badge(p.status.toLowerCase(), kind), p.isAddon ? badge("add-on", "info") : null),
          el("div", { class: "small mono" }, p.id),
          el(
            "ul",
            {},
            p.features.map((f) => el("li", {}, (names[f.id] || f.id) + ": " + entitlementText(f))),
            p.basePackages.length ? el("li", {}, "only with: " + p.basePackages.join(", ")) : null
          )
        )
      );
    }
    if (!o.packages.length) packages.appendChild(el("p", { class: "muted" }, "No packages yet."));
    $("ledger-note").textContent = o.ledger.enabled
      ? "The newest " + fmt(o.ledger.capacity) + " GraphQL requests of this project are kept (per server process)."
      : "The request ledger is off (KANA_LEDGER_SIZE=0).";
  }

  function entitlementText(f) {
    const feature = state.overview.features.find((x) => x.id === f.id);
    if (feature && feature.type === "BINARY") return "included";
    const limit = f.limit === null ? "unlimited" : fmt(f.limit);
    const reset = f.resetPeriod ? " per " + f.resetPeriod.toLowerCase() : " (never resets)";
    return limit + reset + (f.overageEnabled ? ", overage" : "");
  }

  // One user ----------------------------------------------------------------------------------

  async function showUser(userId, moveFocus) {
    state.userId = userId;
    for (const button of document.querySelectorAll("#users button")) {
      button.setAttribute("aria-current", button.dataset.user === userId ? "true" : "false");
    }
    let detail;
    try {
      detail = await api("/_kana/inspector/user" + query({ id: userId }));
    } catch (error) {
      status(error.message, true);
      return;
    }
    renderUser(detail);
    if (moveFocus) $("user-title").focus();
  }

  function renderUser(detail) {
    const user = detail.user;
    const title = $("user-title");
    title.textContent = "User " + user.id;
    title.setAttribute("tabindex", "-1");
    const box = clear($("user-detail"));
    box.appendChild(
      el(
        "div",
        { class: "user-head" },
        user.name ? el("span", {}, user.name) : null,
        user.email ? el("span", {}, user.email) : null,
        user.billingId ? el("span", { class: "mono" }, "billing " + user.billingId) : null
      )
    );

    const subs = el("table", { class: "compact" },
      el("caption", { class: "sr-only" }, "Subscriptions"),
      el("thead", {}, el("tr", {}, ["#", "Package", "Status", "Since"].map((h) => el("th", { scope: "col" }, h)))),
      el(
        "tbody",
        {},
        detail.subscriptions.map((s) =>
          el(
            "tr",
            {},
            el("td", { class: "mono" }, s.id),
            el("td", {}, s.packageName, " ", s.isAddon ? badge("add-on", "info") : null),
            el("td", {}, badge(s.status.toLowerCase(), s.live ? "ok" : "bad")),
            el("td", {}, when(s.startedAt))
          )
        )
      )
    );
    const left = el("div", {}, el("h3", {}, "Subscriptions"),
      detail.subscriptions.length ? subs : el("p", { class: "muted" }, "No subscriptions."),
      el("h3", {}, "Features"), featureList(detail.features));

    const consumables = detail.features.filter((f) => f.type === "CONSUMABLE");
    if (!consumables.some((f) => f.id === state.chartFeature)) {
      const held = consumables.find((f) => f.winner) || consumables[0];
      state.chartFeature = held ? held.id : null;
    }
    const chartBox = el("div", { class: "chart", id: "chart" });
    const right = el("div", {});
    if (consumables.length) {
      const select = el("select", { id: "chart-feature", "aria-label": "Feature shown in the chart" },
        consumables.map((f) => el("option", { value: f.id, selected: f.id === state.chartFeature }, f.name)));
      select.addEventListener("change", () => {
        state.chartFeature = select.value;
        loadChart();
      });
      right.appendChild(el("div", { class: "chart-head" }, el("h3", {}, "Usage over time"), select));
      right.appendChild(chartBox);
    } else {
      right.appendChild(el("p", { class: "muted" }, "No consumable feature to chart."));
    }
    box.appendChild(el("div", { class: "split" }, left, right));
    if (consumables.length) loadChart();
  }

  function featureList(features) {
    const list = el("ul", { class: "feature-usage" });
    for (const f of features) {
      const line = el("div", { class: "feature-line" },
        el("span", {}, el("span", { class: "name" }, f.name), " ", el("span", { class: "small mono" }, f.id)),
        f.access ? badge("access", "ok") : badge("no access", "bad"));
      const item = el("li", { "data-feature": f.id }, line);
      if (!f.winner) {
        item.appendChild(el("div", { class: "small" }, "No live package holds this feature."));
      } else if (f.type === "BINARY") {
        item.appendChild(el("div", { class: "small" }, "Included in " + f.winner.packageId + "."));
      } else {
        const unit = f.unitLabelPlural || "";
        const label = f.name + " used";
        if (f.budget === null) {
          item.appendChild(el("div", { class: "small" }, fmt(f.used) + " " + unit + " used · unlimited"));
        } else {
          const ratio = f.budget > 0 ? f.used / f.budget : f.used > 0 ? 2 : 0;
          const fill = el("div", {
            class: "meter-fill" + (ratio > 1 ? " over" : ratio >= 1 ? " full" : ratio >= 0.8 ? " high" : ""),
          });
          fill.style.width = Math.min(100, Math.round(ratio * 1000) / 10) + "%";
          const text = fmt(f.used) + " / " + fmt(f.budget) + (unit ? " " + unit : "") + (ratio > 1 ? " (overage)" : "");
          item.appendChild(
            el("div", {
              class: "meter",
              role: "meter",
              "aria-label": label,
              "aria-valuemin": 0,
              "aria-valuemax": f.budget,
              "aria-valuenow": Math.min(f.used, f.budget),
              "aria-valuetext": text,
              "data-used": f.used,
              "data-budget": f.budget,
            }, fill)
          );
          item.appendChild(el("div", { class: "feature-line small" }, el("span", {}, text),
            el("span", {}, f.overageEnabled ? "overage on" : "")));
        }
        item.appendChild(el("div", { class: "small" },
          "Period " + when(f.period.start) + " → " + when(f.period.end) + " · via " + f.winner.packageId));
      }
      list.appendChild(item);
    }
    return list;
  }

  // Chart -------------------------------------------------------------------------------------

  async function loadChart() {
    const box = $("chart");
    if (!box || !state.chartFeature) return;
    let history;
    try {
      history = await api("/_kana/inspector/usage" + query({ user: state.userId, feature: state.chartFeature }));
    } catch (error) {
      clear(box).appendChild(el("p", { class: "muted" }, error.message));
      return;
    }
    drawChart(clear(box), history);
  }

  function drawChart(box, history) {
    const W = 640, H = 240, L = 58, R = 14, T = 12, B = 34;
    const now = Date.parse(history.now);
    const groups = new Map();
    for (const p of history.points) {
      const k = p.subscriptionId + "|" + p.period.start;
      if (!groups.has(k)) groups.set(k, { start: p.period.start, end: p.period.end, budget: p.budget, points: [] });
      groups.get(k).points.push(p);
    }
    const current = history.current;
    if (current && current.winner && current.period) {
      const k = current.winner.subscriptionId + "|" + current.period.start;
      if (!groups.has(k)) groups.set(k, { start: current.period.start, end: current.period.end, budget: current.budget, points: [] });
    }
    const list = [...groups.values()].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    const unit = history.feature.unitLabelPlural || "units";
    const title = history.feature.name + " used by " + history.userId + " over time";
    if (!list.length) {
      box.appendChild(el("p", { class: "muted" }, "No usage recorded and no live package holds this feature."));
      return;
    }
    const firstPoint = history.points.length ? Date.parse(history.points[0].at) : now;
    let x0 = Math.min(firstPoint, ...list.map((g) => Date.parse(g.start)));
    const lastPoint = history.points.length ? Date.parse(history.points[history.points.length - 1].at) : now;
    let x1 = Math.max(now, lastPoint);
    if (x1 - x0 < 60000) { x0 -= 30000; x1 += 30000; }
    let top = 1;
    for (const g of list) {
      if (g.budget !== null) top = Math.max(top, g.budget);
      for (const p of g.points) top = Math.max(top, p.usedAfter);
    }
    top *= 1.1;
    const x = (t) => L + ((t - x0) / (x1 - x0)) * (W - L - R);
    const y = (v) => H - B - (v / top) * (H - T - B);

    const desc = history.points.length
      ? history.points.length + " usage events. Now " + fmt(current ? current.used : null) + " of " +
        (current && current.budget !== null ? fmt(current.budget) : "unlimited") + " " + unit + " in the current period."
      : "No usage recorded yet.";
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "chart-title chart-desc",
      "data-points": history.points.length },
      svg("title", { id: "chart-title" }, title), svg("desc", { id: "chart-desc" }, desc));

    for (const v of [0, top / 2 / 1.1, top / 1.1]) {
      chart.appendChild(svg("line", { class: v === 0 ? "axis" : "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      chart.appendChild(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmt(Math.round(v))));
    }
    for (let i = 0; i <= 4; i++) {
      const t = x0 + (i * (x1 - x0)) / 4;
      const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
      chart.appendChild(svg("line", { class: "axis", x1: x(t), x2: x(t), y1: H - B, y2: H - B + 4 }));
      chart.appendChild(svg("text", { x: x(t), y: H - 12, "text-anchor": anchor }, day(new Date(t).toISOString())));
    }

    for (const g of list) {
      const gs = Math.max(Date.parse(g.start), x0);
      const ge = Math.min(Date.parse(g.end), x1);
      if (Date.parse(g.start) >= x0) {
        chart.appendChild(svg("line", { class: "period", x1: x(gs), x2: x(gs), y1: T, y2: H - B },
          svg("title", {}, "Period from " + when(g.start))));
      }
      if (g.budget !== null) {
        chart.appendChild(svg("path", { class: "budget", d: "M" + x(gs) + "," + y(g.budget) + "H" + x(ge) },
          svg("title", {}, "Budget " + fmt(g.budget) + " " + unit)));
      }
      let d = "M" + x(gs) + "," + y(0);
      for (const p of g.points) d += "H" + x(Date.parse(p.at)) + "V" + y(p.usedAfter);
      d += "H" + x(ge);
      chart.appendChild(svg("path", { class: "area", d: d + "V" + y(0) + "Z" }));
      chart.appendChild(svg("path", { class: "used", d: d }));
      for (const p of g.points) {
        const sign = p.action === "SET" ? "= " : p.delta >= 0 ? "+" : "";
        chart.appendChild(svg("circle", { class: "point", cx: x(Date.parse(p.at)), cy: y(p.usedAfter), r: 3 },
          svg("title", {}, when(p.at) + ": " + p.action + " " + sign + fmt(p.delta) + " → " + fmt(p.usedAfter))));
      }
    }
    box.appendChild(chart);
    box.appendChild(el("div", { class: "legend", "aria-hidden": "true" },
      el("span", {}, el("span", { class: "swatch" }), "used in the period"),
      el("span", {}, el("span", { class: "swatch budget" }), "budget")));
    if (history.points.length) {
      box.appendChild(el("details", {}, el("summary", {}, "Usage events as a table"),
        el("table", { class: "compact" },
          el("thead", {}, el("tr", {}, ["When", "Action", "Delta", "Used after", "Package"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, history.points.map((p) => el("tr", {}, el("td", {}, when(p.at)), el("td", {}, p.action),
            el("td", { class: "num" }, fmt(p.delta)), el("td", { class: "num" }, fmt(p.usedAfter)), el("td", {}, p.packageId)))))));
    }
  }

  // Requests ----------------------------------------------------------------------------------

  function resetRequests() {
    state.generation += 1;
    state.lastRequestId = 0;
    clear($("requests"));
    $("requests-empty").hidden = false;
    pollRequests();
  }

  function stopPolling() {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
  }

  async function pollRequests() {
    stopPolling();
    if (!state.key) return;
    const generation = state.generation;
    if (document.visibilityState !== "hidden") {
      try {
        const page = await api("/_kana/requests" + query({
          operation: state.filters.operation,
          user: state.filters.user,
          after: state.lastRequestId,
          limit: MAX_ROWS,
        }));
        if (generation !== state.generation) return; // the filters changed meanwhile
        addRequests(page.requests);
      } catch (error) {
        status(error.message, true);
      }
    }
    if (state.live && state.key && generation === state.generation) state.timer = setTimeout(pollRequests, POLL_MS);
  }

  function addRequests(entries) {
    if (!entries.length) return;
    const body = $("requests");
    const wasEmpty = state.lastRequestId === 0;
    state.lastRequestId = Math.max(state.lastRequestId, ...entries.map((e) => e.id));
    const fragment = document.createDocumentFragment();
    for (const entry of entries) fragment.appendChild(requestRow(entry));
    body.insertBefore(fragment, body.firstChild);
    const rows = body.querySelectorAll("tr.summary");
    for (let i = MAX_ROWS; i < rows.length; i++) {
      const detail = document.getElementById("request-" + rows[i].dataset.request);
      if (detail) detail.remove();
      rows[i].remove();
    }
    $("requests-empty").hidden = true;
    if (!wasEmpty && entries.some((e) => e.operationType === "mutation")) queueRefresh();
  }

  function queueRefresh() {
    if (state.refreshQueued) return;
    state.refreshQueued = true;
    setTimeout(async () => {
      state.refreshQueued = false;
      if (state.userId) await showUser(state.userId, false);
    }, 300);
  }

  function outcome(entry) {
    if (entry.errors.length) return badge("error " + (entry.errors[0].code || ""), "bad");
    const traces = entry.traces;
    if (traces.some((t) => t.kind === "entitlement" && t.access === false)) return badge("denied", "warn");
    if (traces.some((t) => t.kind === "recordUsage" && t.recorded === false)) return badge("not recorded", "warn");
    return badge("ok", "ok");
  }

  function operationLabel(entry) {
    if (entry.rootFields.length) return entry.rootFields.join(", ");
    return entry.operationName || "(not parsed)";
  }

  function requestRow(entry) {
    const detailId = "request-" + entry.id;
    const button = el("button", { type: "button", class: "op", "aria-expanded": "false", "aria-controls": detailId,
      "data-request": entry.id }, operationLabel(entry));
    const row = el("tr", { class: "summary", "data-request": entry.id },
      el("td", { title: entry.at }, clock(entry.at)),
      el("td", {}, button, entry.operationName ? el("span", { class: "small" }, " " + entry.operationName) : null),
      el("td", {}, entry.users.join(", ")),
      el("td", {}, outcome(entry)),
      el("td", { class: "num" }, entry.durationMs.toFixed(1)));
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") === "true";
      const existing = document.getElementById(detailId);
      if (open) {
        if (existing) existing.remove();
        button.setAttribute("aria-expanded", "false");
      } else {
        row.after(el("tr", { class: "detail", id: detailId }, el("td", { colspan: 5 }, requestDetail(entry))));
        button.setAttribute("aria-expanded", "true");
      }
    });
    return row;
  }

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  function requestDetail(entry) {
    const parts = el("div", { class: "request-detail" });
    parts.appendChild(el("div", { class: "small" },
      entry.at + " · project time " + entry.projectTime + " · " + entry.endpoint + " · " + entry.keyKind + " key · " +
      entry.durationMs.toFixed(2) + " ms"));
    if (entry.traces.length) {
      parts.appendChild(el("h3", {}, "Decision trace"));
      for (const t of entry.traces) parts.appendChild(traceView(t));
      if (entry.tracesDropped) parts.appendChild(el("p", { class: "small" }, fmt(entry.tracesDropped) + " more traces not kept."));
    }
    if (entry.errors.length) {
      parts.appendChild(el("h3", {}, "Errors"));
      parts.appendChild(el("ul", {}, entry.errors.map((e) => el("li", {}, (e.code ? e.code + ": " : "") + e.message))));
    }
    const result = entry.result !== null ? pretty(entry.result)
      : entry.resultTruncated ? "Too big to keep (" + fmt(entry.resultBytes) + " bytes): " + pretty(entry.resultTruncated)
      : "null";
    parts.appendChild(el("div", { class: "cols" },
      el("div", {}, el("h3", {}, "Variables"), el("pre", { "data-part": "variables" }, pretty(entry.variables))),
      el("div", {}, el("h3", {}, "Result"), el("pre", { "data-part": "result" }, result))));
    parts.appendChild(el("details", {}, el("summary", {}, "Query"), el("pre", {}, entry.query || "")));
    return parts;
  }

  function grantText(g) {
    const limit = g.limit === null ? "unlimited" : "limit " + fmt(g.limit);
    return g.packageId + " (subscription " + g.subscriptionId + ", " + limit +
      (g.resetPeriod ? " per " + String(g.resetPeriod).toLowerCase() : "") + (g.isAddon ? ", add-on" : "") + ")";
  }

  function traceView(t) {
    const rows = [];
    const row = (term, ...value) => rows.push(el("dt", {}, term), el("dd", {}, ...value));
    if (t.userId !== undefined) row("User", t.userId);
    if (t.featureId !== undefined) row("Feature", t.featureId + (t.featureType ? " (" + t.featureType.toLowerCase() + ")" : ""));
    if (t.action !== undefined) row("Action", t.action + " " + fmt(t.delta));
    else if (t.delta !== undefined) row("Delta", fmt(t.delta));
    if (t.considered !== undefined) {
      row("Considered", t.considered.length
        ? el("ul", {}, t.considered.map((g) => el("li", {}, grantText(g))))
        : "no live subscription holds this feature");
    }
    if (t.winner) row("Winner", el("span", { class: "winner" }, grantText(t.winner)));
    if (t.why) row("Why it won", t.why);
    if (t.period) row("Period", when(t.period.start) + " → " + when(t.period.end));
    if (t.used !== undefined && t.used !== null) row("Used / budget", fmt(t.used) + " / " + (t.budget === null ? "unlimited" : fmt(t.budget)));
    if (t.usedBefore !== undefined) row("Used", fmt(t.usedBefore) + " → " + fmt(t.usedAfter) + (t.budget !== undefined ? " of " + (t.budget === null ? "unlimited" : fmt(t.budget)) : ""));
    if (t.rule) row("Rule", t.rule);
    if (t.access !== undefined) row("Access", t.access ? "true" : "false");
    if (t.recorded !== undefined) row("Recorded", t.recorded ? "true" : "false");
    if (t.reason) row("Reason", t.reason);
    const denied = t.access === false || t.recorded === false;
    return el("div", { class: "trace" + (denied ? " denied" : ""), "data-kind": t.kind },
      el("strong", {}, t.kind), el("dl", {}, rows),
      el("details", {}, el("summary", {}, "All fields"), el("pre", {}, pretty(t))));
  }

  // Wiring ------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("key-input").value.trim();
      if (key) open(key);
    });
    $("forget-key").addEventListener("click", forget);
    $("refresh").addEventListener("click", () => state.key && open(state.key));
    $("request-filters").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      state.filters = { operation: form.operation.value.trim(), user: form.user.value.trim() };
      resetRequests();
    });
    $("live-toggle").addEventListener("click", (event) => {
      state.live = !state.live;
      event.currentTarget.setAttribute("aria-pressed", String(state.live));
      event.currentTarget.textContent = state.live ? "Live" : "Paused";
      if (state.live) pollRequests();
      else stopPolling();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && state.live && state.key) pollRequests();
    });
    const saved = sessionStorage.getItem(KEY_STORAGE);
    if (saved) {
      $("key-input").value = saved;
      open(saved);
    }
  });
})();
