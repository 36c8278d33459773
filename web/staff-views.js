// carecall staff page: the parts of the patient page and today's list drawn from report data
// (loaded after staff-text.js, before staff.js, which reads window.CARECALL_VIEWS): the value
// charts, the answers of each day, flag and reason cells, and the live calls panel. Every
// value from the server is written with textContent, never as HTML.
"use strict";

(function () {
  const { TEXT, ANSWERS, reasonText, questionText } = window.CARECALL_TEXT;
  const SVG = "http://www.w3.org/2000/svg";
  const QUESTION_ORDER = ["temperature", "spo2", "face", "cough", "breath", "fatigue", "nausea",
    "diarrhea", "conscious", "eating", "urine", "callback"];
  const LIVE_POLL_MS = 3000;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  /** The flag badge: red / amber / fine for a report, a grey "no report" when there is none. */
  function flagBadge(ui, flag, hasReport) {
    if (!hasReport) return el("span", { class: "flag", "data-flag": "noreport", text: TEXT[ui].noReport });
    const f = flag || "none";
    return el("span", { class: "flag", "data-flag": f, text: TEXT[ui].flags[f] });
  }

  /** The mark of a report from a day outside the patient's observation period. */
  function outsideBadge(ui) {
    return el("span", { class: "badge outside", title: TEXT[ui].outsidePeriodHint, text: TEXT[ui].outsidePeriod });
  }

  /** The reasons of a flag as a list of words in the page's language. */
  function reasonList(ui, codes, th) {
    if (!codes || !codes.length) return null;
    return el("ul", { class: "reasons" },
      codes.map((c) => el("li", { "data-reason": c, text: reasonText(c, ui, th) })));
  }

  /** The colour class of one value by its own threshold (not by the day's flag). */
  function valueClass(key, v, th) {
    if (key === "temperature_max") return v >= th.fever_celsius ? "flag-red" : "flag-none";
    if (v <= th.spo2_at_or_below) return "flag-red";
    return v < th.spo2_with_breathlessness_below ? "flag-amber" : "flag-none";
  }

  // A line chart of one value per day with threshold lines, as inline SVG: a tick and a
  // label for every day, the first and last points inset from the plot's edges.
  function chart(id, days, key, lo, hi, lines, th) {
    const W = 580, H = 240, L = 40, R = 118, T = 14, B = 40, PAD = 14;
    const values = days.map((d) => d[key]).filter((v) => v !== null && v !== undefined);
    const min = Math.min(lo, ...values, ...lines.map((l) => l.v));
    const max = Math.max(hi, ...values, ...lines.map((l) => l.v));
    const span = W - L - R - 2 * PAD;
    const x = (i) => L + PAD + (days.length > 1 ? (i * span) / (days.length - 1) : span / 2);
    const y = (v) => T + ((max - v) * (H - T - B)) / (max - min || 1);
    const svg = document.createElementNS(SVG, "svg");
    const add = (tag, attrs, text, parent) => {
      const n = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      (parent || svg).append(n);
      return n;
    };
    svg.setAttribute("id", id);
    svg.setAttribute("class", "chart");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    add("rect", { x: L, y: T, width: W - L - R, height: H - T - B, class: "plot" });
    const step = max - min > 8 ? 5 : 1;
    for (let v = Math.ceil(min / step) * step; v <= max; v += step) {
      add("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "gridline" });
      add("text", { x: L - 6, y: y(v) + 5, class: "axis", "text-anchor": "end" }, String(v));
    }
    days.forEach((d, i) => {
      add("line", { x1: x(i), x2: x(i), y1: H - B, y2: H - B + 5, class: "tick" });
      add("text", { x: x(i), y: H - B + 20, class: "axis day-label", "text-anchor": "middle" },
        `${Number(d.date.slice(5, 7))}/${Number(d.date.slice(8, 10))}`);
    });
    for (const l of lines) {
      add("line", { x1: L, x2: W - R, y1: y(l.v), y2: y(l.v), class: `threshold ${l.cls}`, "data-threshold": l.v });
      add("text", { x: W - R + 6, y: y(l.v) + 5, class: `axis ${l.cls}` }, l.label);
    }
    let path = "";
    const points = [];
    days.forEach((d, i) => {
      const v = d[key];
      if (v === null || v === undefined) return;
      path += `${path && days[i - 1] && days[i - 1][key] != null ? "L" : "M"}${x(i)},${y(v)} `;
      points.push([i, d, v]);
    });
    if (path) add("path", { d: path, class: "series" });
    for (const [i, d, v] of points) {
      const c = add("circle", { cx: x(i), cy: y(v), r: 5, class: `point ${valueClass(key, v, th)}`, "data-date": d.date });
      add("title", {}, `${d.date}: ${v}`, c);
    }
    return svg;
  }

  function answerCell(ui, item) {
    if (!item) return el("td", { class: "missing", text: "—" });
    const words = ANSWERS[ui];
    if (item.state === "not_measured") return el("td", { class: "not-measured", "data-state": item.state, text: words.not_measured });
    if (item.state === "unanswered") return el("td", { class: "unanswered", "data-state": item.state, text: words.unanswered });
    let text = String(item.value);
    if (item.question === "temperature") text = `${Number(item.value).toFixed(1)}℃`;
    else if (item.question === "spo2") text = `${item.value}%`;
    else if (words[item.value]) text = words[item.value];
    return el("td", { "data-state": item.state, "data-value": String(item.value), class: item.value === "yes" ? "yes" : null, text });
  }

  // Every answer of every report in the days shown, newest first (today is seen without
  // scrolling): one column per report (a day without a report is one column saying so), one
  // row per question, then the flag and its reasons.
  function answersPanel(ui, days, reports, th) {
    const t = TEXT[ui];
    const columns = [];
    for (const d of [...days].reverse()) {
      const of = reports.filter((r) => r.date === d.date).reverse();
      if (!of.length) columns.push({ date: d.date, report: null });
      for (const r of of) columns.push({ date: d.date, report: r });
    }
    const questions = [...QUESTION_ORDER];
    for (const r of reports) for (const i of r.items || []) if (!questions.includes(i.question)) questions.push(i.question);
    const time = (iso) => new Date(iso).toLocaleTimeString(ui === "ja" ? "ja-JP" : "en-GB", { hour: "2-digit", minute: "2-digit" });
    const outside = (c) => !!(c.report && c.report.outside_period);
    const head = el("tr", {}, el("th", { text: t.day }), columns.map((c) => el("th", {
      class: c.report ? null : "no-report", "data-date": c.date, "data-outside": outside(c) ? "true" : null,
    }, `${Number(c.date.slice(5, 7))}/${Number(c.date.slice(8, 10))}`,
    c.report ? el("span", { class: "sub", text: `${time(c.report.started_at)} ${t.channels[c.report.channel] || ""}` }) : null,
    outside(c) ? outsideBadge(ui) : null)));
    const flagRow = el("tr", { class: "flag-row" }, el("th", { text: t.flag }), columns.map((c) => el("td", {
      "data-date": c.date,
    }, flagBadge(ui, c.report && c.report.flag, !!c.report),
    c.report && !c.report.complete ? el("span", { class: "sub", text: t.incomplete }) : null)));
    const rows = questions.map((q) => el("tr", { "data-question": q }, el("th", { text: questionText(q, ui) }),
      columns.map((c) => (c.report
        ? answerCell(ui, (c.report.items || []).find((i) => i.question === q))
        : el("td", { class: "no-report", text: "" })))));
    const reasonRow = el("tr", { class: "reason-row" }, el("th", { text: t.reasons }), columns.map((c) => el("td", {
      "data-date": c.date,
    }, c.report ? reasonList(ui, c.report.flag_reasons, th) : null)));
    return el("section", { class: "panel", id: "answers-panel" }, el("h2", { text: t.answersTitle }),
      el("div", { class: "scroll" }, el("table", { id: "answers-table", class: "grid answers-grid" },
        el("thead", {}, head), el("tbody", {}, flagRow, rows, reasonRow))));
  }

  // The "Live calls" panel: GET /api/v1/calls/active every few seconds while it is on the
  // page; hidden for good when the server has no such route (404) or the request fails.
  function livePanel(ui) {
    const t = TEXT[ui];
    const body = el("tbody", {});
    const panel = el("section", { class: "panel", id: "live-calls", hidden: true },
      el("h2", {}, t.live, el("span", { class: "hint", id: "live-node" })),
      el("table", { id: "live-table", class: "grid" },
        el("thead", {}, el("tr", {}, [t.direction, t.step, t.duration, t.trunk, t.answered].map((h) => el("th", { text: h })))),
        body),
      el("p", { class: "hint", id: "live-none", text: t.liveNone }));
    let timer = null;
    const poll = async () => {
      timer = null;
      if (!panel.isConnected && panel.dataset.started) return;
      panel.dataset.started = "1";
      let data;
      try {
        const r = await fetch("/api/v1/calls/active", { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!r.ok) { panel.hidden = true; panel.dataset.state = String(r.status); return; }
        data = await r.json();
      } catch (e) { panel.hidden = true; panel.dataset.state = "error"; return; }
      const calls = data.calls || [];
      panel.hidden = false;
      panel.dataset.state = "shown";
      panel.querySelector("#live-node").textContent = data.node_id ? ` ${data.node_id}` : "";
      panel.querySelector("#live-none").hidden = calls.length > 0;
      panel.querySelector("#live-table").hidden = calls.length === 0;
      body.replaceChildren(...calls.map((c) => el("tr", { "data-call": c.id },
        el("td", { text: t.directions[c.direction] || c.direction }),
        el("td", { text: c.step ? questionText(c.step, ui) : "—" }),
        el("td", { class: "num", text: t.seconds(Math.max(0, Math.round(c.duration_s || 0))) }),
        el("td", { text: c.trunk || "—" }),
        el("td", { text: c.answered ? t.yes : t.no }))));
      if (panel.isConnected) timer = setTimeout(poll, LIVE_POLL_MS);
    };
    setTimeout(poll, 0);
    panel.stop = () => { if (timer) clearTimeout(timer); };
    return panel;
  }

  window.CARECALL_VIEWS = Object.freeze({ chart, answersPanel, flagBadge, outsideBadge, reasonList, livePanel });
})();
