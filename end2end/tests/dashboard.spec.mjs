
import { test, expect, calsync, importAppointments, appointment, createUser, login } from './support.mjs';

test('dashboard shows counts from the database and refreshes them without a reload', async ({ page }) => {
  calsync(['org', 'create', '--slug', 'salon', '--name', 'Salon Schmidt']);
  importAppointments('salon', [
    appointment('Max Müller', 12, 14),
    appointment('Anna Schmidt', 12, 15),
    appointment('Tom Klein', 13, 10),
  ]);
  createUser('salon', 'admin@salon.example', 'Sabine Schmidt');

  await login(page, 'admin@salon.example');
  await page.goto('/');
  await expect(page.getByTestId('org-name')).toHaveText('Salon Schmidt');
  await expect(page.getByTestId('count-pending')).toHaveText('3');
  await expect(page.getByTestId('count-synced')).toHaveText('0');

  // Mark this page instance: a reload would drop the marker.
  await page.evaluate(() => { window.__calsyncMarker = 'same-page'; });
  importAppointments('salon', [appointment('Lisa Braun', 13, 11)]);

  // The button only works once the wasm bundle has hydrated the page.
  await page.getByTestId('refresh').click();
  await expect(page.getByTestId('count-pending')).toHaveText('4');
  await expect(page.getByTestId('refresh-count')).toHaveText('Refreshed 1× without reloading.');
  expect(await page.evaluate(() => window.__calsyncMarker)).toBe('same-page');

  // The menu navigates inside the page too.
  await page.getByRole('link', { name: 'Runs' }).first().click();
  await expect(page).toHaveURL(/\/runs$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Verification runs');
  expect(await page.evaluate(() => window.__calsyncMarker)).toBe('same-page');
});

test('health endpoints answer', async ({ request }) => {
  const health = await request.get('/healthz');
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  const ready = await request.get('/readyz');
  expect(ready.status()).toBe(200);
  expect((await ready.json()).database).toBe('ok');
  expect(ready.headers()['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
});

test('the build files are revalidated, so an upgrade never mixes two builds', async ({ request }) => {
  // The split page files only work with their own build's main bundle.
  for (const path of ['/pkg/calsync.wasm', '/pkg/calsync.js', '/pkg/calsync.css']) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(200);
    expect(response.headers()['cache-control'], path).toBe('no-cache');
  }
});
