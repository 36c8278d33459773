// carecall staff page: its texts in Japanese and English (loaded before staff.js, which reads
// window.CARECALL_TEXT). TEXT labels the page; PROBLEMS says what is wrong with a field by the
// API's problem code; ERRORS fills the banner by the API's error code; LANGUAGES names the
// eight call languages in their own scripts. REASONS words each flag reason code of
// src/report/flags.rs, QUESTIONS names each SPEC question and ANSWERS each kind of answer, so
// no code reaches a nurse; reasonText() joins them (also used by the simulator page).
"use strict";

(function () {
  const TEXT = {
    ja: {
      title: "健康観察", navToday: "本日の一覧", navBacklog: "架電の進み具合",
      navSimulator: "フローを試す", logout: "ログアウト", uiSwitch: "English",
      login: "ログイン", username: "ユーザー名", password: "パスワード",
      loginFailed: "ユーザー名またはパスワードが違います。", tooMany: "試行が多すぎます。しばらく待ってください。",
      today: (d) => `${d} の報告`, search: "氏名・HER-SYS ID", flagFilter: "判定",
      all: "すべて", unreported: "未報告のみ", date: "日付", show: "表示",
      hersys: "HER-SYS ID", name: "氏名", flag: "判定", temperature: "体温", spo2: "SpO2",
      reasons: "理由", reported: "報告", reports: "件数", yes: "あり", no: "なし",
      nonReporters: "未報告の方", nobody: "該当者はいません。",
      flags: { red: "赤（要対応）", amber: "黄（注意）", none: "問題なし" },
      days: "直近10日間", day: "日付", tempMax: "最高体温", spo2Min: "最低SpO2",
      chartTemp: "体温（℃）", chartSpo2: "SpO2（%）",
      fever: (v) => `発熱 ${v}℃`, spo2Line: (v) => `${v}%`,
      settings: "架電の設定", callTimes: "架電時刻", language: "通話の言語", phone: "電話番号",
      observation: "観察期間", callPeriod: "架電期間", autoCall: "自動架電",
      autoOn: "自動架電を行う", from: "開始", to: "終了", save: "保存",
      saved: "保存しました。", invalid: "入力に誤りがあります。",
      history: "架電履歴", slot: "時間帯", attempt: "回目", state: "状態", outcome: "結果",
      due: "予定", finished: "終了", manual: "手動", noCalls: "架電履歴はありません。",
      callNow: "今すぐ架電", queued: "架電を予約しました。",
      locked: "健康コールはロック中", unlock: "ロック解除", back: "一覧へ戻る",
      backlog: (d) => `${d} の架電`, calls: "対象", notStarted: "未着手", active: "通話中",
      completed: "完了", cancelled: "取消", unreached: "不通", missed: "時間切れ",
      expectedFinish: "終了見込み", overruns: "超過見込み",
      loading: "読み込み中…", failed: "読み込めませんでした。",
      born: "生年月日", risk: "リスク",
      navPatients: "患者", navAudit: "監査ログ", patients: "患者の一覧", newPatient: "患者の登録",
      register: "登録", registered: "登録しました。", healthCenter: "保健所", period: "観察期間",
      importTitle: "CSV の取り込み", importButton: "取り込む", chooseFile: "ファイルを選んでください。",
      imported: (i, u) => `取り込みました（新規 ${i} 件、更新 ${u} 件）。`,
      importFailed: "取り込めませんでした（ファイルの内容は何も書き込まれていません）。",
      exportCsv: "CSV で書き出す", riskHint: "例: age65;diabetes;pregnant",
      blocked: "この番号は「番号違い」と申告されたため、自動架電を止めています。",
      audit: "監査ログ", at: "日時", user: "ユーザー", action: "操作", detail: "内容", patient: "患者",
      filterUser: "ユーザー名で絞り込み",
      outsidePeriod: "観察期間外", outsidePeriodHint: "観察期間の外の日に届いた報告です。",
      outsideNote: (from, to) => `観察期間（${from}〜${to}）の外の日に届いた報告があります（「観察期間外」の印の日）。`,
      noReport: "報告なし", incomplete: "途中まで", answersTitle: "日ごとの回答",
      answersNone: "この期間の報告はありません。", channel: "経路", reportTime: "時刻",
      channels: { health_call: "健康コール", outbound_call: "自動架電", web: "Web", staff: "職員入力" },
      live: "通話中", liveNone: "通話中の電話はありません。", direction: "方向", step: "ステップ",
      duration: "通話時間", trunk: "回線", answered: "応答",
      directions: { inbound: "着信", outbound: "発信" },
      seconds: (s) => `${Math.floor(s / 60)}分${String(s % 60).padStart(2, "0")}秒`,
    },
    en: {
      title: "Health observation", navToday: "Today", navBacklog: "Call progress",
      navSimulator: "Try a flow", logout: "Log out", uiSwitch: "日本語",
      login: "Log in", username: "User name", password: "Password",
      loginFailed: "Wrong user name or password.", tooMany: "Too many attempts. Please wait.",
      today: (d) => `Reports of ${d}`, search: "Name or HER-SYS ID", flagFilter: "Flag",
      all: "All", unreported: "Not reported only", date: "Date", show: "Show",
      hersys: "HER-SYS ID", name: "Name", flag: "Flag", temperature: "Temp.", spo2: "SpO2",
      reasons: "Reasons", reported: "Reported", reports: "Reports", yes: "yes", no: "no",
      nonReporters: "Not reported", nobody: "Nobody.",
      flags: { red: "red (act now)", amber: "amber (check)", none: "no flag" },
      days: "Last 10 days", day: "Date", tempMax: "Highest temp.", spo2Min: "Lowest SpO2",
      chartTemp: "Temperature (°C)", chartSpo2: "SpO2 (%)",
      fever: (v) => `fever ${v} °C`, spo2Line: (v) => `${v} %`,
      settings: "Call settings", callTimes: "Call times", language: "Call language", phone: "Phone",
      observation: "Observation period", callPeriod: "Call period", autoCall: "Automatic calls",
      autoOn: "Make automatic calls", from: "from", to: "to", save: "Save",
      saved: "Saved.", invalid: "Please correct the fields marked.",
      history: "Call history", slot: "Slot", attempt: "Attempt", state: "State", outcome: "Outcome",
      due: "Due", finished: "Finished", manual: "manual", noCalls: "No calls yet.",
      callNow: "Call now", queued: "Call queued.",
      locked: "Health Call locked", unlock: "Unlock", back: "Back to the list",
      backlog: (d) => `Calls of ${d}`, calls: "Calls", notStarted: "Not started", active: "Active",
      completed: "Completed", cancelled: "Cancelled", unreached: "Unreached", missed: "Missed",
      expectedFinish: "Expected finish", overruns: "Overruns",
      loading: "Loading…", failed: "Could not load.",
      born: "Birthday", risk: "Risk",
      navPatients: "Patients", navAudit: "Audit log", patients: "Patients", newPatient: "Register a patient",
      register: "Register", registered: "Registered.", healthCenter: "Health centre", period: "Observation",
      importTitle: "Import CSV", importButton: "Import", chooseFile: "Choose a file.",
      imported: (i, u) => `Imported (${i} new, ${u} updated).`,
      importFailed: "Not imported (nothing from the file was written).",
      exportCsv: "Export CSV", riskHint: "e.g. age65;diabetes;pregnant",
      blocked: "This number was reported as a wrong number; automatic calls to it are stopped.",
      audit: "Audit log", at: "Time", user: "User", action: "Action", detail: "Detail", patient: "Patient",
      filterUser: "Filter by user name",
      outsidePeriod: "outside observation period", outsidePeriodHint: "This report came on a day outside the observation period.",
      outsideNote: (from, to) => `Reports came on days outside the observation period (${from} – ${to}); those days are marked "outside observation period".`,
      noReport: "no report", incomplete: "incomplete", answersTitle: "Answers per day",
      answersNone: "No reports in these days.", channel: "Channel", reportTime: "Time",
      channels: { health_call: "Health Call", outbound_call: "Automatic call", web: "Web", staff: "Entered by staff" },
      live: "Live calls", liveNone: "No call in progress.", direction: "Direction", step: "Step",
      duration: "Duration", trunk: "Trunk", answered: "Answered",
      directions: { inbound: "inbound", outbound: "outbound" },
      seconds: (s) => `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`,
    },
  };
  // What is wrong with a field, by the API's problem code ("codes" in a 422 answer; the
  // ProblemCode enum of openapi.json); a code the page does not know shows the API's English.
  const PROBLEMS = {
    ja: {
      required: "入力してください。", unknown_field: "この項目は受け付けられません。",
      immutable: "変更できません。", date_format: "日付を YYYY-MM-DD で入力してください。",
      date_in_future: "未来の日付です。", date_before_1900: "1900年より前の日付です。",
      hersys_id_format: "HER-SYS ID は4〜16桁の数字です。", name_length: "氏名は1〜200文字です。",
      phone_format: "電話番号は3〜15桁の数字です。",
      phone_taken: "この番号は別の方の自動架電に使われています。",
      language_unknown: "8つの言語から選んでください。",
      call_times_needed: "自動架電を行うときは架電時刻を1つ以上選んでください。",
      call_times_choice: "設定された時刻から、それぞれ1回だけ選んでください。",
      period_incomplete: "開始日と終了日の両方を入力してください。",
      period_order: "開始日より前の日付です。",
      period_too_long: "観察期間は90日までです。",
      outside_observation: "観察期間の中の日付にしてください。",
      boolean: "はい・いいえで指定してください。", text_length: "500文字までです。",
      centre_name: "保健所名を入力してください。", centre_unknown: "その保健所はありません。",
      centre_not_yours: "ご自分の保健所以外は指定できません。",
      duplicate: "すでに登録されています。", out_of_range: "範囲外です。",
      format_choice: "csv か json を指定してください。", role_choice: "staff か admin を指定してください。",
      username_format: "ユーザー名は英数字と . _ - の64文字までです。",
      answers_empty: "回答を1つ以上入力してください。", answer_invalid: "回答の値が正しくありません。",
      password_short: "パスワードが短すぎます。", import_file: "ファイルに誤りがあります。",
    },
    en: {
      required: "Required.", unknown_field: "Not a field this form takes.",
      immutable: "Cannot be changed.", date_format: "Enter a date as YYYY-MM-DD.",
      date_in_future: "Is in the future.", date_before_1900: "Is before 1900.",
      hersys_id_format: "A HER-SYS ID is 4 to 16 digits.", name_length: "A name is 1 to 200 characters.",
      phone_format: "A phone number is 3 to 15 digits.",
      phone_taken: "This number is used for another patient's automatic calls.",
      language_unknown: "Choose one of the eight languages.",
      call_times_needed: "Choose at least one call time when automatic calls are on.",
      call_times_choice: "Choose from the configured times, each once.",
      period_incomplete: "Enter both the first and the last day.",
      period_order: "Is before the first day.",
      period_too_long: "An observation period is at most 90 days.",
      outside_observation: "Choose a day inside the observation period.",
      boolean: "Choose yes or no.", text_length: "At most 500 characters.",
      centre_name: "Enter a health centre.", centre_unknown: "No such health centre.",
      centre_not_yours: "Only your own health centre.",
      duplicate: "Already registered.", out_of_range: "Out of range.",
      format_choice: "Choose csv or json.", role_choice: "Choose staff or admin.",
      username_format: "Up to 64 letters, digits, '.', '_' or '-'.",
      answers_empty: "Enter at least one answer.", answer_invalid: "Not a valid answer.",
      password_short: "The password is too short.", import_file: "The file has an error.",
    },
  };
  // The banner's text for the API's error code, when there is no field to mark.
  const ERRORS = {
    ja: {
      unauthenticated: "ログインしてください。", forbidden: "この操作は許可されていません。",
      not_found: "見つかりません。", malformed_body: "要求の形式に誤りがあります。",
      not_json: "要求の形式に誤りがあります。", body_too_large: "送信した内容が大きすぎます。",
      malformed_query: "要求に誤りがあります。", malformed_path: "要求に誤りがあります。",
      invalid: "入力に誤りがあります。", conflict: "すでに存在します。",
      too_many_attempts: "試行が多すぎます。しばらく待ってください。",
      internal: "サーバーで問題が起きました。時間をおいてやり直してください。",
    },
    en: {
      unauthenticated: "Please log in.", forbidden: "You may not do this.",
      not_found: "Not found.", malformed_body: "The request was not understood.",
      not_json: "The request was not understood.", body_too_large: "What was sent is too large.",
      malformed_query: "The request was not understood.", malformed_path: "The request was not understood.",
      invalid: "Please correct the fields marked.", conflict: "Already exists.",
      too_many_attempts: "Too many attempts. Please wait.",
      internal: "The server had a problem. Please try again later.",
    },
  };
  // Why a report is flagged, by the reason codes of src/report/flags.rs (`FlagReason::code`);
  // `th` holds the configured thresholds. A `symptom:<q>` reason is the question's name,
  // `unanswered:<q>` says which question was left unanswered (a test checks every code).
  const REASONS = {
    ja: {
      fever: (th) => `発熱 ${th.fever_celsius}℃以上`,
      spo2_low: (th) => `SpO2低下（${th.spo2_at_or_below}%以下）`,
      spo2_low_breathless: (th) => `SpO2低下＋息苦しさ（${th.spo2_with_breathlessness_below}%未満）`,
      consciousness: () => "意識の異常（ぼんやり・混乱）",
      callback: () => "折り返し電話希望",
      "symptom:": (q) => q,
      "unanswered:": (q) => `未回答：${q}`,
    },
    en: {
      fever: (th) => `Fever ${th.fever_celsius} °C or higher`,
      spo2_low: (th) => `Low SpO2 (${th.spo2_at_or_below} % or lower)`,
      spo2_low_breathless: (th) => `Low SpO2 with breathlessness (below ${th.spo2_with_breathlessness_below} %)`,
      consciousness: () => "Drowsy or confused",
      callback: () => "Asks to be called back",
      "symptom:": (q) => q,
      "unanswered:": (q) => `Unanswered: ${q}`,
    },
  };
  // The SPEC §3 questions by id, as a nurse calls them.
  const QUESTIONS = {
    ja: {
      temperature: "体温", spo2: "SpO2", face: "顔色不良・唇の紫色", cough: "咳・鼻水",
      breath: "息苦しさ", fatigue: "全身のだるさ", nausea: "吐き気・嘔吐", diarrhea: "下痢",
      conscious: "意識の異常", eating: "食事がとりにくい", urine: "半日以上尿が出ない",
      callback: "折り返し電話の希望",
    },
    en: {
      temperature: "Temperature", spo2: "SpO2", face: "Poor complexion or purple lips",
      cough: "Cough or runny nose", breath: "Breathlessness", fatigue: "Fatigue",
      nausea: "Nausea or vomiting", diarrhea: "Diarrhoea", conscious: "Drowsy or confused",
      eating: "Difficulty eating", urine: "No urine for half a day", callback: "Wants a call back",
    },
  };
  // An answer's value: yes / no / unknown, and the two kinds of missing value.
  const ANSWERS = {
    ja: { yes: "はい", no: "いいえ", unknown: "わからない", not_measured: "未測定", unanswered: "未回答" },
    en: { yes: "yes", no: "no", unknown: "don't know", not_measured: "not measured", unanswered: "unanswered" },
  };
  const DEFAULT_THRESHOLDS = { fever_celsius: 37.5, spo2_at_or_below: 93, spo2_with_breathlessness_below: 96 };
  const questionText = (q, ui) => (QUESTIONS[ui] || QUESTIONS.ja)[q] || q;
  /** A reason code in words of language `ui` ("ja" or "en"), with thresholds `th`. */
  function reasonText(code, ui, th) {
    const words = REASONS[ui] || REASONS.ja;
    const t = { ...DEFAULT_THRESHOLDS, ...(th || {}) };
    const colon = code.indexOf(":");
    if (colon >= 0) {
      const kind = words[code.slice(0, colon + 1)];
      if (kind) return kind(questionText(code.slice(colon + 1), ui));
    }
    return words[code] ? words[code](t) : (ui === "en" ? "other reason" : "その他の理由");
  }
  const LANGUAGES = {
    ja: "日本語", en: "English", "zh-CN": "普通话", yue: "廣東話", "zh-TW": "國語（台灣）",
    ko: "한국어", es: "Español", pt: "Português",
  };

  window.CARECALL_TEXT = Object.freeze({
    TEXT, PROBLEMS, ERRORS, LANGUAGES, REASONS, QUESTIONS, ANSWERS, reasonText, questionText,
  });
})();
