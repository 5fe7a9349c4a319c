// End-to-end tests of the vulnshare web UI in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core). scripts/browser-test.sh starts the server with the demo data and
// a test clock and sets BASE_URL and ARTIFACTS; screenshots of the main pages go to ARTIFACTS.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
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
  return signInAs(USERS[role], PASSWORD, "", viewport);
}

async function signInAs(email, password, code = "", viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, timezoneId: "Europe/Berlin" });
  const page = await context.newPage();
  await page.goto(`${BASE}/dashboard`);
  assert.match(page.url(), /\/sign-in\?next=/);
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password").fill(password);
  if (code) await page.getByLabel(/^One-time code/).fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/dashboard$/);
  return { context, page };
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it.
function totp(base32Secret, unixSeconds) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of base32Secret.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
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
  // The upstream provider uploads the SBOM of its product and sees the advisories it matches.
  const provider = await signIn("upstream");
  await provider.page.getByRole("link", { name: "SBOMs" }).click();
  await provider.page.getByLabel("Product", { exact: true }).selectOption({ label: "Apache Solr" });
  await provider.page.getByLabel("Product version").fill("8.11.0");
  await provider.page.getByLabel(/^CycloneDX/).setInputFiles("crates/vulnshare-formats/tests/fixtures/sbom/cyclonedx-1.6.json");
  await provider.page.getByRole("button", { name: "Upload and match" }).click();
  const exposures = provider.page.locator("#exposure-table");
  await assert.doesNotReject(exposures.waitFor());
  assert.ok((await exposures.locator("tr", { hasText: "log4j-core" }).count()) >= 1, await exposures.textContent());
  await shot(provider.page, "sboms");
  await provider.context.close();
  const phone = await signIn("monitor", { width: 375, height: 740 });
  const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 380, `no horizontal page scroll on a phone (scrollWidth ${width})`);
  await shot(phone.page, "dashboard-phone");
  await phone.context.close();
});

test("an administrator creates a member, who issues an API token, turns on TOTP and is locked out after failures", async () => {
  const admin = await signIn("admin");
  await admin.page.getByRole("link", { name: "Admin" }).click();
  await admin.page.getByText("New organization").click();
  await admin.page.getByLabel("Organization name").fill("Example Vendor");
  await admin.page.getByLabel("Kind").selectOption("provider");
  await admin.page.getByLabel(/^Country/).fill("DE");
  await admin.page.getByRole("button", { name: "Create organization" }).click();
  await admin.page.waitForURL(/\/admin\?org=/);
  await admin.page.getByText("New user of Example Vendor").click();
  await admin.page.getByLabel("E-mail address").fill("psirt@vendor.example");
  await admin.page.getByLabel("Display name").fill("Vendor PSIRT");
  await admin.page.getByLabel(/^Initial password/).fill("correct horse battery");
  await admin.page.getByLabel("org admin").check();
  await admin.page.getByRole("button", { name: "Create user" }).click();
  await assert.doesNotReject(admin.page.locator("#user-table").getByText("psirt@vendor.example").waitFor());
  await shot(admin.page, "admin-new-user");
  await admin.context.close();

  // The new member issues a token and the API accepts it.
  let member = await signInAs("psirt@vendor.example", "correct horse battery");
  await member.page.getByRole("link", { name: "API tokens" }).click();
  await member.page.getByLabel("Token name").fill("ci upload");
  await member.page.getByRole("button", { name: "Issue token" }).click();
  const secret = (await member.page.locator("#token-secret").textContent()).trim();
  const me = await member.context.request.get(`${BASE}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(me.status(), 200, await me.text());

  // TOTP: enrol with a code computed from the shown secret at the server's (test) clock.
  await member.page.getByRole("link", { name: "Two-step sign-in" }).click();
  const totpSecret = (await member.page.locator("#totp-secret").textContent()).trim();
  let { now } = await advanceClock(1);
  await member.page.getByLabel("Code from the app").fill(totp(totpSecret, Date.parse(now) / 1000));
  await member.page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  await assert.doesNotReject(member.page.getByText("asks for a one-time code at every sign-in").waitFor());
  await member.context.close();
  ({ now } = await advanceClock(31));
  member = await signInAs("psirt@vendor.example", "correct horse battery", totp(totpSecret, Date.parse(now) / 1000));
  await member.context.close();

  // Without the code the password alone is refused; five failures lock the account.
  const context = await browser.newContext();
  const page = await context.newPage();
  for (let i = 0; i < 5; i++) {
    await page.goto(`${BASE}/sign-in`);
    await page.getByLabel("E-mail address").fill("psirt@vendor.example");
    await page.getByLabel("Password").fill(`wrong password ${i}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await assert.doesNotReject(page.locator("#sign-in-problem").waitFor());
  }
  await page.goto(`${BASE}/sign-in`);
  await page.getByLabel("E-mail address").fill("psirt@vendor.example");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await assert.doesNotReject(page.locator("#sign-in-problem").getByText(/locked until/).waitFor());
  await shot(page, "sign-in-locked");
  await context.close();
});
