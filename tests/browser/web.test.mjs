// End-to-end tests of the vulnshare web UI in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core). scripts/browser-test.sh starts the server with the demo data and
// a test clock and sets BASE_URL and ARTIFACTS; screenshots of the main pages go to ARTIFACTS.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.BASE_URL;
const ARTIFACTS = process.env.ARTIFACTS || "target/browser-artifacts";
const PASSWORD = "vulnshare-demo-password";
const USERS = {
  admin: "admin@platform.example",
  regulator: "regulator@miit.example",
  provider: "security@alibaba-cloud.example",
  upstream: "security@apache.example",
  monitor: "soc@monitor.example",
  operator: "it@operator.example",
};

assert.ok(BASE, "BASE_URL must point at a running vulnshare serve --demo --test-clock");
mkdirSync(ARTIFACTS, { recursive: true });
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
});

after(async () => {
  await browser?.close();
});

async function signIn(role, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, timezoneId: "Europe/Berlin" });
  const page = await context.newPage();
  await page.goto(`${BASE}/dashboard`);
  assert.match(page.url(), /\/sign-in\?next=/);
  await page.getByLabel("E-mail address").fill(USERS[role]);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/dashboard$/);
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function advanceClock(seconds) {
  const { context, page } = await signIn("admin");
  const csrf = await page.locator("meta[name=csrf-token]").getAttribute("content");
  const res = await context.request.post(`${BASE}/test-clock/advance`, { form: { csrf, seconds: String(seconds) } });
  assert.equal(res.status(), 200, await res.text());
  const body = await res.json();
  await context.close();
  return body;
}

test("every role signs in and sees its dashboard; cookies are Secure, HttpOnly, SameSite=Strict", async () => {
  for (const role of Object.keys(USERS)) {
    const { context, page } = await signIn(role);
    await assert.doesNotReject(page.getByRole("heading", { name: "Dashboard" }).waitFor());
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name.includes("vulnshare-session"));
    assert.ok(session, `${role}: a session cookie`);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Strict");
    if (session.name.startsWith("__Host-")) assert.equal(session.secure, true);
    if (role === "regulator") {
      await assert.doesNotReject(page.getByRole("link", { name: "Regulator" }).waitFor());
    }
    if (role === "provider") await shot(page, "dashboard-provider");
    await page.getByRole("button", { name: /Sign out/ }).click();
    await page.waitForURL(/\/sign-in$/);
    await context.close();
  }
});

test("a wrong password is refused with a message, and the page is usable by keyboard", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/sign-in`);
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter"); // the skip link
  await page.getByLabel("E-mail address").fill(USERS.operator);
  await page.getByLabel("Password").fill("not the password");
  await page.getByLabel("Password").press("Enter");
  await assert.doesNotReject(page.locator("#sign-in-problem").getByText("wrong e-mail address or password").waitFor());
  await context.close();
});

test("an operator files a report: the form lists missing Art. 7(2) content, autosaves and submits", async () => {
  const { context, page } = await signIn("operator");
  await page.getByRole("link", { name: "File a report" }).click();
  await assert.doesNotReject(page.getByText("Still missing (6)").waitFor());
  await page.getByLabel("Title").fill("Authentication bypass in the EdgeRouter admin page");
  await page.getByLabel("Product name").fill("EdgeRouter");
  await page.getByLabel("Model").fill("ER-4");
  await page.getByLabel(/^Affected versions/).fill("1.0, 1.1");
  // Autosave (htmx) stores the draft and updates the list without a reload.
  await assert.doesNotReject(page.locator("#autosave-status").getByText(/Draft VS-\d{4}-\d{5} saved/).waitFor());
  await assert.doesNotReject(page.getByText("Still missing (3)").waitFor());
  await page.getByLabel("Technical characteristics").fill("The admin page trusts a client-side flag.");
  await page.getByLabel("Harm", { exact: true }).fill("Full takeover of the router.");
  await page.getByLabel("Scope of impact").fill("All ER-4 units on firmware 1.0 and 1.1.");
  await page.getByLabel(/^When you learned of it/).fill("2026-03-01T08:00");
  await assert.doesNotReject(page.getByText("Everything Art. 7(2) asks for is filled in.").waitFor());
  await shot(page, "report-form");
  await page.getByRole("button", { name: "Submit to the platform" }).click();
  await page.waitForURL(/\/reports\/VS-/);
  assert.equal(await page.locator("#report-state").textContent(), "submitted");
  await context.close();
});

test("an obligation goes overdue when the controlled clock passes its deadline", async () => {
  let { context, page } = await signIn("monitor");
  const pending = page.locator("tr.obligation[data-state=pending]").first();
  await assert.doesNotReject(pending.waitFor());
  assert.match(await pending.locator("time.countdown").textContent(), / left$/);
  await shot(page, "dashboard-countdown");
  const before = Number(await page.locator("#count-overdue").textContent());
  const moved = await advanceClock(4 * 86400);
  assert.ok(moved.sweep.overdue.length >= 1, JSON.stringify(moved));
  await context.close();
  // Four days on, the old session has expired (sessions last 12 hours): sign in again.
  ({ context, page } = await signIn("monitor"));
  const overdue = page.locator("tr.obligation[data-state=overdue]").first();
  await assert.doesNotReject(overdue.waitFor());
  assert.match(await overdue.locator("time.countdown").textContent(), / overdue$/);
  assert.ok(Number(await page.locator("#count-overdue").textContent()) > before);
  await shot(page, "dashboard-overdue");
  await context.close();
});

test("the coordinator publishes an advisory; a suspended member cannot open an AMBER one", async () => {
  const { context, page } = await signIn("admin");
  await page.getByRole("link", { name: "Cases" }).click();
  await page.locator("#case-list tr", { hasText: "Log4Shell (CVE-2021-44228)" }).locator("a").first().click();
  await assert.doesNotReject(page.locator("#timeline").waitFor());
  await shot(page, "case");
  // Publish a TLP:AMBER update for the case's participants.
  await page.locator("#publish-form").evaluate((f) => f.closest("details").setAttribute("open", ""));
  await page.getByLabel("Sharing (TLP)").selectOption("AMBER");
  await page.getByLabel("Summary").fill("Log4Shell: mitigations for members");
  await page.getByLabel("Fix or mitigation").fill("Set log4j2.formatMsgNoLookups=true and upgrade.");
  await page.getByRole("button", { name: "Publish" }).click();
  await page.waitForURL(/\/advisories\/VSA-/);
  const amberUrl = page.url();
  assert.ok((await page.locator(".tlp").first().textContent()).includes("AMBER"));
  await context.close();

  // The provider (a participant) reads it, and the public reads the CLEAR one without signing in.
  const provider = await signIn("provider");
  const ok = await provider.page.goto(amberUrl);
  assert.equal(ok.status(), 200);
  const anon = await browser.newContext();
  const anonPage = await anon.newPage();
  await anonPage.goto(`${BASE}/advisories`);
  await anonPage.locator("#advisory-list a").first().click();
  await assert.doesNotReject(anonPage.getByRole("link", { name: "OSV JSON" }).waitFor());
  await assert.doesNotReject(anonPage.getByRole("link", { name: "CSAF 2.0 JSON" }).waitFor());
  await shot(anonPage, "advisory-public");
  const amberAnon = await anonPage.goto(amberUrl);
  assert.match(anonPage.url(), /\/sign-in\?next=/, `anonymous AMBER: ${amberAnon.status()}`);
  await anon.close();

  // The regulator suspends the provider.
  const regulator = await signIn("regulator");
  await regulator.page.getByRole("link", { name: "Regulator" }).click();
  await assert.doesNotReject(regulator.page.locator("#reports-chart").waitFor());
  await regulator.page.getByLabel("Organization").selectOption({ label: "Alibaba Cloud" });
  await regulator.page.getByLabel("Decision").selectOption("suspension");
  await regulator.page.getByLabel("Months (suspension)").fill("6");
  await regulator.page.getByLabel("Reason").fill("Reported Log4Shell 13 days late.");
  await regulator.page.getByRole("button", { name: "Record the decision" }).click();
  await assert.doesNotReject(regulator.page.locator("#sanction-table").getByText("suspension (6 months)").waitFor());
  await shot(regulator.page, "regulator-console");
  await regulator.context.close();

  const refused = await provider.page.goto(amberUrl);
  assert.ok([403, 404].includes(refused.status()), `suspended member got ${refused.status()}`);
  assert.equal(await provider.page.getByText("Log4Shell: mitigations for members").count(), 0);
  await provider.page.goto(`${BASE}/dashboard`);
  await assert.doesNotReject(provider.page.getByText("membership is suspended").waitFor());
  await provider.context.close();
});

test("admin, audit and SBOM pages render, and the dashboard fits a phone", async () => {
  const admin = await signIn("admin");
  for (const [path, name, marker] of [
    ["/admin", "admin", "#org-table"],
    ["/audit", "audit", "#chain-status"],
  ]) {
    await admin.page.goto(`${BASE}${path}`);
    await assert.doesNotReject(admin.page.locator(marker).waitFor());
    await shot(admin.page, name);
  }
  assert.match(await admin.page.locator("#chain-status").textContent(), /Chain intact/);
  await admin.context.close();
  const provider = await signIn("upstream");
  await provider.page.goto(`${BASE}/sboms`);
  await shot(provider.page, "sboms");
  await provider.context.close();
  const phone = await signIn("monitor", { width: 375, height: 740 });
  const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 380, `no horizontal page scroll on a phone (scrollWidth ${width})`);
  await shot(phone.page, "dashboard-phone");
  await phone.context.close();
});
