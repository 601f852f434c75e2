/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against `npm start`:
 * a researcher registers and submits a job, an admin approves and starts it in the admin panel, and
 * the researcher's page shows it finish without a reload. Also: an API error shown in words, the
 * keyboard, a phone-sized screen. Screenshots go to test-artifacts/console/ (git-ignored).
 * Needs /usr/bin/chromium (or CHROMIUM_PATH): `.ci/run` installs it with apt-get.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_PASSWORD, localStackSandbox, REPO_ROOT, type StartedStack } from "./support/local-stack";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = join(REPO_ROOT, "test-artifacts", "console");
/** Flags for a headless Chromium on a machine with no network but loopback. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const UI_TIMEOUT_MS = 20_000;

const sandbox = localStackSandbox("gpuaas-console-");
let stack: StartedStack;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install it (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  // Runs of 2 s per GPU-hour that always succeed: the job ends while the researcher watches.
  stack = await sandbox.startStack({ launcher: "npm", env: { SIMULATION_SECONDS_PER_HOUR: "2", SIMULATION_FAILURE_RATE: "0" } });
  expect(stack.output()).toContain("is running at");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  sandbox.cleanup();
});

/** A new browser page (its own session) that fails the test on any script error. */
async function newPage(viewport = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, errors };
}

/** Signs in on the console's login page with the mouse. */
async function signIn(page: Page, email: string, password: string) {
  await page.goto(`${stack.url}/#/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const alertText = (page: Page) => page.getByTestId("error").innerText();

it("register, submit, admin approves and starts it in the admin panel, the dashboard shows it finish without a reload", async () => {
  const researcher = await newPage();
  const { page } = researcher;
  await page.goto(`${stack.url}/`);
  // Signed out, the console asks to sign in; register from there.
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByRole("link", { name: "Register" }).first().click();
  await page.getByLabel("Full name").fill("Ada Researcher");
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Password").fill("ada's long password");
  await page.getByRole("button", { name: "Register" }).click();
  await page.getByRole("heading", { name: "Hello, Ada Researcher" }).waitFor();
  expect(await page.getByTestId("quota-remaining").innerText()).toMatch(/GPU-h/);

  // An API error, in words: more GPU-hours than the monthly quota holds. Nothing is submitted.
  await page.getByRole("link", { name: "Submit", exact: true }).click();
  await page.getByLabel("Name").fill("too-big");
  await page.getByLabel("Container image").fill("pytorch/pytorch:2.4");
  await page.getByLabel("Command").fill("python train.py");
  await page.getByLabel("GPU type").selectOption("T4");
  await page.getByLabel("GPUs").fill("8");
  await page.getByLabel("Estimated hours").fill("500");
  await page.getByRole("button", { name: "Submit job" }).click();
  await page.getByTestId("error").waitFor();
  expect(await alertText(page)).toContain("This would go over your monthly GPU-hour quota.");

  // Then a job that fits, with its live estimate: 1 T4 for 1 hour at the cheapest T4 price.
  await page.getByLabel("Name").fill("resnet-finetune");
  await page.getByLabel("GPUs").fill("1");
  await page.getByLabel("Estimated hours").fill("1");
  await expect.poll(() => page.getByTestId("estimate").innerText()).toContain("Estimated cost $0.12");
  await page.getByRole("button", { name: "Submit job" }).click();
  await page.getByTestId("job-status").getByText("PENDING").waitFor();
  const jobId = /#\/jobs\/(\w+)$/.exec(page.url())![1]!;
  await shot(page, "job-detail-pending");

  // The dashboard lists it, waiting for approval. Mark the page: a reload would lose the mark.
  await page.getByRole("link", { name: "Dashboard", exact: true }).click();
  const row = page.locator(`tr[data-job-id="${jobId}"]`);
  await row.getByText("Waiting for an admin to approve it").waitFor();
  expect(await page.getByTestId("my-jobs").locator("tbody tr").count()).toBe(1);
  await page.evaluate(() => ((globalThis as { mark?: string }).mark = "no reload"));

  // The admin, in a browser of their own, signs in with the keyboard alone.
  const { page: admin, errors: adminErrors } = await newPage();
  await admin.goto(`${stack.url}/#/login`);
  await admin.getByLabel("Email").focus();
  await admin.keyboard.type("admin@gpuaas.local");
  await admin.keyboard.press("Tab");
  await admin.keyboard.type(ADMIN_PASSWORD);
  await admin.keyboard.press("Enter");
  await admin.getByRole("link", { name: "Admin" }).click();
  const pending = admin.getByTestId("approval-queue").locator(`tr[data-job-id="${jobId}"]`);
  await pending.getByText("resnet-finetune").waitFor();
  await shot(admin, "admin-panel");
  await pending.getByRole("button", { name: "Approve" }).click();
  await admin.getByText('"resnet-finetune" is now APPROVED.').waitFor();

  // No capacity pools here, so the approved job waits for an admin to start it.
  await admin.getByRole("link", { name: "Running jobs" }).click();
  await admin.getByTestId("approved-jobs").locator(`tr[data-job-id="${jobId}"]`).getByRole("button", { name: "Start" }).click();
  await admin.getByText('"resnet-finetune" is now RUNNING.').waitFor();

  // The researcher's dashboard follows: RUNNING, then COMPLETED after the simulated 2 s, no reload.
  await row.getByText("COMPLETED").waitFor();
  expect(await page.evaluate(() => (globalThis as { mark?: string }).mark)).toBe("no reload");
  await expect.poll(() => page.getByTestId("month-spend").innerText()).toBe("$0.12");
  await shot(page, "dashboard");

  // The job's page shows its whole history.
  await row.getByRole("link", { name: "resnet-finetune" }).click();
  const events = page.getByTestId("job-events");
  for (const status of ["PENDING", "APPROVED", "RUNNING", "COMPLETED"]) await events.getByText(status, { exact: true }).waitFor();
  await shot(page, "job-detail");

  // The admin's cost chart includes it.
  await admin.getByRole("link", { name: "Costs" }).click();
  await expect.poll(() => admin.getByTestId("cost-total").innerText()).toBe("$0.12");
  await admin.locator("canvas#chart-by-group").waitFor();
  await shot(admin, "admin-costs");

  expect([...researcher.errors, ...adminErrors]).toEqual([]);
}, 120_000);

it("shows a wrong password in words, and fits a phone's screen", async () => {
  const { page, errors } = await newPage({ width: 390, height: 844 });
  await signIn(page, "ada@example.com", "not the password");
  await page.getByTestId("error").waitFor();
  expect(await alertText(page)).toMatch(/invalid email or password/i);

  await page.getByLabel("Password").fill("ada's long password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("my-jobs").waitFor();
  // Nothing wider than the screen: no sideways scrolling of the page itself.
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
  await shot(page, "dashboard-phone");
  expect(errors).toEqual([]);
}, 60_000);

it("a team owner sets up a team and budget; an admin adds a pool and changes a quota", async () => {
  const { page, errors } = await newPage();
  await signIn(page, "ada@example.com", "ada's long password");
  await page.getByRole("link", { name: "Team" }).click();
  await page.getByText("You are not in a team yet.").waitFor();
  await page.getByLabel("Name").fill("Vision Lab");
  await page.getByRole("button", { name: "Create team" }).click();
  await page.getByText("Vision Lab — you are its owner").waitFor();
  expect(await page.getByTestId("invite-code").innerText()).toMatch(/^[\w-]{22}$/);
  await page.getByLabel("Monthly budget (USD)").fill("250");
  await page.getByRole("button", { name: "Save budget" }).click();
  await page.getByText("Monthly budget set to $250.00.").waitFor();
  await page.getByText("Spent this month: $0.00 of $250.00").waitFor();
  // A budget the API refuses is explained, and the saved one stays.
  await page.getByLabel("Monthly budget (USD)").fill("-5");
  await page.getByRole("button", { name: "Save budget" }).click();
  await page.getByTestId("error").waitFor();
  expect(await alertText(page)).toContain("Some of what you entered is not valid.");
  await page.getByText("Spent this month: $0.00 of $250.00").waitFor();

  const { page: admin, errors: adminErrors } = await newPage();
  await signIn(admin, "admin@gpuaas.local", ADMIN_PASSWORD);
  await admin.getByRole("link", { name: "Admin" }).click();
  await admin.getByRole("link", { name: "Clusters" }).click();
  await admin.getByText("No capacity pools").waitFor();
  await admin.getByText("Add a pool").click();
  await admin.getByLabel("Name").fill("a100-east");
  await admin.getByLabel("GPU type").fill("A100");
  await admin.getByLabel("Provider").fill("aws");
  await admin.getByLabel("Region").fill("us-east-1");
  await admin.getByLabel("GPUs").fill("8");
  await admin.getByLabel("CPUs").fill("96");
  await admin.getByLabel("RAM (GB)").fill("1024");
  await admin.getByRole("button", { name: "Create pool" }).click();
  await admin.getByText("8 of 8 GPUs free").waitFor();

  await admin.getByRole("link", { name: "Users & quotas" }).click();
  await admin.getByLabel("Monthly GPU-hour limit of ada@example.com").fill("42");
  await admin.getByLabel("Monthly GPU-hour limit of ada@example.com").press("Enter");
  await admin.getByText("Ada Researcher's monthly limit is now 42 GPU-h.").waitFor();
  // The researcher's dashboard picks the new limit up by itself.
  await page.getByRole("link", { name: "Dashboard", exact: true }).click();
  await page.getByText("left of 42 GPU-h").waitFor();
  expect([...errors, ...adminErrors]).toEqual([]);
}, 90_000);

it("/docs renders Swagger UI from the app's own files, with the operations of the document", async () => {
  const { page, errors } = await newPage();
  const offsite: string[] = [];
  page.on("request", (req) => {
    if (!req.url().startsWith(stack.url) && !req.url().startsWith("data:")) offsite.push(req.url());
  });
  await page.goto(`${stack.url}/docs`);
  await page.locator(".swagger-ui .info .title").getByText("GPU-as-a-Service API").waitFor();
  await page.locator(".opblock-summary-path", { hasText: "/api/v1/jobs/{id}" }).first().waitFor();
  await page
    .getByRole("button", { name: /Authorize/ })
    .first()
    .waitFor();
  expect(offsite).toEqual([]);
  expect(errors).toEqual([]);
}, 60_000);
