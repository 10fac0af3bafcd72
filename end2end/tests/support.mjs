// Helpers shared by the browser tests: run the calsync CLI against the same
// database as the server under test, so tests arrange data the way an
// operator would.
import { execFileSync } from 'node:child_process';
import { test as base, expect } from '@playwright/test';

export { expect };

// Every spec's `test`: a page error (a panic during hydration, an uncaught
// exception) or a console error on any page of the test fails it. A test
// that provokes an error on purpose names it: `allowBrowserError(/403/)`.
const allowed = [];
export function allowBrowserError(pattern) {
  allowed.push(pattern);
}
export const test = base.extend({
  context: async ({ context }, use) => {
    const errors = [];
    const watch = (page) => {
      page.on('pageerror', (e) => errors.push(`page error on ${page.url()}: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console error on ${page.url()}: ${m.text()}`);
      });
    };
    context.pages().forEach(watch);
    context.on('page', watch);
    allowed.length = 0;
    await use(context);
    const unexpected = errors.filter((e) => !allowed.some((pattern) => pattern.test(e)));
    expect(unexpected, 'errors in the browser').toEqual([]);
  },
});

// Resolves once the page's WebAssembly has hydrated it (the app marks the
// document then); a page that fails to hydrate never gets the mark.
export async function hydrated(page) {
  await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' });
}

export function calsync(args, input) {
  const bin = process.env.CALSYNC_BIN;
  if (!bin) throw new Error('CALSYNC_BIN is not set; run the browser tests through `make test`');
  return execFileSync(bin, args, {
    env: process.env,
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function importAppointments(org, appointments) {
  const lines = appointments.map((a) => JSON.stringify(a)).join('\n');
  return calsync(['import', '--org', org, '-'], lines);
}

export function appointment(name, day, hour, extra = {}) {
  const start = `2025-10-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00+02:00`;
  const end = `2025-10-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:45:00+02:00`;
  return { customer_name: name, service: 'Hairstyling - Herrenschnitt', starts_at: start, ends_at: end, ...extra };
}

// Accounts: created the operator's way (password on standard input, never
// as an argument), then signed in through the real login form.
export const TEST_PASSWORD = 'e2e password 1234';

export function createUser(org, email, name, role = 'admin', password = TEST_PASSWORD) {
  return calsync(['admin', 'create', '--org', org, '--email', email, '--name', name, '--role', role], `${password}\n`);
}

export async function login(page, email, password = TEST_PASSWORD) {
  await page.goto('/login');
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('login').click();
  await page.waitForURL((url) => url.pathname !== '/login');
}

// The Cal.com simulator scripts/e2e started next to calsync.
export const CALCOM_URL = process.env.CALSYNC_E2E_CALCOM_URL;
export const CALCOM_KEY = process.env.CALSYNC_E2E_CALCOM_KEY;

// Connects an organization to the simulator the operator's way (the API key
// on standard input).
export function connectCalcom(org) {
  if (!CALCOM_URL) throw new Error('CALSYNC_E2E_CALCOM_URL is not set; run the browser tests through `make test`');
  return calsync(['org', 'set-calcom', '--org', org, '--base-url', CALCOM_URL], `${CALCOM_KEY}\n`);
}

// The simulator's control API (/_sim/...), for arranging Cal.com's side.
export async function sim(method, path, body) {
  const response = await fetch(`${CALCOM_URL}/_sim${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`simulator ${method} ${path}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}
