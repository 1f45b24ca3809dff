// The sandbox checkout page at /, in real headless Chromium: register, charge
// by card through the sandbox payment window, see the balance; cancel; charge
// by virtual account and simulate the deposit. Screenshots go to test-results/.
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, startTestServer, type TestServer } from '../helpers.js';

const SHOTS = 'test-results';
let t: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  t = await startTestServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  // The page talks to the server as http://localhost, as a person would open it.
  await page.goto(t.url.replace('127.0.0.1', 'localhost'));
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** Amount and method on the page, Charge, then Approve in the sandbox payment window, back to the page. */
async function chargeThroughWindow(amount: string, method: string, windowShot?: string) {
  await page.getByTestId('amount').fill(amount);
  await page.getByTestId('method').selectOption(method);
  await page.getByTestId('charge').click();
  // The sandbox stands in for Danal's payment window.
  await page.waitForURL(/\/sandbox\/danal\/checkout/);
  if (windowShot) await shot(windowShot);
  await page.locator('#approve').click();
  await page.waitForURL((url) => url.pathname === '/');
}

const shot = (name: string) => page.screenshot({ path: `${SHOTS}/checkout-${name}.png`, fullPage: true });
const message = () => page.getByTestId('message');
const balance = () => page.getByTestId('balance');

describe('the checkout page in Chromium', () => {
  it('registers a new user', async () => {
    await page.getByTestId('email').fill(`browser-${randomUUID()}@example.com`);
    await page.getByTestId('password').fill('browser-password');
    await page.getByTestId('register').click();
    await expect.poll(() => message().textContent()).toBe('Registered and logged in');
    await expect.poll(() => balance().textContent()).toBe('0');
    await shot('1-registered');
  });

  it('charges by card through the sandbox payment window and shows the new balance and history', async () => {
    await chargeThroughWindow('15000', 'Card', '2-payment-window');
    await expect.poll(() => message().textContent()).toBe('Paid: 15,000 points credited');
    await expect.poll(() => balance().textContent()).toBe('15,000');
    await expect.poll(() => page.getByTestId('history').textContent()).toContain('Paid');
    await shot('3-paid');
  });

  it('cancels the paid order: the points go back', async () => {
    await page.getByTestId('cancel').first().click();
    await expect.poll(() => message().textContent()).toBe('Order canceled: 15,000 KRW refunded, points taken back');
    await expect.poll(() => balance().textContent()).toBe('0');
    await expect.poll(() => page.getByTestId('history').textContent()).toContain('Canceled');
    await shot('4-canceled');
  });

  it('charges by virtual account: shows the account, and credits on a simulated deposit', async () => {
    await chargeThroughWindow('30000', 'VirtualAccount');
    await expect.poll(() => message().textContent()).toBe('Virtual account issued: pay into it, then the points are credited');
    await expect.poll(() => page.getByTestId('virtual-account').textContent()).toMatch(/Pay into \S+ \d+/);
    await shot('5-virtual-account');
    await page.getByTestId('simulate-deposit').click();
    await expect.poll(() => message().textContent()).toBe('Deposit received: points credited');
    await expect.poll(() => balance().textContent()).toBe('30,000');
    await shot('6-deposited');
    expect((await audit(t.db)).discrepancies).toEqual([]);
  });
});
