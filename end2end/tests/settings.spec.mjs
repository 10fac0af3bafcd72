
import { test, expect, allowBrowserError, calsync, createUser, login, CALCOM_URL, CALCOM_KEY } from './support.mjs';

// The admin's settings pages end to end, moving between them by their tabs
// (each a lazy route whose code loads on the way): Cal.com connection
// against the simulator, an API token shown once and revoked, an invited
// viewer who logs in with the shown password, a saved schedule, alert
// rules; a viewer gets no forms.
test('an admin configures the organization; a viewer is refused', async ({ page, browser }) => {
  calsync(['org', 'create', '--slug', 'settings', '--name', 'Settings Salon']);
  createUser('settings', 'admin@settings.example', 'Sam Settings');

  await login(page, 'admin@settings.example');
  await page.getByTestId('nav-settings').click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByTestId('settings-tab-calcom')).toHaveAttribute('aria-current', 'page');
  // Forms act only once the page is hydrated; its WASM-only buttons are enabled then.
  await expect(page.getByTestId('test-calcom')).toBeEnabled();
  await expect(page.getByTestId('api-key-state')).toHaveText('not set');

  // Cal.com connection: save, then test with what is stored.
  await page.getByTestId('calcom-base_url').fill(CALCOM_URL);
  await page.getByTestId('calcom-api_key').fill(CALCOM_KEY);
  await page.getByTestId('calcom-webhook_secret').fill('whsec_e2e_secret');
  await page.getByTestId('save-calcom').click();
  await expect(page.getByTestId('calcom-saved')).toHaveText('Cal.com connection saved.');
  await expect(page.getByTestId('api-key-state')).toHaveText('set');
  await expect(page.getByTestId('calcom-api_key')).toHaveValue('');
  await page.getByTestId('test-calcom').click();
  await expect(page.getByTestId('calcom-test')).toContainText('Connected');

  // A bad URL is a field error.
  // The bad URL and the bad cron below are refused with a 422 (a field
  // error), which the browser logs as a failed request: expected here.
  allowBrowserError(/status of 422 \(Unprocessable Entity\)/);
  await page.getByTestId('calcom-base_url').fill('not a url');
  await page.getByTestId('save-calcom').click();
  await expect(page.getByTestId('calcom-base_url-error')).toContainText('http(s) URL');
  await page.getByTestId('calcom-base_url').fill(CALCOM_URL);

  // API token: shown once, works, then revoked.
  await openTab(page, 'tokens');
  await page.getByTestId('token-name').fill('e2e token');
  await page.getByTestId('create-token').click();
  const secret = (await page.getByTestId('token-secret').textContent()).trim();
  expect(secret).toMatch(/^csk_/);
  const api = await fetch(`${process.env.CALSYNC_E2E_URL}/api/v1/appointments`, { headers: { authorization: `Bearer ${secret}` } });
  expect(api.status).toBe(200);
  const row = page.getByTestId('token-e2e token');
  await expect(row.getByTestId('token-status')).toHaveText('active');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await row.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(page.getByTestId('token-revoked')).toContainText('revoked');
  await expect(row.getByTestId('token-status')).toContainText('revoked');
  const refused = await fetch(`${process.env.CALSYNC_E2E_URL}/api/v1/appointments`, { headers: { authorization: `Bearer ${secret}` } });
  expect(refused.status).toBe(401);

  // Invite a viewer; the generated password is shown once.
  await openTab(page, 'users');
  await page.getByTestId('invite-name').fill('Vera Viewer');
  await page.getByTestId('invite-email').fill('vera@settings.example');
  await page.getByTestId('invite-role').selectOption('viewer');
  await page.getByTestId('invite').click();
  await expect(page.getByTestId('invited')).toContainText('vera@settings.example');
  const password = (await page.getByTestId('invited-password').textContent()).trim();
  expect(password.length).toBeGreaterThanOrEqual(10);
  await expect(page.getByTestId('user-vera@settings.example')).toContainText('Viewer');

  // Schedule: a bad cron is refused, a good one saved with its next runs.
  await openTab(page, 'schedule');
  const cycle = page.getByTestId('schedule-cycle_cron');
  await cycle.fill('every three hours');
  await page.getByTestId('save-schedule').click();
  await expect(page.getByTestId('schedule-cycle_cron-error')).toBeVisible();
  await cycle.fill('0 */3 * * *');
  await page.getByTestId('save-schedule').click();
  await expect(page.getByTestId('schedule-saved')).toHaveText('Schedule saved.');
  await expect(page.getByTestId('next-cycle').locator('li')).toHaveCount(3);

  // Alert rules: too many open issues, pushed at most every 30 minutes,
  // also to a signed webhook; a threshold of 0 is refused in words.
  await openTab(page, 'alerts');
  const openOver = page.getByTestId('alert-open_over');
  await openOver.getByTestId('alert-open_over-enabled').check();
  await openOver.getByTestId('alert-open_over-threshold').fill('0');
  await openOver.getByTestId('alert-open_over-save').click();
  await expect(page.getByTestId('alert-open_over-threshold-error')).toContainText('whole number from 1');
  await openOver.getByTestId('alert-open_over-threshold').fill('10');
  await openOver.getByTestId('alert-open_over-throttle_minutes').fill('30');
  await openOver.getByTestId('alert-open_over-by_webhook').check();
  await openOver.getByTestId('alert-open_over-save').click();
  await expect(page.getByTestId('alert-open_over-saved')).toHaveText('Saved: Open issues exceed a threshold.');
  await page.getByTestId('alert-webhook-url').fill('https://hooks.example/calsync');
  await page.getByTestId('alert-webhook-secret').fill('whsec_e2e_alerts_0123');
  await page.getByTestId('save-alert-webhook').click();
  await expect(page.getByTestId('alert-webhook-saved')).toHaveText('Saved: alerts are posted there.');
  await expect(page.getByTestId('alert-webhook-secret')).toHaveValue('');

  await page.screenshot({ path: 'screenshots/settings.png', fullPage: true });

  // The invited viewer logs in with the shown password and gets no forms.
  const viewer = await browser.newPage();
  await login(viewer, 'vera@settings.example', password);
  await expect(viewer.getByTestId('user-role')).toHaveText('Viewer');
  await expect(viewer.getByTestId('nav-settings')).toHaveCount(0);
  for (const path of ['/settings', '/settings/tokens']) {
    await viewer.goto(path);
    await expect(viewer.getByTestId('settings-forbidden')).toBeVisible();
    await expect(viewer.locator('form')).toHaveCount(1); // the logout button's form only
  }
  await viewer.close();
});

// Moves to a settings tab the way an admin does, and waits until it is the
// one shown (its code may still be loading when the URL changes).
async function openTab(page, tab) {
  await page.getByTestId(`settings-tab-${tab}`).click();
  await expect(page).toHaveURL(new RegExp(`/settings/${tab}$`));
  await expect(page.getByTestId(`settings-tab-${tab}`)).toHaveAttribute('aria-current', 'page');
}
