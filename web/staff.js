// carecall staff page: plain JavaScript over the JSON API (docs/api.md), no framework, no
// external request. Views by hash: #/login, #/today, #/patient/ID, #/patients, #/backlog,
// #/audit (admins). Every value from the server is written with textContent, never as HTML.
"use strict";

(function () {
  const { TEXT, PROBLEMS, ERRORS, LANGUAGES } = window.CARECALL_TEXT;
  const { chart, answersPanel, flagBadge, outsideBadge, reasonList, livePanel } = window.CARECALL_VIEWS;
  /** A field's problem in the page's language: by its code, else the API's sentence. */
  const problemText = (body, field) =>
    (PROBLEMS[ui] || {})[(body.codes || {})[field]] || (body.fields || {})[field] || "";
  const DEFAULT_SLOTS = ["09:00", "11:00", "14:00", "16:00"];
  const FLAG_ORDER = { red: 0, amber: 1 };
  const $ = (id) => document.getElementById(id);

  let ui = new URLSearchParams(location.search).get("ui") === "en" ? "en" : (localStorage.getItem("carecall-ui") || "ja");
  let csrf = null;
  let me = null;
  let slots = null;
  let imported = null; // the last import's outcome, shown once on the redrawn patients list
  const t = () => TEXT[ui];

  // ---- helpers -------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  class HttpError extends Error {
    constructor(status, body) { super(`HTTP ${status}`); this.status = status; this.body = body; }
  }

  // One API request with the session cookie (and the CSRF token on changes). `body` is sent
  // as JSON, or as text/csv when `csv` is set.
  async function api(method, path, body, csv) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = csv ? "text/csv" : "application/json";
    if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
    const r = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : (csv ? body : JSON.stringify(body)),
    });
    const data = (r.headers.get("content-type") || "").includes("json") ? await r.json() : null;
    if (r.status === 401 && !path.endsWith("/auth/login")) { me = null; location.hash = "#/login"; }
    if (!r.ok) throw new HttpError(r.status, data);
    return data;
  }

  function showError(e) {
    const banner = $("error");
    if (!e) { banner.hidden = true; return; }
    banner.hidden = false;
    const known = e.body && (ERRORS[ui] || {})[e.body.error];
    banner.textContent = known ? `${t().failed} (${known})` : t().failed;
  }

  // A flag cell; `hasReport` false draws "no report" (grey), never the green "fine" badge.
  const flagCell = (flag, hasReport) => el("td", {}, flagBadge(ui, flag, hasReport));

  const fmtTemp = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(1));
  const fmtNum = (v) => (v === null || v === undefined ? "—" : String(v));
  const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(ui === "ja" ? "ja-JP" : "en-GB") : "—");

  function table(id, heads, rows) {
    return el("table", { id, class: "grid" },
      el("thead", {}, el("tr", {}, heads.map((h) => el("th", { text: h })))),
      el("tbody", {}, rows));
  }

  // ---- views ---------------------------------------------------------------------------

  async function route() {
    applyText();
    showError(null);
    const hash = location.hash || "#/today";
    if (!me && hash !== "#/login") {
      try {
        const who = await api("GET", "/api/v1/auth/me");
        me = who.staff; csrf = who.csrf_token;
      } catch (e) { location.hash = "#/login"; return; }
    }
    $("nav").hidden = !me;
    $("nav-audit").hidden = !(me && me.role === "admin");
    $("who").textContent = me ? me.username : "";
    const view = $("view");
    view.replaceChildren(el("p", { class: "hint", text: t().loading }));
    document.body.dataset.view = "loading";
    try {
      let m;
      if (hash === "#/login") await loginView(view);
      else if ((m = hash.match(/^#\/patient\/(\d+)$/))) await patientView(view, m[1]);
      else if (hash.startsWith("#/backlog")) await backlogView(view);
      else if (hash.startsWith("#/patients")) await patientsView(view);
      else if (hash.startsWith("#/audit")) await auditView(view);
      else await todayView(view);
    } catch (e) {
      if (!(e instanceof HttpError && e.status === 401)) { view.replaceChildren(); showError(e); }
    }
  }

  async function loginView(view) {
    const user = el("input", { id: "login-user", name: "username", autocomplete: "username", required: true });
    const pass = el("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const msg = el("p", { id: "login-error", class: "field-error", role: "alert" });
    const form = el("form", { id: "login-form", class: "panel narrow" },
      el("h2", { text: t().login }),
      el("label", { for: "login-user", text: t().username }), user,
      el("label", { for: "login-password", text: t().password }), pass,
      msg,
      el("div", { class: "buttons" }, el("button", { type: "submit", id: "login-submit", class: "primary", text: t().login })));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      msg.textContent = "";
      try {
        const r = await api("POST", "/api/v1/auth/login", { username: user.value, password: pass.value });
        csrf = r.csrf_token; me = r.staff;
        location.hash = "#/today";
      } catch (e) {
        msg.textContent = e.status === 429 ? t().tooMany : t().loginFailed;
      }
    });
    view.replaceChildren(form);
    document.body.dataset.view = "login";
    user.focus();
  }

  async function todayView(view) {
    const params = new URLSearchParams((location.hash.split("?")[1]) || "");
    const date = params.get("date") || "";
    const q = date ? `?date=${encodeURIComponent(date)}` : "";
    const [today, silent] = await Promise.all([
      api("GET", `/api/v1/reports/today${q}`),
      api("GET", `/api/v1/reports/non-reporters${q}`),
    ]);
    const search = el("input", { id: "filter-q", type: "search", placeholder: t().search, "aria-label": t().search });
    const flag = el("select", { id: "filter-flag", "aria-label": t().flagFilter },
      el("option", { value: "", text: t().all }),
      el("option", { value: "red", text: t().flags.red }),
      el("option", { value: "amber", text: t().flags.amber }),
      el("option", { value: "unreported", text: t().unreported }));
    const day = el("input", { id: "filter-date", type: "date", value: today.date, "aria-label": t().date });
    day.addEventListener("change", () => { location.hash = `#/today?date=${day.value}`; });

    const th = today.thresholds;
    const sorted = [...today.patients].sort((a, b) =>
      (FLAG_ORDER[a.flag] ?? 2) - (FLAG_ORDER[b.flag] ?? 2));
    const tbody = [];
    const render = () => {
      const needle = search.value.trim().toLowerCase();
      const rows = sorted.filter((p) =>
        (!needle || p.name.toLowerCase().includes(needle) || p.hersys_id.startsWith(needle)) &&
        (!flag.value || (flag.value === "unreported" ? !p.reported : p.flag === flag.value)));
      const body = $("today-table").tBodies[0];
      body.replaceChildren(...rows.map((p) => patientRow(p, th)));
      if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "hint", text: t().nobody })));
    };
    search.addEventListener("input", render);
    flag.addEventListener("change", render);

    view.replaceChildren(
      livePanel(ui),
      el("section", { class: "panel" },
        el("h2", { text: t().today(today.date) }),
        el("div", { class: "filters" }, search, flag, day),
        table("today-table", [t().flag, t().hersys, t().name, t().temperature, t().spo2, t().reasons, t().reported], tbody)),
      el("section", { class: "panel", id: "non-reporters" },
        el("h2", { text: `${t().nonReporters}（${silent.patients.length}）` }),
        silent.patients.length
          ? table("non-reporters-table", [t().hersys, t().name, t().reports],
            silent.patients.map((p) => el("tr", {},
              el("td", { text: p.hersys_id }),
              el("td", {}, el("a", { class: "patient-link", href: `#/patient/${p.patient_id}`, text: p.name })),
              el("td", { text: String(p.reports) }))))
          : el("p", { class: "hint", text: t().nobody })));
    render();
    document.body.dataset.view = "today";
  }

  function patientRow(p, th) {
    const outside = p.outside_period ? outsideBadge(ui) : null;
    return el("tr", {
      class: p.flag ? `row-${p.flag}` : null, "data-flag": p.flag || "none", "data-patient": p.patient_id,
      "data-outside": p.outside_period ? "true" : null,
    },
    flagCell(p.flag, p.reports > 0),
    el("td", { text: p.hersys_id }),
    el("td", {}, el("a", { class: "patient-link", href: `#/patient/${p.patient_id}`, text: p.name }), outside),
    el("td", { class: "num", text: fmtTemp(p.temperature && p.temperature.value) }),
    el("td", { class: "num", text: fmtNum(p.spo2 && p.spo2.value) }),
    el("td", { class: "reasons-cell" }, reasonList(ui, p.flag_reasons, th)),
    el("td", { text: p.reported ? t().yes : (p.reports ? t().incomplete : t().noReport) }));
  }

  async function configuredSlots() {
    if (slots) return slots;
    try {
      const b = await api("GET", "/api/v1/calls/backlog");
      slots = b.call_times && b.call_times.length ? b.call_times : DEFAULT_SLOTS;
    } catch (e) { slots = DEFAULT_SLOTS; }
    return slots;
  }

  async function patientView(view, id) {
    const [p, days, calls, slotList] = await Promise.all([
      api("GET", `/api/v1/patients/${id}`),
      api("GET", `/api/v1/patients/${id}/reports?days=10`),
      api("GET", `/api/v1/patients/${id}/calls`),
      configuredSlots(),
    ]);
    const th = days.thresholds || {};
    const fever = th.fever_celsius ?? 37.5;
    const spo2Lines = [th.spo2_at_or_below ?? 93, th.spo2_with_breathlessness_below ?? 96];
    const thresholds = { fever_celsius: fever, spo2_at_or_below: spo2Lines[0], spo2_with_breathlessness_below: spo2Lines[1] };
    const reasonsOf = (date) => [...new Set(days.reports.filter((r) => r.date === date).flatMap((r) => r.flag_reasons))];
    const lock = p.health_call_locked
      ? el("p", { class: "banner amber" }, t().locked, " ",
        el("button", { type: "button", id: "unlock", text: t().unlock, onclick: async () => {
          await api("POST", `/api/v1/patients/${id}/unlock`); route();
        } }))
      : null;
    const blocked = p.number_blocked ? el("p", { class: "banner amber", id: "number-blocked", text: t().blocked }) : null;
    // Days with a report from outside the observation period: marked in the days table and
    // the answers table, and said once under the name.
    const outsideDay = (d) => d.outside_period && d.reports > 0;
    const outsideNote = days.days.some(outsideDay)
      ? el("p", { class: "banner outside", id: "outside-note", text: t().outsideNote(p.observation_start, p.observation_end) })
      : null;
    const queued = el("span", { class: "hint", id: "call-now-status" });
    view.replaceChildren(
      el("p", {}, el("a", { href: "#/today", text: `← ${t().back}` })),
      el("section", { class: "panel", id: "patient-head" },
        el("h2", { id: "patient-name", text: `${p.name}（${p.hersys_id}）` }),
        el("p", { class: "hint", text: `${t().born} ${p.birthday} · ${p.health_center}${p.risk ? ` · ${t().risk}: ${p.risk}` : ""}` }),
        lock, blocked, outsideNote,
        el("div", { class: "buttons" },
          el("button", { type: "button", id: "call-now", text: t().callNow, onclick: async () => {
            try {
              await api("POST", `/api/v1/patients/${id}/calls`);
              queued.textContent = t().queued;
              queued.dataset.state = "queued";
            } catch (e) { showError(e); }
          } }), queued)),
      el("div", { class: "charts" },
        el("section", { class: "panel" }, el("h2", { text: t().chartTemp }),
          chart("chart-temperature", days.days, "temperature_max", 35, 40,
            [{ v: fever, label: t().fever(fever), cls: "line-red" }], thresholds)),
        el("section", { class: "panel" }, el("h2", { text: t().chartSpo2 }),
          chart("chart-spo2", days.days, "spo2_min", 85, 100,
            [{ v: spo2Lines[0], label: t().spo2Line(spo2Lines[0]), cls: "line-red" },
              { v: spo2Lines[1], label: t().spo2Line(spo2Lines[1]), cls: "line-amber" }], thresholds))),
      el("section", { class: "panel" }, el("h2", { text: t().days }),
        table("days-table", [t().day, t().flag, t().tempMax, t().spo2Min, t().reasons, t().reports],
          days.days.map((d) => el("tr", {
            class: d.flag ? `row-${d.flag}` : null, "data-date": d.date, "data-outside": outsideDay(d) ? "true" : null,
          },
            el("td", {}, d.date, outsideDay(d) ? [" ", outsideBadge(ui)] : null), flagCell(d.flag, d.reports > 0),
            el("td", { class: "num", text: fmtTemp(d.temperature_max) }),
            el("td", { class: "num", text: fmtNum(d.spo2_min) }),
            el("td", { class: "reasons-cell" }, reasonList(ui, reasonsOf(d.date), thresholds)),
            el("td", { class: "num", text: String(d.reports) }))))),
      answersPanel(ui, days.days, days.reports, thresholds),
      patientForm(p, slotList, false),
      el("section", { class: "panel", id: "call-history" }, el("h2", { text: t().history }),
        calls.attempts.length
          ? table("calls-table", [t().slot, t().attempt, t().state, t().outcome, t().due, t().finished],
            calls.attempts.map((a) => el("tr", {},
              el("td", { text: `${a.slot_date} ${a.slot_time}${a.manual ? ` (${t().manual})` : ""}` }),
              el("td", { class: "num", text: String(a.attempt) }),
              el("td", { text: a.state }), el("td", { text: a.outcome || "—" }),
              el("td", { text: fmtTime(a.due_at) }), el("td", { text: fmtTime(a.finished_at) }))))
          : el("p", { class: "hint", text: t().noCalls })));
    document.body.dataset.view = "patient";
  }

  // The call settings of patient `p` (PATCH), or with `isNew` the registration form of a new
  // patient (POST, then the new patient's page). Problems are shown per field, by code.
  function patientForm(p, slotList, isNew) {
    const errors = {};
    const field = (name, label, input) => {
      errors[name] = el("span", { class: "field-error", id: `error-${name}`, "data-field": name });
      return el("div", { class: "field" }, el("label", { for: input.id || null, text: label }), input, errors[name]);
    };
    const id = (name) => `${isNew ? "new" : "set"}-${name}`;
    const allSlots = [...new Set([...slotList, ...p.call_times])].sort();
    const boxes = allSlots.map((s) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: "call_times", value: s, checked: p.call_times.includes(s) }), s));
    const times = el("fieldset", { id: isNew ? "new-call-times" : "call-times", class: "slots" },
      el("legend", { text: t().callTimes }), boxes);
    const lang = el("select", { id: id("language"), name: "language" },
      Object.entries(LANGUAGES).map(([code, name]) => el("option", { value: code, selected: code === p.language, text: `${name} (${code})` })));
    const input = (name, value, extra) => el("input", { id: id(name), name, value: value || "", ...extra });
    const phone = input("phone", p.phone, { inputmode: "tel" });
    const date = (name, v) => input(name, v, { type: "date" });
    const obsStart = date("observation-start", p.observation_start);
    const obsEnd = date("observation-end", p.observation_end);
    const callStart = date("call-start", p.call_start);
    const callEnd = date("call-end", p.call_end);
    const auto = el("input", { id: id("auto-call"), type: "checkbox", checked: p.auto_call });
    const hersys = input("hersys-id", "", { inputmode: "numeric", autocomplete: "off" });
    const name = input("name", "", { autocomplete: "off" });
    const birthday = date("birthday", "");
    const risk = input("risk", "", { placeholder: t().riskHint });
    const centre = input("health-center", me && me.health_center);
    const status = el("p", { id: isNew ? "new-status" : "settings-status", role: "status" });
    const form = el("form", { id: isNew ? "new-patient-form" : "settings-form", class: "panel settings" },
      el("h2", { text: isNew ? t().newPatient : t().settings }),
      isNew ? [
        field("hersys_id", t().hersys, hersys), field("name", t().name, name),
        field("birthday", t().born, birthday), field("risk", t().risk, risk),
        me && me.health_center ? null : field("health_center", t().healthCenter, centre),
      ] : null,
      el("div", { class: "field" }, times, errors.call_times = el("span", { class: "field-error", id: "error-call_times" })),
      field("language", t().language, lang),
      field("phone", t().phone, phone),
      el("div", { class: "pair" }, field("observation_start", `${t().observation} ${t().from}`, obsStart),
        field("observation_end", t().to, obsEnd)),
      el("div", { class: "pair" }, field("call_start", `${t().callPeriod} ${t().from}`, callStart),
        field("call_end", t().to, callEnd)),
      el("div", { class: "field" }, el("label", { class: "check" }, auto, t().autoOn),
        errors.auto_call = el("span", { class: "field-error", id: "error-auto_call" })),
      status,
      el("div", { class: "buttons" }, el("button", { type: "submit", id: isNew ? "register" : "save-settings", class: "primary", text: isNew ? t().register : t().save })));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      Object.values(errors).forEach((e) => { e.textContent = ""; });
      status.textContent = "";
      status.className = "";
      const body = {
        call_times: [...form.querySelectorAll("input[name=call_times]:checked")].map((b) => b.value),
        language: lang.value, phone: phone.value,
        observation_start: obsStart.value || null, observation_end: obsEnd.value || null,
        call_start: callStart.value || null, call_end: callEnd.value || null,
        auto_call: auto.checked,
      };
      if (isNew) {
        Object.assign(body, { hersys_id: hersys.value.trim(), name: name.value, birthday: birthday.value || null, risk: risk.value });
        if (!(me && me.health_center)) body.health_center = centre.value;
      }
      try {
        const saved = isNew
          ? await api("POST", "/api/v1/patients", body)
          : await api("PATCH", `/api/v1/patients/${p.id}`, body);
        status.textContent = isNew ? t().registered : t().saved;
        status.className = "ok";
        if (isNew) location.hash = `#/patient/${saved.id}`;
      } catch (e) {
        status.textContent = t().invalid;
        status.className = "field-error";
        const fields = (e.body && e.body.fields) || {};
        for (const name of Object.keys(fields)) {
          const message = problemText(e.body, name);
          (errors[name] || status).append(errors[name] ? message : ` ${name}: ${message}`);
        }
        if (!e.body || !e.body.fields) showError(e);
      }
    });
    return form;
  }

  // Patients: search, register one, import or export the CSV file of `patients import`.
  async function patientsView(view) {
    const params = new URLSearchParams((location.hash.split("?")[1]) || "");
    const q = params.get("q") || "";
    const [list, slotList] = await Promise.all([
      api("GET", `/api/v1/patients?limit=500${q ? `&q=${encodeURIComponent(q)}` : ""}`),
      configuredSlots(),
    ]);
    const search = el("input", { id: "patients-q", type: "search", value: q, placeholder: t().search, "aria-label": t().search });
    const find = el("form", { class: "filters" }, search, el("button", { type: "submit", text: t().show }));
    find.addEventListener("submit", (ev) => {
      ev.preventDefault();
      location.hash = `#/patients?q=${encodeURIComponent(search.value.trim())}`;
    });
    const file = el("input", { id: "import-file", type: "file", accept: ".csv,text/csv" });
    const importStatus = el("p", { id: "import-status", role: "status", class: imported ? "ok" : null, text: imported });
    imported = null;
    const importForm = el("form", { id: "import-form", class: "filters" }, file,
      el("button", { type: "submit", id: "import-submit", text: t().importButton }),
      el("a", { id: "export-csv", href: "/api/v1/patients/export", download: "patients.csv", text: t().exportCsv }));
    importForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      importStatus.className = "";
      if (!file.files.length) { importStatus.textContent = t().chooseFile; return; }
      try {
        const r = await api("POST", "/api/v1/patients/import", await file.files[0].text(), true);
        imported = t().imported(r.inserted, r.updated);
        route();
      } catch (e) {
        const where = e.body && e.body.fields && e.body.fields.file;
        importStatus.textContent = where ? `${t().importFailed} ${where}` : t().importFailed;
        importStatus.className = "field-error";
      }
    });
    const blank = { call_times: [], language: "ja", auto_call: true };
    const period = (r) => `${r.observation_start} – ${r.observation_end}`;
    view.replaceChildren(
      el("section", { class: "panel" },
        el("h2", { text: `${t().patients}（${list.patients.length}）` }), find,
        table("patients-table", [t().hersys, t().name, t().language, t().callTimes, t().period, t().autoCall],
          list.patients.map((r) => el("tr", { "data-patient": r.id },
            el("td", { text: r.hersys_id }),
            el("td", {}, el("a", { class: "patient-link", href: `#/patient/${r.id}`, text: r.name })),
            el("td", { text: r.language }), el("td", { text: r.call_times.join(" ") }),
            el("td", { text: period(r) }), el("td", { text: r.auto_call ? t().yes : t().no }))))),
      el("section", { class: "panel" }, el("h2", { text: t().importTitle }), importForm, importStatus),
      patientForm(blank, slotList, true));
    document.body.dataset.view = "patients";
  }

  // The audit log (admins): who read or changed whose data, newest first.
  async function auditView(view) {
    const params = new URLSearchParams((location.hash.split("?")[1]) || "");
    const user = params.get("username") || "";
    const log = await api("GET", `/api/v1/admin/audit?limit=200${user ? `&username=${encodeURIComponent(user)}` : ""}`);
    const filter = el("input", { id: "audit-user", type: "search", value: user, placeholder: t().filterUser, "aria-label": t().filterUser });
    const form = el("form", { class: "filters" }, filter, el("button", { type: "submit", text: t().show }));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      location.hash = `#/audit?username=${encodeURIComponent(filter.value.trim())}`;
    });
    view.replaceChildren(el("section", { class: "panel" }, el("h2", { text: t().audit }), form,
      table("audit-table", [t().at, t().user, t().action, t().patient, t().detail],
        log.entries.map((a) => el("tr", { "data-action": a.action },
          el("td", { text: fmtTime(a.at) }), el("td", { text: a.username }), el("td", { text: a.action }),
          el("td", {}, a.patient_id ? el("a", { href: `#/patient/${a.patient_id}`, text: a.hersys_id || String(a.patient_id) }) : "—"),
          el("td", { text: a.detail }))))));
    document.body.dataset.view = "audit";
  }

  async function backlogView(view) {
    const b = await api("GET", "/api/v1/calls/backlog");
    const time = (iso) => (iso ? new Date(iso).toLocaleTimeString(ui === "ja" ? "ja-JP" : "en-GB", { hour: "2-digit", minute: "2-digit" }) : "—");
    view.replaceChildren(el("section", { class: "panel" },
      el("h2", { text: t().backlog(b.date || "") }),
      table("backlog-table", [t().slot, t().calls, t().notStarted, t().active, t().completed, t().cancelled,
        t().unreached, t().missed, t().expectedFinish, t().overruns],
      (b.slots || []).map((s) => el("tr", { class: s.overruns ? "row-amber" : null },
        el("td", { text: s.slot }),
        ...[s.calls, s.not_started, s.active, s.completed, s.cancelled, s.unreached, s.missed]
          .map((n) => el("td", { class: "num", text: fmtNum(n) })),
        el("td", { text: time(s.expected_finish) }),
        el("td", { text: s.overruns ? t().yes : t().no }))))));
    document.body.dataset.view = "backlog";
  }

  // ---- chrome --------------------------------------------------------------------------

  function applyText() {
    document.documentElement.lang = ui;
    document.querySelectorAll("[data-i18n]").forEach((n) => {
      const v = t()[n.dataset.i18n];
      if (typeof v === "string") n.textContent = v;
    });
    $("ui-lang").textContent = t().uiSwitch;
    $("ui-lang").lang = ui === "ja" ? "en" : "ja";
    document.title = `carecall ${t().title}`;
  }

  $("ui-lang").addEventListener("click", () => {
    ui = ui === "ja" ? "en" : "ja";
    localStorage.setItem("carecall-ui", ui);
    route();
  });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/v1/auth/logout"); } catch (e) { /* the session is gone either way */ }
    me = null; csrf = null; slots = null;
    location.hash = "#/login";
  });
  window.addEventListener("hashchange", route);
  route();
})();
