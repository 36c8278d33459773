// Browser check of `carecall demo`'s first login (issue 11 point 2), run by tests/browser.rs:
//
//   node tests/browser/demo.mjs BASE_URL USERNAME PASSWORD SCREENSHOT_DIR first|again
//
// `first`: logs in with the account the demo printed, sees the demo patients on today's list
// and changes 山田 花子's call times to 11:00 only. `again` (after a restart of the demo):
// logs in and checks that the change survived. Exits 0 when every check passed.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, username, password, shots, mode] = process.argv.slice(2);
if (!base || !username || !password || !shots || !["first", "again"].includes(mode)) {
  console.error("usage: node demo.mjs BASE_URL USERNAME PASSWORD SCREENSHOT_DIR first|again");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const check = (condition, message) => {
  if (!condition) throw new Error(message);
  console.log(`ok - ${message}`);
};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: "ja-JP" });
page.setDefaultTimeout(15000);
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
let failed = false;
try {
  await page.goto(`${base}/staff`);
  await page.waitForSelector("body[data-view=login]");
  await page.fill("#login-user", username);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.waitForSelector("body[data-view=today]");
  const names = await page.locator("#today-table a.patient-link").allTextContents();
  for (const name of ["山田 花子", "Maria Silva", "John Smith", "王 芳"]) {
    check(names.includes(name), `the demo login sees demo patient ${name} on today's list`);
  }
  const yamada = page.locator("#today-table tr", { has: page.locator("a.patient-link", { hasText: "山田 花子" }) });
  check((await yamada.locator(".badge.outside").count()) === 0, "demo periods cover today: no outside-period badge");
  await yamada.locator("a.patient-link").click();
  await page.waitForSelector("body[data-view=patient]");
  const checked = () => page.locator("#call-times input:checked").evaluateAll((b) => b.map((x) => x.value));
  if (mode === "first") {
    check(JSON.stringify(await checked()) === JSON.stringify(["09:00", "14:00"]), "the demo call times as imported");
    for (const box of await page.locator("#call-times input[name=call_times]").all()) await box.uncheck();
    await page.check("#call-times input[value='11:00']");
    await page.click("#save-settings");
    await page.waitForSelector("#settings-status.ok");
    check(true, "a nurse changed 山田 花子's call times to 11:00");
    await shot("20-demo-login");
  } else {
    const now = await checked();
    check(JSON.stringify(now) === JSON.stringify(["11:00"]), `the change survived the demo's restart: ${now}`);
    await shot("21-demo-restarted");
  }
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.stack || e}`);
  await shot(`failure-demo-${mode}`).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
