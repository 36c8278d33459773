// carecall flow simulator page: drives the real dialplan interpreter over a WebSocket.
// Protocol: src/simulator/protocol.rs. No external scripts; works offline.
"use strict";

(function () {
  const TEXT = {
    ja: {
      title: "フローシミュレーター", setup: "通話の設定", dialplan: "ダイヤルプラン",
      language: "通話の言語", noAudio: "音声を再生しない（すぐ次へ進む）", start: "発信",
      hangup: "切断", prompt: "再生中のガイダンス", skip: "再生をとばす", step: "ステップ",
      callLanguage: "言語", timer: "入力待ち", flag: "判定", outcome: "結果",
      keypad: "ダイヤルボタン", keyboardHint: "キーボードの 0–9、*、# でも押せます。",
      answers: "回答（保存されません）", question: "項目", value: "値", log: "イベントログ",
      connecting: "接続中…", connected: "接続しました", disconnected: "切断されました。再読み込みしてください。",
      demo: (id, b) => `健康コールのデモ用：HER-SYS ID ${id}、誕生日 ${b}`,
      waiting: (s) => `${s} 秒後にタイムアウト`, none: "—",
      outcomes: { completed: "完了", incomplete: "途中終了", no_response: "応答なし",
        wrong_number: "番号違い", not_identified: "本人確認できず", abandoned: "報告前に切断",
        store_unavailable: "混雑のため確認できず" },
      flags: { none: "問題なし", amber: "注意", red: "要対応" },
      dialplans: { health_call: "健康コール（着信）", automatic_call: "自動架電（発信）" },
      ev: {
        start: "発信", key: "ボタン", play: "再生", stop_playback: "再生停止",
        language: "言語変更", identified: "本人確認", answer: "回答", report_complete: "報告完了",
        new_report: "別の方の報告", wrong_number: "番号違い", hangup: "切断", error: "エラー",
        timeout: "タイムアウト", playback_done: "再生終了",
      },
      yes: "一致", no: "不一致", uiSwitch: "English",
    },
    en: {
      title: "Flow simulator", setup: "Call settings", dialplan: "Dialplan",
      language: "Call language", noAudio: "Do not play audio (move on at once)", start: "Call",
      hangup: "Hang up", prompt: "Prompt playing", skip: "Skip playback", step: "Step",
      callLanguage: "Language", timer: "Waiting for a key", flag: "Flag", outcome: "Outcome",
      keypad: "Keypad", keyboardHint: "Keys 0–9, * and # on the keyboard work too.",
      answers: "Answers (not stored)", question: "Item", value: "Value", log: "Event log",
      connecting: "Connecting…", connected: "Connected", disconnected: "Disconnected. Reload the page.",
      demo: (id, b) => `For the Health Call demo: HER-SYS ID ${id}, birthday ${b}`,
      waiting: (s) => `timeout in ${s} s`, none: "—",
      outcomes: { completed: "completed", incomplete: "incomplete", no_response: "no response",
        wrong_number: "wrong number", not_identified: "not identified", abandoned: "hung up before reporting",
        store_unavailable: "store unavailable" },
      flags: { none: "OK", amber: "amber", red: "red" },
      dialplans: { health_call: "Health Call (inbound)", automatic_call: "Automatic call (outbound)" },
      ev: {
        start: "call", key: "key", play: "play", stop_playback: "stop playback",
        language: "language", identified: "identification", answer: "answer",
        report_complete: "report complete", new_report: "another person", wrong_number: "wrong number",
        hangup: "hang up", error: "error", timeout: "timeout", playback_done: "playback done",
      },
      yes: "confirmed", no: "not confirmed", uiSwitch: "日本語",
    },
  };
  const LANGUAGE_NAMES = {
    ja: "日本語", en: "English", "zh-CN": "普通话", yue: "廣東話", "zh-TW": "國語（台灣）",
    ko: "한국어", es: "Español", pt: "Português",
  };
  const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
  // Reason, question and answer words shared with the staff page (/staff/staff-text.js).
  const WORDS = window.CARECALL_TEXT;
  const VALUE_WORDS = { yes: "yes", no: "no", unknown: "unknown", "not measured": "not_measured", unanswered: "unanswered" };
  const $ = (id) => document.getElementById(id);

  let ui = new URLSearchParams(location.search).get("ui") === "en" ? "en" : "ja";
  let socket = null;
  let hello = null;
  let queue = [];        // prompts waiting to be heard
  let current = null;    // the prompt being heard
  let lastPlay = 0;      // the number of the last play event
  let timer = null;      // the pending timeout
  let countdown = null;
  let ended = true;

  function t() { return TEXT[ui]; }

  function applyText() {
    document.documentElement.lang = ui;
    document.querySelectorAll("[data-i18n]").forEach((el) => {
      const value = t()[el.dataset.i18n];
      if (typeof value === "string") el.textContent = value;
    });
    $("ui-lang").textContent = t().uiSwitch;
    $("ui-lang").lang = ui === "ja" ? "en" : "ja";
    document.title = "carecall " + t().title;
    fillPickers();
    showDemo();
    document.querySelectorAll("#answers tr[data-question]").forEach(wordAnswer);
    showFlag(shownFlag.flag, shownFlag.reasons);
  }

  function fillPickers() {
    if (!hello) return;
    const plan = $("dialplan").value;
    $("dialplan").replaceChildren(...hello.dialplans.map((id) => option(id, t().dialplans[id] || id)));
    if (plan) $("dialplan").value = plan;
    const lang = $("language").value;
    $("language").replaceChildren(...hello.languages.map((code) => {
      const o = option(code, `${LANGUAGE_NAMES[code] || code} (${code})`);
      o.lang = code;
      return o;
    }));
    $("language").value = lang || (ui === "en" ? "en" : "ja");
  }

  function option(value, label) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  function showDemo() {
    const d = hello && hello.demo_identity;
    $("demo-hint").textContent = d ? t().demo(d.hersys_id, d.birthday) : "";
  }

  function log(kind, detail) {
    const li = document.createElement("li");
    li.dataset.kind = kind;
    const time = new Date().toLocaleTimeString(ui === "ja" ? "ja-JP" : "en-GB");
    li.textContent = `${time}  ${t().ev[kind] || kind}${detail ? ": " + detail : ""}`;
    $("log").prepend(li);
  }

  function connect() {
    const path = new URLSearchParams(location.search).get("ws") || document.body.dataset.ws;
    const url = new URL(path, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url);
    socket.onopen = () => setConnection("connected");
    socket.onclose = () => { setConnection("disconnected"); setEnded(true); stopAudio(); };
    socket.onmessage = (m) => { try { handle(JSON.parse(m.data)); } catch (e) { log("error", String(e)); } };
  }

  function setConnection(state) {
    $("connection").dataset.state = state;
    $("connection").dataset.i18n = state;
    $("connection").textContent = t()[state];
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function handle(e) {
    switch (e.type) {
      case "hello": hello = e; applyText(); break;
      case "play":
        lastPlay = e.play;
        queue.push(...e.prompts);
        log("play", e.prompts.map((p) => p.id).join(", "));
        if (!current) next();
        break;
      case "stop_playback": log("stop_playback"); stopAudio(); break;
      case "language": log("language", LANGUAGE_NAMES[e.language] || e.language); break;
      case "identified": log("identified", e.confirmed ? t().yes : t().no); break;
      case "answer":
        log("answer", `${e.question} = ${e.value}`);
        addAnswer(e.question, e.value);
        showFlag(e.flag, e.reasons);
        break;
      case "report_complete": log("report_complete", e.flag); showFlag(e.flag, e.reasons); break;
      case "new_report": log("new_report"); $("answers").replaceChildren(); showFlag("none", []); break;
      case "wrong_number": log("wrong_number"); break;
      case "hangup":
        log("hangup", e.outcome || "");
        $("outcome").textContent = (t().outcomes[e.outcome] || e.outcome || t().none);
        $("outcome").dataset.outcome = e.outcome || "";
        break;
      case "status": showStatus(e); break;
      case "error": log("error", e.message); break;
      default: log(e.type);
    }
  }

  function showStatus(s) {
    $("step").textContent = s.step;
    $("call-language").textContent = LANGUAGE_NAMES[s.language] || s.language;
    setEnded(s.ended);
    clearTimer();
    if (s.timeout_ms != null && !s.ended && !s.playing) {
      const due = Date.now() + s.timeout_ms;
      const tick = () => { $("timer").textContent = t().waiting(Math.max(0, Math.ceil((due - Date.now()) / 1000))); };
      tick();
      countdown = setInterval(tick, 250);
      timer = setTimeout(() => { clearTimer(); log("timeout"); send({ type: "timeout" }); }, s.timeout_ms);
    }
  }

  function clearTimer() {
    clearTimeout(timer);
    clearInterval(countdown);
    timer = countdown = null;
    $("timer").textContent = t().none;
  }

  function setEnded(value) {
    ended = value;
    $("hangup").disabled = value;
    document.querySelectorAll(".keypad button").forEach((b) => { b.disabled = value; });
  }

  // Audio: prompts are heard one after another; when the queue is empty the server hears
  // playback_done with the last play's number (it ignores it if a newer play overtook it).
  function next() {
    current = queue.shift() || null;
    $("skip").disabled = !current;
    if (!current) {
      send({ type: "playback_done", play: lastPlay });
      return;
    }
    $("prompt-text").textContent = current.text;
    $("prompt-text").lang = current.lang;
    $("prompt-id").textContent = `${current.id} (${current.lang})`;
    const audio = $("audio");
    if ($("no-audio").checked) {
      audio.removeAttribute("src");
      setTimeout(() => { if (current) finishPrompt(); }, 150);
      return;
    }
    audio.src = current.audio;
    audio.play().catch(() => setTimeout(() => { if (current) finishPrompt(); }, 300));
  }

  function finishPrompt() { current = null; next(); }

  function stopAudio() {
    queue = [];
    current = null;
    $("audio").pause();
    $("skip").disabled = true;
  }

  // An answer as the staff page words it: the question's name, yes / no / don't know, "not
  // measured" and "unanswered" in the page's language; numbers as heard.
  function addAnswer(question, value) {
    const body = $("answers");
    let row = body.querySelector(`tr[data-question="${CSS.escape(question)}"]`);
    if (!row) {
      row = document.createElement("tr");
      row.dataset.question = question;
      row.append(document.createElement("td"), document.createElement("td"));
      body.append(row);
    }
    row.dataset.value = value;
    wordAnswer(row);
  }

  function wordAnswer(row) {
    const key = VALUE_WORDS[row.dataset.value];
    row.cells[0].textContent = WORDS.questionText(row.dataset.question, ui);
    row.cells[1].textContent = key ? WORDS.ANSWERS[ui][key] : row.dataset.value;
  }

  let shownFlag = { flag: "none", reasons: [] };
  function showFlag(flag, reasons) {
    shownFlag = { flag, reasons: reasons || [] };
    const el = $("flag");
    el.dataset.flag = flag;
    el.dataset.reasons = shownFlag.reasons.join(" ");
    const th = hello && hello.thresholds ? {
      fever_celsius: hello.thresholds.fever_tenths / 10,
      spo2_at_or_below: hello.thresholds.spo2_at_or_below,
      spo2_with_breathlessness_below: hello.thresholds.spo2_with_breathlessness_below,
    } : undefined;
    const words = shownFlag.reasons.map((r) => WORDS.reasonText(r, ui, th));
    el.textContent = (t().flags[flag] || flag) + (words.length ? `（${words.join("、")}）` : "");
    if (ui === "en" && words.length) el.textContent = `${t().flags[flag] || flag} (${words.join(", ")})`;
  }

  function press(key) {
    if (ended) return;
    log("key", key);
    send({ type: "key", key });
  }

  function start() {
    stopAudio();
    clearTimer();
    lastPlay = 0;
    $("answers").replaceChildren();
    $("outcome").textContent = t().none;
    $("outcome").dataset.outcome = "";
    showFlag("none", []);
    log("start", `${$("dialplan").value} / ${$("language").value}`);
    send({ type: "start", dialplan: $("dialplan").value, language: $("language").value });
  }

  function buildKeypad() {
    $("keypad").replaceChildren(...KEYS.map((k) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = k;
      b.id = "key-" + (k === "*" ? "star" : k === "#" ? "hash" : k);
      b.disabled = true;
      b.addEventListener("click", () => press(k));
      return b;
    }));
  }

  $("audio").addEventListener("ended", () => { if (current) finishPrompt(); });
  $("audio").addEventListener("error", () => { if (current && $("audio").src) finishPrompt(); });
  $("skip").addEventListener("click", () => { if (current) { $("audio").pause(); finishPrompt(); } });
  $("start").addEventListener("click", start);
  $("hangup").addEventListener("click", () => { stopAudio(); send({ type: "hangup" }); });
  $("ui-lang").addEventListener("click", () => { ui = ui === "ja" ? "en" : "ja"; applyText(); setConnection($("connection").dataset.state); });
  document.addEventListener("keydown", (e) => {
    if (KEYS.includes(e.key) && !(e.target instanceof HTMLSelectElement)) press(e.key);
  });

  buildKeypad();
  applyText();
  connect();
})();
