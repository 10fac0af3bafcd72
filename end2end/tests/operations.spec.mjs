// The operator's day against a running calsync and the Cal.com simulator:
// counts and health on the dashboard, filtering the list, opening a review,
// resolving an orphan, a mismatch and a note, running a check from the runs
// page while watching its progress, the metrics page, and a viewer who sees
// no buttons. Each screen is saved under end2end/screenshots/ for review.

import { mkdirSync } from 'node:fs';
import {
  test,
  expect,
  allowBrowserError,
  hydrated,
  calsync,
  createUser,
  login,
  connectCalcom,
  sim,
  importAppointments,
} from './support.mjs';

mkdirSync('screenshots', { recursive: true });
const shot = (page, name) => page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const ADMIN = 'olga@ops.example';
const VIEWER = 'veit@ops.example';

// A time `days` ahead at `hour`:00 UTC (the simulator refuses the past).
function at(days, hour) {
  const d = new Date(Date.now() + days * 24 * 3600 * 1000);
  d.setUTCHours(hour, 0, 0, 0);
  return d;
}
const plus = (d, minutes) => new Date(d.getTime() + minutes * 60 * 1000);

function ours(name, start, uid) {
  const email = `${name.split(' ')[0].toLowerCase()}@example.com`;
  return {
    customer_name: name,
    customer_email: email,
    service: 'Hairstyling - Herrenschnitt',
    starts_at: start.toISOString(),
    ends_at: plus(start, 45).toISOString(),
    time_zone: 'Europe/Berlin',
    calcom_booking_uid: uid,
    // The simulator's event type, so "Create in Cal.com" knows what to book.
    calcom_event_type_id: 1,
  };
}

function theirs(name, start) {
  const email = `${name.split(' ')[0].toLowerCase()}@example.com`;
  return { start: start.toISOString(), end: plus(start, 45).toISOString(), attendee: { name, email, timeZone: 'Europe/Berlin' } };
}

// Verifies the organization until the retry ladder (1 s, 2 s in the browser
// tests) is used up: missing bookings are then ORPHANED_LOCAL.
async function verifyThrice() {
  calsync(['verify', '--org', 'ops']);
  await sleep(1200);
  calsync(['verify', '--org', 'ops']);
  await sleep(2200);
  calsync(['verify', '--org', 'ops']);
}

async function openReviewOf(page, name) {
  await page.goto(`/appointments?q=${encodeURIComponent(name)}`);
  await page.locator('[data-testid^="details-"]').first().click();
  await expect(page).toHaveURL(/\/appointments\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
}

test.describe.serial('operating calsync', () => {
  test.beforeAll(async () => {
    await sim('POST', '/reset');
    calsync(['org', 'create', '--slug', 'ops', '--name', 'Salon Ops']);
    connectCalcom('ops');
    createUser('ops', ADMIN, 'Olga Admin');
    createUser('ops', VIEWER, 'Veit Viewer', 'viewer');
    // Cal.com has Tom at 08:00 while we say 09:00 (a mismatch) and Anna as we do.
    const tom = at(3, 8);
    const anna = at(3, 11);
    const { uids } = await sim('POST', '/bookings', [theirs('Tom Klein', tom), theirs('Anna Schmidt', anna)]);
    importAppointments('ops', [
      ours('Tom Klein', at(3, 9), uids[0]),
      ours('Anna Schmidt', anna, uids[1]),
      // Linked to bookings Cal.com no longer has: orphans after three attempts.
      ours('Lena Lost', at(4, 9), 'deleted-in-calcom-1'),
      ours('Mark Gone', at(4, 10), 'deleted-in-calcom-2'),
    ]);
    await verifyThrice();
  });

  test('the dashboard shows the counts, the schedule and Cal.com health', async ({ page }) => {
    await login(page, ADMIN);
    // A controllable clock in the page, so the countdown can be seen to move
    // whatever its resolution (minutes when the next check is hours away).
    await page.clock.install();
    await page.goto('/');
    await expect(page.getByTestId('org-name')).toHaveText('Salon Ops');
    await expect(page.getByTestId('count-synced')).toHaveText('1');
    await expect(page.getByTestId('count-orphaned_local')).toHaveText('2');
    await expect(page.getByTestId('review-count')).toHaveText('3');
    await expect(page.getByTestId('health')).toHaveText('Healthy');
    await expect(page.getByTestId('last-verified')).not.toHaveText('Not yet');
    // The countdown ticks in the browser.
    const countdown = page.getByTestId('next-check-countdown');
    const first = await countdown.textContent();
    // The ticker starts when the page hydrates (its Refresh button is enabled
    // then; the header, in the shared bundle, may hydrate before the page's
    // own chunk arrives); advanced earlier, the clock would have no interval to fire.
    await expect(page.getByTestId('refresh')).toBeEnabled();
    // The page also refreshes every 10 s, and a fresh summary restarts the
    // countdown from the server's (real, unadvanced) time: hold those
    // requests, so what moves the countdown here is the browser's ticker.
    const held = /\/rpc\/get_dashboard_summary/;
    await page.route(held, () => {});
    await page.clock.runFor(61_000);
    await expect(countdown).not.toHaveText(first);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await shot(page, 'dashboard');
    await page.getByTestId('review-link').click();
    await expect(page).toHaveURL(/\/review$/);
    await expect(page.getByTestId('review-queue').locator('tbody tr')).toHaveCount(3);
  });

  test('the list filters by state in the URL and opens a review', async ({ page }) => {
    await login(page, ADMIN);
    await page.goto('/appointments');
    await page.getByTestId('filter-state').selectOption('orphaned_local');
    await page.getByTestId('apply-filters').click();
    await expect(page).toHaveURL(/state=orphaned_local/);
    const rows = page.locator('[data-testid^="row-"]');
    await expect(rows).toHaveCount(2);
    await expect(page.getByTestId('appointments')).toContainText('ORPHANED_LOCAL');
    await shot(page, 'appointments');
    await rows.filter({ hasText: 'Lena Lost' }).locator('[data-testid^="details-"]').click();
    await expect(page).toHaveURL(/\/appointments\/\d+$/);
    await expect(page.getByTestId('history')).toBeVisible();
    await expect(page.getByTestId('resolutions')).toBeVisible();
    await shot(page, 'review-orphan');
  });

  test('an orphan is resolved by creating it in Cal.com', async ({ page }) => {
    await login(page, ADMIN);
    await openReviewOf(page, 'Lena Lost');
    await page.getByTestId('action-create-in-calcom').click();
    await page.getByTestId('action-create-in-calcom-confirm').click();
    await expect(page.getByTestId('action-result')).toBeVisible();
    await expect(page.getByTestId('review-status')).toContainText('Synced');
    const bookings = await sim('GET', '/bookings');
    expect(bookings.some((b) => b.attendees.some((a) => a.email === 'lena@example.com'))).toBe(true);
  });

  test("a mismatch is resolved by accepting Cal.com's version", async ({ page }) => {
    await login(page, ADMIN);
    await openReviewOf(page, 'Tom Klein');
    await expect(page.getByTestId('comparison').locator('[data-differs="true"]').first()).toBeVisible();
    await shot(page, 'review-mismatch');
    await page.getByTestId('action-accept-calcom').click();
    await page.getByTestId('action-accept-calcom-confirm').click();
    await expect(page.getByTestId('action-result')).toBeVisible();
    await expect(page.getByTestId('review-status')).toContainText('Synced');
  });

  test('an issue is marked resolved with a note', async ({ page }) => {
    await login(page, ADMIN);
    await openReviewOf(page, 'Mark Gone');
    await page.getByTestId('resolve-note').fill('Customer cancelled by phone');
    await page.getByTestId('action-mark-resolved').click();
    await page.getByTestId('action-mark-resolved-confirm').click();
    await expect(page.getByTestId('action-result')).toBeVisible();
    await expect(page.getByTestId('history')).toContainText('Customer cancelled by phone');
    await page.goto('/');
    await expect(page.getByTestId('review-count')).toHaveText('0');
  });

  test('a comprehensive check runs from the runs page with visible progress', async ({ page }) => {
    // Slow Cal.com down and give the check ten bookings to ask about one by one.
    importAppointments(
      'ops',
      Array.from({ length: 10 }, (_, i) => ours(`Kunde ${i}`, at(5, 8 + i), `missing-${i}`)),
    );
    await sim('PUT', '/faults', { latencyMs: 700 });
    try {
      await login(page, ADMIN);
      await page.goto('/runs');
      await page.getByTestId('run-comprehensive').click();
      await page.getByTestId('run-comprehensive-confirm').click();
      await expect(page.getByTestId('run-requested')).toBeVisible();
      const run = page.locator('[data-testid="run"]').filter({ hasText: 'Run now by Olga Admin' }).first();
      await expect(run).toHaveAttribute('data-status', 'running', { timeout: 15_000 });
      await expect(run.getByTestId('run-progress')).toBeVisible({ timeout: 10_000 });
      await shot(page, 'runs');
      await expect(run).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
      await expect(run.getByTestId('run-checked')).toHaveText(/^(\d+) \/ \1$/);
    } finally {
      await sim('DELETE', '/faults');
    }
  });

  test('the metrics page shows the last 30 days', async ({ page }) => {
    await login(page, ADMIN);
    await page.goto('/sync-health');
    await expect(page.getByTestId('success-rate')).toHaveText(/^\d+\.\d%$/);
    await expect(page.getByTestId('issues-resolved')).toContainText('/');
    await expect(page.getByTestId('trend-day')).toHaveCount(7);
    await shot(page, 'metrics');
  });

  test('retry all matching re-checks the confirmed count, then queues the whole filter', async ({ page }) => {
    await login(page, ADMIN);
    await page.goto('/appointments?q=Kunde');
    await hydrated(page);
    await expect(page.getByTestId('total')).toHaveText(/^10 appointments/);
    // Someone adds a matching appointment while the admin looks at the list.
    importAppointments('ops', [ours('Kunde 10', at(6, 8), 'missing-10')]);
    await page.getByTestId('retry-matching').click();
    // What it will ask of Cal.com, planned on the server as the worker will
    // verify them: the eleven in one window, sized and listed in one page.
    await expect(page.getByTestId('retry-matching-detail')).toHaveText(
      /^About 2 calls to Cal\.com \(1 window listed in 1 page, 1 request sizing them\), under a minute at the key's \d+ a minute\./,
    );
    allowBrowserError(/status of 409 \(Conflict\)/);
    await page.getByTestId('retry-matching-confirm').click();
    await expect(
      page.getByRole('alert').filter({ hasText: '11 appointments match this filter now, not the 10 you confirmed' }),
    ).toContainText('nothing was done');
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId('total')).toHaveText(/^11 appointments/);
    await page.getByTestId('retry-matching').click();
    await expect(page.getByText('matching search “Kunde” again now?')).toBeVisible();
    await page.getByTestId('retry-matching-confirm').click();
    const result = page.getByTestId('retry-matching-result');
    await expect(result).toHaveText(/^Retry of 11 appointments started in the background as run #\d+\./);
    // The run's page: progress until the worker is done, then a result per
    // appointment, every matching one and not only the list's page.
    await result.getByTestId('bulk-run-link').click();
    await expect(page).toHaveURL(/\/runs\/\d+$/);
    await hydrated(page);
    await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 30_000 });
    await expect(page.getByTestId('tally-all')).toHaveAttribute('data-count', '11');
    await expect(page.getByTestId('tally-pending')).toHaveAttribute('data-count', '0');
    await expect(page.getByTestId('run-item')).toHaveCount(11);
    const queued = Number(await page.getByTestId('tally-queued').getAttribute('data-count'));
    const left = Number(await page.getByTestId('tally-already_queued').getAttribute('data-count'));
    expect(queued + left).toBe(11);
    await page.getByTestId('tally-queued').click();
    await expect(page).toHaveURL(/\?show=queued$/);
    await expect(page.getByTestId('run-item')).toHaveCount(queued);
    for (const row of await page.getByTestId('run-item').all()) await expect(row).toHaveAttribute('data-result', 'queued');
    await shot(page, 'bulk-run');
  });

  test('a viewer sees everything but no action buttons', async ({ page }) => {
    await login(page, VIEWER);
    await page.goto('/');
    await expect(page.getByTestId('count-orphaned_local')).toBeVisible();
    await expect(page.getByTestId('retry-all-failed')).toHaveCount(0);
    await openReviewOf(page, 'Kunde 0');
    await expect(page.getByTestId('history')).toBeVisible();
    await expect(page.getByTestId('resolutions')).toHaveCount(0);
    await page.goto('/appointments');
    await expect(page.locator('[data-testid^="row-"]').first()).toBeVisible();
    await expect(page.getByTestId('retry-selected')).toHaveCount(0);
    await page.goto('/runs');
    await expect(page.getByTestId('runs')).toBeVisible();
    await expect(page.getByTestId('run-cycle')).toHaveCount(0);
    await shot(page, 'viewer-runs');
  });
});
