// Browser test of the staff page and the flow simulator in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core). Run by tests/browser.rs against a running
// `carecall serve`:
//
//   node tests/browser/staff.mjs BASE_URL USERNAME PASSWORD SCREENSHOT_DIR
//
// Optional: CARECALL_RED_NAME (the red patient's name), CARECALL_OTHER_USER (a staff member of
// another health centre, with the same password), CHROMIUM (the browser binary).
// Exits 0 when every check passed; otherwise prints the failure and exits 1. Any request to
// another origin is blocked and fails the test: the pages must work offline.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, username, password, shots] = process.argv.slice(2);
if (!base || !username || !password || !shots) {
  console.error("usage: node staff.mjs BASE_URL USERNAME PASSWORD SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const origin = new URL(base).origin;
const foreign = [];
const pageErrors = [];

function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`ok - ${message}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ja-JP", timezoneId: "Asia/Tokyo" });
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (url.startsWith(origin) || url.startsWith("data:")) return route.continue();
  foreign.push(url);
  return route.abort();
});
const page = await context.newPage();
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.setDefaultTimeout(15000);
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

let failed = false;
try {
  // Log in.
  await page.goto(`${base}/staff`);
  await page.waitForSelector("body[data-view=login]");
  check((await page.textContent("h1")) === "健康観察", "the page opens in Japanese");
  await shot("01-login");
  await page.fill("#login-user", username);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.waitForSelector("body[data-view=today]");
  check(true, "logged in; today's list shown");

  // The red patient is at the top of today's list, marked red.
  const first = page.locator("#today-table tbody tr").first();
  check((await first.getAttribute("data-flag")) === "red", "the first row is red");
  check((await first.getAttribute("class")) === "row-red", "the red row is marked red");
  const redName = (await first.locator("a.patient-link").textContent()).trim();
  if (process.env.CARECALL_RED_NAME) {
    check(redName === process.env.CARECALL_RED_NAME, `the red patient ${redName} is on top`);
  }
  const flags = await page.locator("#today-table tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.flag));
  const rank = { red: 0, amber: 1, none: 2 };
  check(flags.every((f, i) => i === 0 || rank[flags[i - 1]] <= rank[f]), `rows ordered red, amber, rest: ${flags}`);
  check(await page.locator("#non-reporters").isVisible(), "the non-reporters section is shown");
  await page.selectOption("#filter-flag", "red");
  check((await page.locator("#today-table tbody tr[data-flag]").count()) === 2, "the red filter leaves the two red rows");
  await page.selectOption("#filter-flag", "");

  // Issue 11: a report from outside the observation period is listed, marked; reasons are
  // words, never codes; the live calls panel hides itself while the server has no such route.
  const CODE = /\b(fever|spo2_low|spo2_low_breathless|consciousness|callback|symptom:|unanswered:)/;
  const outside = page.locator("#today-table tbody tr[data-outside=true]");
  check((await outside.count()) === 1, "the report of a patient whose observation ended is on today's list");
  check((await outside.getAttribute("data-flag")) === "red", "the outside-period report is red, among the red rows");
  check((await outside.locator(".badge.outside").textContent()) === "観察期間外", "it is marked 観察期間外");
  const redReasons = await first.locator(".reasons-cell").textContent();
  check(redReasons.includes("発熱 37.5℃以上") && redReasons.includes("SpO2低下（93%以下）") && redReasons.includes("咳・鼻水"),
    `the red row's reasons are words: ${redReasons}`);
  const outsideReasons = await outside.locator(".reasons-cell").textContent();
  check(outsideReasons.includes("折り返し電話希望") && outsideReasons.includes("未回答：息苦しさ"), `the outside row's reasons: ${outsideReasons}`);
  check(!CODE.test(await page.textContent("#today-table")), "no reason code on today's list (Japanese)");
  check((await page.locator("#non-reporters-table tr[data-outside]").count()) === 0, "the outside-period patient is not a non-reporter");
  await page.waitForSelector("#live-calls[data-state]", { state: "attached" });
  const live = await page.getAttribute("#live-calls", "data-state");
  check(live === "shown" ? await page.locator("#live-calls").isVisible() : await page.locator("#live-calls").isHidden(),
    `the live calls panel is shown with the route, hidden without it (${live})`);
  await shot("02-today");
  await page.click("#ui-lang");
  await page.waitForSelector("html[lang=en] body[data-view=today]");
  const todayEn = await page.textContent("#today-table");
  check(todayEn.includes("Fever 37.5 °C or higher") && todayEn.includes("Asks to be called back") &&
    todayEn.includes("Unanswered: Breathlessness") && todayEn.includes("outside observation period"),
  "today's list in English: reasons as words, the outside-period mark");
  check(!CODE.test(todayEn), "no reason code on today's list (English)");
  await shot("02-today-en");
  await page.click("#ui-lang");
  await page.waitForSelector("html[lang=ja] body[data-view=today]");

  // The patient page with both charts and their threshold lines.
  const redHref = await first.locator("a.patient-link").getAttribute("href");
  await first.locator("a.patient-link").click();
  await page.waitForSelector("body[data-view=patient]");
  const temperature = page.locator("svg#chart-temperature");
  const spo2 = page.locator("svg#chart-spo2");
  check(await temperature.isVisible(), "the temperature chart is drawn");
  check(await spo2.isVisible(), "the SpO2 chart is drawn");
  check((await temperature.locator("line.threshold").count()) === 1, "the fever line is drawn");
  check((await spo2.locator("line.threshold").count()) === 2, "the two SpO2 lines are drawn");
  check((await temperature.locator("circle.point").count()) >= 1, "today's temperature is plotted");
  check((await page.locator("#days-table tbody tr").count()) === 10, "the 10-day table has 10 rows");
  check(await page.locator("#number-blocked").isVisible(), "a number reported as wrong is marked for staff");
  check((await page.locator("#patient-head #outside-note, #days-table [data-outside], #answers-table [data-outside], #view .badge.outside").count()) === 0,
    "no outside-period mark for a patient reporting inside the period");
  // Days without a report say so (grey), never the green "fine" badge; each day's answers.
  const dayFlags = await page.locator("#days-table tbody tr .flag").evaluateAll((b) => b.map((x) => [x.dataset.flag, x.textContent]));
  check(dayFlags.slice(0, 9).every(([f, text]) => f === "noreport" && text === "報告なし"), `days without a report: 報告なし (${dayFlags})`);
  check(dayFlags[9][0] === "red", "today is red");
  check((await page.locator("#days-table [data-flag=none]").count()) === 0, "no green badge on a day without a report");
  const todayCol = (q) => page.locator(`#answers-table tr[data-question=${q}] td:not(.no-report)`).first();
  check((await todayCol("temperature").textContent()) === "39.0℃", "today's temperature in the answers table");
  check((await todayCol("spo2").textContent()) === "92%", "today's SpO2 in the answers table");
  check((await todayCol("cough").textContent()) === "はい", "today's cough answer in words");
  check((await page.locator("#answers-table th.no-report").count()) === 9, "nine days without a report in the answers table");
  const patientText = await page.textContent("#view");
  check(patientText.includes("発熱 37.5℃以上") && !CODE.test(await page.textContent("#days-table")) &&
    !CODE.test(await page.textContent("#answers-table")), "the patient page words the reasons (Japanese)");
  // Charts: a tick per day, legible axis text, points coloured by their own threshold, the
  // newest point inside the plot.
  for (const svg of [temperature, spo2]) {
    check((await svg.locator("line.tick").count()) === 10, "a tick for every day");
    const size = await svg.locator("text.axis").first().evaluate((n) => parseFloat(getComputedStyle(n).fontSize));
    check(size >= 13, `axis text is legible (${size}px in the chart's units)`);
    const inside = await svg.evaluate((s) => {
      const plot = s.querySelector("rect.plot").getBBox();
      return [...s.querySelectorAll("circle.point")].every((c) => {
        const b = c.getBBox();
        return b.x >= plot.x && b.x + b.width <= plot.x + plot.width && b.y >= plot.y - 1;
      });
    });
    check(inside, "every point, the newest too, is drawn whole inside the plot");
  }
  check((await temperature.locator("circle.point.flag-red").count()) === 1, "39.0 °C is red by the fever line");
  await shot("03-patient");
  await page.click("#ui-lang");
  await page.waitForSelector("html[lang=en] body[data-view=patient]");
  const patientEn = await page.textContent("#view");
  check(patientEn.includes("Fever 37.5 °C or higher") && patientEn.includes("Cough or runny nose") && patientEn.includes("no report"),
    "the patient page in English: reasons and questions as words, days without a report");
  check(!CODE.test(await page.textContent("#answers-table")), "no reason code on the patient page (English)");
  await shot("03-patient-en");
  await page.click("#ui-lang");
  await page.waitForSelector("html[lang=ja] body[data-view=patient]");

  // The outside-period patient's page: "not measured" and "unanswered" told apart.
  await page.goto(`${base}/staff#/today`);
  await page.waitForSelector("body[data-view=today]");
  await page.locator("#today-table tbody tr[data-outside=true] a.patient-link").click();
  await page.waitForSelector("body[data-view=patient]");
  check((await todayCol("spo2").textContent()) === "未測定", "SpO2 # alone: 未測定");
  check((await todayCol("breath").textContent()) === "未回答", "no valid input: 未回答");
  check((await todayCol("spo2").getAttribute("data-state")) === "not_measured" &&
    (await todayCol("breath").getAttribute("data-state")) === "unanswered", "the two are told apart");
  const oTemp = page.locator("svg#chart-temperature circle.point");
  check((await oTemp.getAttribute("class")).includes("flag-none"), "a normal 36.6 °C of a red report is not coloured red or amber");
  // Issue 11: the day whose report came from outside the observation period is marked on the
  // patient page too (the days table, the answers table, a note under the name).
  const outsideDays = page.locator("#days-table tbody tr[data-outside=true]");
  check((await outsideDays.count()) === 1, "one day of the 10 is marked outside the period");
  check((await outsideDays.getAttribute("data-date")) === (await page.locator("#days-table tbody tr").last().getAttribute("data-date")) &&
    (await outsideDays.locator(".flag").getAttribute("data-flag")) === "red", "the marked day is today, with its red report");
  check((await outsideDays.locator(".badge.outside").textContent()) === "観察期間外", "the day is marked 観察期間外");
  check((await page.locator("#days-table tbody tr:not([data-outside]) .badge.outside").count()) === 0, "the days inside the period are not marked");
  const outsideCol = page.locator("#answers-table th[data-outside=true]");
  check((await outsideCol.count()) === 1 && (await outsideCol.locator(".badge.outside").textContent()) === "観察期間外",
    "the report's column in the answers table is marked 観察期間外");
  const note = await page.textContent("#outside-note");
  check(note.includes("観察期間") && note.includes("観察期間外"), `a note says a report came from outside the period: ${note}`);
  await shot("03b-patient-outside");
  await page.click("#ui-lang");
  await page.waitForSelector("html[lang=en] body[data-view=patient]");
  check((await todayCol("spo2").textContent()) === "not measured" && (await todayCol("breath").textContent()) === "unanswered",
    "English: not measured vs unanswered");
  check((await page.locator("#days-table tbody tr[data-outside=true] .badge.outside").textContent()) === "outside observation period" &&
    (await page.locator("#answers-table th[data-outside=true] .badge.outside").textContent()) === "outside observation period",
  "English: the day and its report marked outside observation period");
  const noteEn = await page.textContent("#outside-note");
  check(noteEn.includes("outside the observation period"), `English: the note (${noteEn})`);
  await shot("03b-patient-outside-en");
  await page.click("#ui-lang");
  await page.waitForSelector("html[lang=ja] body[data-view=patient]");
  await page.goto(`${base}/staff${redHref}`);
  await page.waitForSelector("body[data-view=patient]");

  // Call settings: a bad change is refused per field, a good one is saved.
  const boxes = page.locator("#call-times input[name=call_times]");
  check((await boxes.count()) === 4, "four slot checkboxes");
  for (const box of await boxes.all()) await box.uncheck();
  await page.check("#set-auto-call");
  await page.click("#save-settings");
  await page.waitForSelector("#error-call_times:not(:empty)");
  check(
    (await page.textContent("#error-call_times")) === "自動架電を行うときは架電時刻を1つ以上選んでください。",
    "no call time with automatic calls on is refused on the call-times field, in Japanese",
  );
  await shot("04-settings-error");
  await page.check("#call-times input[value='11:00']");
  await page.check("#call-times input[value='16:00']");
  await page.click("#save-settings");
  await page.waitForSelector("#settings-status.ok");
  await page.reload();
  await page.waitForSelector("body[data-view=patient]");
  const checked = await page.locator("#call-times input:checked").evaluateAll((b) => b.map((x) => x.value));
  check(JSON.stringify(checked) === JSON.stringify(["11:00", "16:00"]), `call times saved: ${checked}`);
  await shot("05-patient-saved");

  // The slot backlog, and the English switch.
  await page.click("a[href='#/backlog']");
  await page.waitForSelector("body[data-view=backlog]");
  const slotRows = await page.locator("#backlog-table tbody tr").count();
  check(slotRows >= 1, `the backlog lists the day's slots (${slotRows})`);
  await page.click("#ui-lang");
  await page.waitForSelector("html[lang=en] body[data-view=backlog]");
  check((await page.textContent("h1")) === "Health observation", "the English switch works");
  await shot("06-backlog-en");
  await page.click("#ui-lang");
  await page.waitForSelector("html[lang=ja]");

  // Register a patient: a bad phone number is refused on its field, in Japanese; then saved.
  await page.click("a[href='#/patients']");
  await page.waitForSelector("body[data-view=patients]");
  const listed = await page.locator("#patients-table tbody tr").count();
  check(listed >= 3, `the patients list shows the centre's patients (${listed})`);
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  await page.fill("#new-hersys-id", "82736451");
  await page.fill("#new-name", "Kobayashi Aiko");
  await page.fill("#new-birthday", "1944-08-30");
  await page.fill("#new-health-center", "Minato");
  await page.fill("#new-phone", "call me");
  await page.check("#new-call-times input[value='09:00']");
  await page.fill("#new-observation-start", iso(new Date(today.getTime() - 86400000)));
  await page.fill("#new-observation-end", iso(new Date(today.getTime() + 6 * 86400000)));
  await page.click("#register");
  await page.waitForSelector("#error-phone:not(:empty)");
  check((await page.textContent("#error-phone")) === "電話番号は3〜15桁の数字です。", "a bad phone number is refused on its field, in Japanese");
  await page.fill("#new-phone", "0422-11-2233");
  await page.click("#register");
  await page.waitForSelector("body[data-view=patient]");
  check((await page.textContent("#patient-name")).includes("Kobayashi Aiko"), "the registered patient's page opens");
  const newHref = new URL(page.url()).hash;
  await shot("07-register");

  // Import a CSV file: a bad one writes nothing and names the line; a good one is listed.
  await page.click("a[href='#/patients']");
  await page.waitForSelector("body[data-view=patients]");
  const header = "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk";
  const period = `${iso(today)},${iso(new Date(today.getTime() + 9 * 86400000))}`;
  const csv = (phone) => Buffer.from(`${header}\n36925814,Ito Ken,1958-06-01,${phone},ko,14:00,${period},true,Minato,age65\n`);
  await page.setInputFiles("#import-file", { name: "bad.csv", mimeType: "text/csv", buffer: csv("nope") });
  await page.click("#import-submit");
  await page.waitForSelector("#import-status.field-error");
  check((await page.textContent("#import-status")).includes("line 2"), "a bad file is refused, naming its line");
  await page.setInputFiles("#import-file", { name: "good.csv", mimeType: "text/csv", buffer: csv("0312340000") });
  await page.click("#import-submit");
  await page.waitForSelector("#import-status.ok");
  check((await page.textContent("#import-status")).includes("新規 1 件"), "a good file is imported: one new patient");
  await page.waitForSelector("#patients-table tbody tr >> text=36925814");
  check(true, "the imported patient is listed");
  await shot("08-import");

  // Call now, from the registered patient's page; the queued call is in the call history.
  await page.goto(`${base}/staff${newHref}`);
  await page.waitForSelector("body[data-view=patient]");
  await page.click("#call-now");
  await page.waitForSelector("#call-now-status[data-state=queued]");
  await page.reload();
  await page.waitForSelector("body[data-view=patient]");
  const history = await page.locator("#calls-table tbody tr").allTextContents();
  check(history.length === 1 && history[0].includes("手動") && history[0].includes("pending"), `the queued call is listed: ${history}`);
  await shot("09-call-now");

  // The audit log (admins): the registration and the reads are there.
  await page.click("#nav-audit");
  await page.waitForSelector("body[data-view=audit]");
  for (const action of ["patient.create", "patient.import", "call.request", "report.today", "patient.read"]) {
    check((await page.locator(`#audit-table tr[data-action='${action}']`).count()) >= 1, `the audit log shows ${action}`);
  }
  await shot("10-audit");

  // Log out: the page returns to the login form and the session is gone.
  await page.click("#logout");
  await page.waitForSelector("body[data-view=login]");
  const status = await page.evaluate(() => fetch("/api/v1/auth/me").then((r) => r.status));
  check(status === 401, `logged out: the session no longer answers (${status})`);

  // Staff of another centre see none of Minato's patients, even by address.
  if (process.env.CARECALL_OTHER_USER) {
    await page.fill("#login-user", process.env.CARECALL_OTHER_USER);
    await page.fill("#login-password", password);
    await page.click("#login-submit");
    await page.waitForSelector("body[data-view=today]");
    check(!(await page.locator("#nav-audit").isVisible()), "staff see no audit log link");
    const names = await page.locator("#today-table a.patient-link").allTextContents();
    check(!names.includes(redName), `another centre's list does not show ${redName}`);
    await page.goto(`${base}/staff${redHref}`);
    await page.waitForSelector("#error:not([hidden])");
    check((await page.textContent("#error")).includes("見つかりません"), "another centre's patient is not found");
    check((await page.locator("#patient-name").count()) === 0, "nothing of the patient is shown");
    await shot("11-other-centre");
    await page.click("#logout");
    await page.waitForSelector("body[data-view=login]");
  }

  // The simulator: a whole automatic call by clicking keys.
  await page.goto(`${base}/simulator`);
  await page.waitForSelector("#connection[data-state=connected]");
  await page.waitForSelector("#dialplan option[value=automatic_call]", { state: "attached" });
  await page.selectOption("#dialplan", "automatic_call");
  await page.selectOption("#language", "ja");
  await page.check("#no-audio");
  await page.click("#start");
  // Cough yes (amber) and a callback request (red), so the flag has reasons to word.
  const keys = ["1", "3", "7", "2", "1", "9", "8", "hash", "1", "2", "1", ...Array(7).fill("2"), "1"];
  for (const key of keys) {
    // Wait until the call waits for a key (prompts done), then press it.
    await page.waitForFunction(() => document.getElementById("timer").textContent !== "—");
    await page.click(`#key-${key}`);
    await page.waitForTimeout(250);
  }
  await page.waitForSelector("#outcome[data-outcome=completed]");
  const answers = await page.locator("#answers tr").count();
  check(answers === 12, `a whole automatic call completed with 12 answers (${answers})`);
  check((await page.textContent("#answers tr[data-question=temperature] td:last-child")) === "37.2", "temperature 37.2 heard");
  const simFlag = await page.textContent("#flag");
  check(simFlag.includes("折り返し電話希望") && simFlag.includes("咳・鼻水") && !CODE.test(simFlag), `the simulator words the reasons: ${simFlag}`);
  check((await page.textContent("#answers tr[data-question=cough] td:last-child")) === "はい", "the simulator words a yes");
  await shot("12-simulator");
  await page.click("#ui-lang");
  await page.waitForSelector("html[lang=en]");
  const simFlagEn = await page.textContent("#flag");
  check(simFlagEn.includes("Asks to be called back") && simFlagEn.includes("Cough or runny nose") && !CODE.test(simFlagEn),
    `the simulator in English: ${simFlagEn}`);
  await shot("13-simulator-en");

  check(foreign.length === 0, `no request left the server (${foreign.join(", ")})`);
  check(pageErrors.length === 0, `no script error on the pages (${pageErrors.join("; ")})`);
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.stack || e}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join("; ")}`);
  await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
