
import { test, expect, calsync, createUser, login } from './support.mjs';

test('log in, see the dashboard, log out, and be back on the login page', async ({ page }) => {
  calsync(['org', 'create', '--slug', 'barber', '--name', 'Barber Berlin']);
  createUser('barber', 'viewer@barber.example', 'Vera Viewer', 'viewer');

  // Without a session every page leads to the login form.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login\?next=%2F|\/login\?next=\//);

  // A wrong password: one generic message, still on the login page.
  await page.getByTestId('email').fill('viewer@barber.example');
  await page.getByTestId('password').fill('not the password');
  await page.getByTestId('login').click();
  await expect(page.getByTestId('login-error')).toHaveText('Wrong email or password.');

  await login(page, 'viewer@barber.example');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('org-name')).toHaveText('Barber Berlin');
  await expect(page.getByTestId('user-name')).toHaveText('Vera Viewer');
  await expect(page.getByTestId('user-role')).toHaveText('Viewer');

  // Logout is in the user menu (a <details>).
  await page.getByTestId('user-menu').locator('summary').click();
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login\?logged_out=1$/);
  await expect(page.getByTestId('logged-out')).toBeVisible();

  // The session is really gone: the dashboard asks for a login again.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
});
