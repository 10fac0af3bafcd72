
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test, expect, calsync, createUser, login } from './support.mjs';

// A free local port for the Cal.com simulator.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts `calsync calcom-sim` and waits until its control API answers.
async function startSimulator(apiKey) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.env.CALSYNC_BIN, ['calcom-sim', '--addr', `127.0.0.1:${port}`, '--api-key', apiKey], {
    env: process.env,
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/_sim/health`)).ok) return { base, child };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('calcom-sim did not start');
}

test('the bell counts a new issue live, and mark all read clears it', async ({ page }) => {
  const apiKey = 'cal_e2e_notify_key';
  const sim = await startSimulator(apiKey);
  try {
    calsync(['org', 'create', '--slug', 'notify', '--name', 'Notify Salon']);
    calsync(['org', 'set-calcom', '--org', 'notify', '--base-url', sim.base], `${apiKey}\n`);
    createUser('notify', 'admin@notify.example', 'Nora Notify');
    const token = calsync(['api-token', 'create', '--org', 'notify', '--name', 'e2e'])
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line && !line.includes(' '));

    await login(page, 'admin@notify.example');
    await page.goto('/');
    const bell = page.getByTestId('bell-count');
    await expect(bell).toHaveText('0');
    // Only a hydrated page follows /events; wait for its first summary.
    await expect(page.getByTestId('bell')).toHaveAttribute('data-live', 'true');
    await page.evaluate(() => { window.__calsyncMarker = 'same-page'; });

    // Cal.com has the booking at 10:00; we record it at 11:00: a data mismatch.
    const start = new Date(Date.now() + 3 * 24 * 3600 * 1000);
    start.setUTCHours(8, 0, 0, 0);
    const seeded = await fetch(`${sim.base}/_sim/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ start: start.toISOString() }]),
    });
    expect(seeded.status).toBe(201);
    const [uid] = (await seeded.json()).uids;
    const ours = new Date(start.getTime() + 3600 * 1000);
    const created = await fetch(`${process.env.CALSYNC_E2E_URL}/api/v1/appointments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        customer_name: 'Max Müller',
        service: 'Hairstyling - Herrenschnitt',
        starts_at: ours.toISOString(),
        ends_at: new Date(ours.getTime() + 45 * 60 * 1000).toISOString(),
        time_zone: 'Europe/Berlin',
        calcom_booking_uid: uid,
      }),
    });
    expect(created.status).toBe(201);
    calsync(['verify', '--org', 'notify']);

    await expect(bell).not.toHaveText('0', { timeout: 10_000 });
    expect(await page.evaluate(() => window.__calsyncMarker)).toBe('same-page');

    // The bell opens its list (no WASM needed): the new issue is in it, with
    // a relative time and a link to the appointment's review page.
    await page.getByTestId('bell').locator('summary').click();
    const latest = page.getByTestId('bell-notification').first();
    await expect(latest).toBeVisible();
    await expect(latest.locator('time')).toHaveText(/just now|minutes? ago/);
    await expect(page.getByTestId('bell-list').locator('a[href^="/appointments/"]').first()).toBeVisible();
    await page.getByTestId('bell-all').click();
    await expect(page).toHaveURL(/\/notifications$/);
    await expect(page.getByTestId('notification').first()).toBeVisible();
    await expect(page.getByTestId('notification-action').filter({ hasText: /Review now|View details/ }).first()).toBeVisible();
    // Following a link closes the bell's list (it would cover the page).
    await expect(page.getByTestId('bell-list')).toBeHidden();
    await page.getByTestId('mark-all-read').click();
    await expect(bell).toHaveText('0', { timeout: 10_000 });
    await page.getByTestId('show-unread').click();
    await expect(page).toHaveURL(/show=unread/);
    await expect(page.getByTestId('feed-empty')).toBeVisible();
  } finally {
    sim.child.kill();
  }
});
