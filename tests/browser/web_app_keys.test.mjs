// The web app with API keys ([auth] mode = api_keys) in headless Chromium against the real
// binary: the key prompt, a refused key, the key's scopes deciding what the page offers, live
// updates over the fetch-based event stream with the key, the key kept per tab, and mode none
// without any of it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, launchBrowser, region, screenshot, statusSays, withApp } from './harness.mjs';

const DOG = '/usr/share/darknet/data/dog.jpg';
const ADMIN = 'browser-test-admin-token-0123456789';
const KEYS = { env: { ORDERFLOW_AUTH_MODE: 'api_keys', ORDERFLOW_ADMIN_TOKEN: ADMIN } };
const UNKNOWN_KEY = `ofk_0123456789abcdef_${'0'.repeat(64)}`;
let browser;

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const prompt = (page) => region(page, 'API key needed');
const keyError = (page) => page.locator('#key-input-error');
const storedKey = (page) => page.evaluate(() => sessionStorage.getItem('orderflow.apiKey'));

async function enterKey(page, key) {
  await prompt(page).getByLabel('API key').fill(key);
  await prompt(page).getByRole('button', { name: 'Use key' }).click();
}

// The path and Authorization header of every request the page sends from now on.
function recordRequests(page) {
  const seen = [];
  page.on('request', (r) => seen.push({ path: new URL(r.url()).pathname, authorization: r.headers().authorization ?? null }));
  return seen;
}

test('keys required: the prompt, a refused key, then a read+write key creates orders and gets live updates', async () => {
  await withApp(browser, KEYS, async ({ server, page }) => {
    const other = await server.createKey('another client', ['orders:read', 'orders:write']);
    server.useKey(other.key);
    const sent = recordRequests(page);

    await prompt(page).waitFor();
    assert.equal(await region(page, 'Create Order').isHidden(), true, 'no order controls before a key');
    assert.equal(await prompt(page).getByLabel('API key').getAttribute('type'), 'password');
    await screenshot(page, 'keys-prompt');

    await prompt(page).getByRole('button', { name: 'Use key' }).click();
    await keyError(page).filter({ hasText: 'Enter an API key.' }).waitFor();
    await enterKey(page, UNKNOWN_KEY);
    await keyError(page).filter({ hasText: 'This key was not accepted' }).waitFor();
    assert.equal(await prompt(page).isVisible(), true);
    assert.equal(await storedKey(page), null, 'a refused key is not kept');
    await screenshot(page, 'keys-refused');

    const mine = await server.createKey('web', ['orders:read', 'orders:write']);
    await enterKey(page, mine.key);
    await page.getByText(`Key ofk_${mine.id}_… · scopes: orders:read, orders:write`).waitFor();
    assert.equal(await prompt(page).isHidden(), true);
    assert.equal(await storedKey(page), mine.key, 'kept in sessionStorage');
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'and nowhere that outlives the tab');

    const list = region(page, 'Fetch Orders');
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await statusSays(page, '✓ Orders fetched: 0');
    await page.locator('section[data-live="on"]').waitFor();

    const create = region(page, 'Create Order');
    await create.getByLabel('Description').fill('Keyed mug');
    await create.getByLabel('Price').fill('7.5');
    await create.getByRole('button', { name: 'Create Order' }).click();
    await statusSays(page, '✓ Order created successfully');
    await list.getByText('Keyed mug').waitFor();

    // Another client's order arrives over the event stream, which carries the key.
    await server.createOrder('Made by another client', 2);
    await list.getByText('Made by another client').waitFor();
    const events = sent.filter((r) => r.path === '/events').map((r) => r.authorization);
    assert.ok(events.length > 0 && events.every((a) => a === `Bearer ${mine.key}`), `GET /events with the key: ${events}`);
    assert.deepEqual((await server.orders()).map((o) => o.description).sort(), ['Keyed mug', 'Made by another client']);

    // The photo upload sends the key as well.
    await eventually(async () => (await server.api('GET', '/readyz')).body.checks?.recognizer === 'loaded', 'the recognizer');
    await create.getByLabel('Description').fill('bicycle');
    await create.getByLabel('Price').fill('5');
    await create.getByLabel('Product photo (optional)').setInputFiles(DOG);
    await create.getByRole('img', { name: 'Preview of the chosen product photo' }).waitFor();
    await create.getByRole('button', { name: 'Create Order' }).click();
    await create.getByRole('button', { name: 'Confirm & Create' }).click();
    await statusSays(page, '✓ Order created successfully');
    await list.getByText('bicycle').waitFor();
    assert.ok((await server.orders()).some((o) => o.description === 'bicycle' && o.imageKey));

    // Without reports:read the report cannot be asked for, and the page says why.
    const report = region(page, 'Deleted Orders PDF');
    assert.equal(await report.getByRole('button', { name: 'Generate Report' }).isDisabled(), true);
    await report.getByText('lacks the reports:read scope').waitFor();
    await screenshot(page, 'keys-read-write');
  });
});

test('a read-only key: orders are listed, create, edit, delete and the photo are disabled', async () => {
  await withApp(browser, KEYS, async ({ server, page }) => {
    server.useKey((await server.createKey('writer', ['orders:write', 'orders:read'])).key);
    await server.createOrder('Existing order', 5);
    const reader = await server.createKey('reader', ['orders:read']);

    await enterKey(page, reader.key);
    await page.getByText(`Key ofk_${reader.id}_… · scopes: orders:read`).waitFor();
    const list = region(page, 'Fetch Orders');
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await statusSays(page, '✓ Orders fetched: 1');
    await list.getByText('Existing order').waitFor();
    await list.getByRole('button', { name: 'View order Existing order' }).click();
    await region(page, 'Order details').getByText('Existing order').waitFor();

    const disabled = [
      list.getByRole('button', { name: 'Edit order Existing order' }),
      list.getByRole('button', { name: 'Delete order Existing order' }),
      region(page, 'Create Order').getByLabel('Description'),
      region(page, 'Create Order').getByLabel('Price'),
      region(page, 'Create Order').getByLabel('Product photo (optional)'),
      region(page, 'Create Order').getByRole('button', { name: 'Create Order' }),
      region(page, 'Edit Order').getByLabel('Order ID'),
      region(page, 'Edit Order').getByRole('button', { name: 'Load' }),
      region(page, 'Delete Order').getByLabel('Order ID'),
      region(page, 'Delete Order').getByRole('button', { name: 'Delete Order' }),
      region(page, 'Deleted Orders PDF').getByRole('button', { name: 'Generate Report' }),
    ];
    for (const control of disabled) assert.equal(await control.isDisabled(), true, `${control} is disabled`);
    for (const card of ['Create Order', 'Edit Order', 'Delete Order'])
      await region(page, card).getByText('lacks the orders:write scope').waitFor();
    assert.equal(await list.getByRole('button', { name: 'Get Orders' }).isEnabled(), true);
    await screenshot(page, 'keys-read-only');
    assert.deepEqual((await server.orders()).map((o) => o.description), ['Existing order']);
  });
});

test('the key lasts through a reload; Forget key and a revoked key bring the prompt back', async () => {
  await withApp(browser, KEYS, async ({ server, page }) => {
    const mine = await server.createKey('web', ['orders:read', 'orders:write', 'reports:read']);
    server.useKey(mine.key);
    await server.createOrder('Kept order', 3);
    await enterKey(page, mine.key);
    const summary = page.getByText(`Key ofk_${mine.id}_… · scopes: orders:read, orders:write, reports:read`);
    await summary.waitFor();

    await page.reload();
    await summary.waitFor();
    assert.equal(await prompt(page).isHidden(), true, 'no prompt after a reload');
    const list = region(page, 'Fetch Orders');
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await list.getByText('Kept order').waitFor();
    assert.equal(await region(page, 'Deleted Orders PDF').getByRole('button', { name: 'Generate Report' }).isEnabled(), true);

    await page.getByRole('button', { name: 'Forget key' }).click();
    await prompt(page).waitFor();
    assert.equal(await storedKey(page), null);
    assert.equal(await list.isHidden(), true);
    await page.reload();
    await prompt(page).waitFor();

    // Revoked while in use: the next request is refused and the page asks again, with the
    // server's own words.
    await enterKey(page, mine.key);
    await summary.waitFor();
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await list.getByText('Kept order').waitFor();
    const revoked = await server.api('DELETE', `/admin/keys/${mine.id}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    assert.equal(revoked.status, 204);
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await prompt(page).waitFor();
    await keyError(page).filter({ hasText: 'The API key is not valid: unknown, revoked or expired' }).waitFor();
    assert.equal(await storedKey(page), null, 'a refused key is dropped');
    assert.equal(await page.getByText('Kept order').count(), 0, 'the orders are no longer shown');
    await screenshot(page, 'keys-revoked');
  });
});

test('mode none: no prompt, no key sent, every control enabled', async () => {
  await withApp(browser, {}, async ({ server, page }) => {
    const sent = recordRequests(page);
    // A key left in the tab from elsewhere changes nothing.
    await page.evaluate(() => sessionStorage.setItem('orderflow.apiKey', 'ofk_left_over'));
    await page.reload();
    const session = await server.api('GET', '/auth/session');
    assert.equal(session.body.keysRequired, false);

    const list = region(page, 'Fetch Orders');
    await page.locator('section[data-live="on"]').waitFor();
    assert.equal(await prompt(page).isHidden(), true);
    assert.equal(await page.getByRole('button', { name: 'Forget key' }).isHidden(), true);
    const create = region(page, 'Create Order');
    await create.getByLabel('Description').fill('No key needed');
    await create.getByLabel('Price').fill('1');
    await create.getByRole('button', { name: 'Create Order' }).click();
    await statusSays(page, '✓ Order created successfully');
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await list.getByText('No key needed').waitFor();
    for (const name of ['Edit order No key needed', 'Delete order No key needed'])
      assert.equal(await list.getByRole('button', { name }).isEnabled(), true);
    assert.equal(await region(page, 'Deleted Orders PDF').getByRole('button', { name: 'Generate Report' }).isEnabled(), true);
    // Only the session check carries the left-over key (it is how the page learns keys are off).
    const keyed = sent.filter((r) => r.authorization !== null).map((r) => r.path);
    assert.deepEqual([...new Set(keyed)], ['/auth/session']);
    assert.ok(sent.some((r) => r.path === '/orders'), 'the page did call the API');
  });
});
