// End-to-end test of the review app in Debian's chromium (playwright-core), run by
// crates/cli/tests/review_e2e.rs, which prepares the tasks and checks the database afterwards.
// Input (environment): BASE_URL, ALICE, BOB, PASSWORD, TASK_APPROVE, TASK_CORRECT, TASK_REJECT,
// CORRECT_SKU, SHOTS (screenshot directory). Prints one JSON line with what it saw; exits 1 on
// the first failed check.
"use strict";
const { chromium } = require("playwright-core");
const path = require("path");

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`missing ${k}`);
  return v;
};
const BASE = env("BASE_URL");
const SHOTS = env("SHOTS");
const seen = { server_timing_ms: [] };

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function login(page, email) {
  await page.goto(`${BASE}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", env("PASSWORD"));
  await Promise.all([page.waitForNavigation(), page.click("#login-submit")]);
}

async function key(page, k) {
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await Promise.all([page.waitForNavigation(), page.keyboard.press(k)]);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await ctx.newPage();
    page.on("response", (r) => {
      const t = r.headers()["server-timing"];
      if (t && r.url().includes("/queue")) seen.server_timing_ms.push(parseFloat(t.split("dur=")[1]));
    });

    // login: a wrong password first, then the right one
    await page.goto(`${BASE}/queue`);
    check(page.url().endsWith("/login"), `redirected to login, at ${page.url()}`);
    await shot(page, "01-login");
    await page.fill("input[name=email]", env("ALICE"));
    await page.fill("input[name=password]", "not the password");
    await Promise.all([page.waitForNavigation(), page.click("#login-submit")]);
    check(await page.isVisible("#login-error"), "wrong password is refused");
    await login(page, env("ALICE"));
    check(page.url().endsWith("/queue"), `logged in, at ${page.url()}`);
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === "cs_session");
    check(session && session.httpOnly && session.secure && session.sameSite === "Strict", "session cookie flags");
    seen.queue_rows = await page.locator("tr.task-row").count();
    check(seen.queue_rows === 3, `3 tasks in the queue, saw ${seen.queue_rows}`);
    await shot(page, "02-queue");

    // approve with the keyboard: j/k/Enter in the queue, then "a"
    const first = await page.locator("tr.task-row").first().getAttribute("data-href");
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
    check(page.url().endsWith(first), "Enter opens the selected task");
    await page.goto(`${BASE}/tasks/${env("TASK_APPROVE")}`);
    check(await page.locator("svg.page rect.box").count() > 0, "boxes drawn over the page");
    await page.hover("tr.line[data-line='0']");
    check(await page.locator("#line-0.hl").count() === 1, "hovering a line highlights its box");
    await shot(page, "03-task");
    await key(page, "a");
    seen.after_approve = page.url();

    // correct and approve: catalog search, pick the SKU for line 1, preview, "c"
    await page.goto(`${BASE}/tasks/${env("TASK_CORRECT")}`);
    const before = await page.textContent("#total-points");
    await page.focus("input[name=sku_0]");
    await page.fill("#catalog-q", "VENTA 150 duct fan");
    const use = page.locator(`#catalog-results button.use:text-is("${env("CORRECT_SKU")}")`);
    await use.waitFor({ timeout: 5000 });
    await use.click();
    check((await page.inputValue("input[name=sku_0]")) === env("CORRECT_SKU"), "search result put on line 1");
    const after = await page.textContent("#total-points");
    seen.preview = { before, after };
    check(parseInt(after, 10) > parseInt(before, 10), `points preview grows (${before} -> ${after})`);
    await shot(page, "04-task-corrected");
    await key(page, "c");

    // reject with a reason
    await page.goto(`${BASE}/tasks/${env("TASK_REJECT")}`);
    await page.selectOption("#reject-reason", "not_eligible");
    await key(page, "r");

    // a decided task says so; deciding it again is refused
    await page.goto(`${BASE}/tasks/${env("TASK_APPROVE")}`);
    check((await page.textContent("#task-status")) === "approved", "approved task shows its status");
    await page.goto(`${BASE}/queue`);
    check(await page.isVisible("#queue-empty"), "queue is empty after three decisions");
    await shot(page, "05-queue-empty");
    await page.goto(`${BASE}/engagement`);
    await shot(page, "06-engagement");
    seen.engagement_rows = await page.locator("tr.partner").count();
    check(seen.engagement_rows === 1, `one partner at risk, saw ${seen.engagement_rows}`);
    check(await page.locator("tr.partner svg.plot rect.bar").count() === 26, "26 weekly bars");
    check((await page.textContent("tr.partner .challenge")).includes("scheduled: 2 purchases"), "the scheduled challenge");
    await Promise.all([page.waitForNavigation(), page.click("header form button")]);
    check(page.url().endsWith("/login"), "logged out");

    // a manager of another program
    await login(page, env("BOB"));
    const r = await page.goto(`${BASE}/tasks/${env("TASK_CORRECT")}`);
    seen.other_program_status = r.status();
    check(r.status() === 404, `another program's task is not found (got ${r.status()})`);
    check((await page.textContent("#error-code")) === "not_found", "error code shown");
    await shot(page, "07-other-program-denied");
    await page.goto(`${BASE}/queue`);
    check(await page.isVisible("#queue-empty"), "bob's queue is empty");
    console.log(JSON.stringify(seen));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
