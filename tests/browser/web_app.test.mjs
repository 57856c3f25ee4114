// The web app in a real browser (headless Debian Chromium) against the real orderflow binary:
// every flow of the page, each test on its own server (port 0, temp data dir).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  Server, eventually, freePort, launchBrowser, portOpen, region, screenshot, statusSays, withApp as withAppIn,
} from './harness.mjs';

const DOG = '/usr/share/darknet/data/dog.jpg';
let browser;

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

// A fresh server and page; the test body gets both, and both are closed afterwards.
const withApp = (options, body) => withAppIn(browser, options, body);

test('create without a photo; empty list; validation message next to the field', async () => {
  await withApp({}, async ({ server, page }) => {
    assert.equal(await page.title(), 'Order Management System');
    const list = region(page, 'Fetch Orders');
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await statusSays(page, '✓ Orders fetched: 0');
    await list.getByText('No orders yet.').waitFor();

    const create = region(page, 'Create Order');
    await create.getByLabel('Description').fill('Coffee mug');
    await create.getByLabel('Price').fill('0');
    await create.getByRole('button', { name: 'Create Order' }).click();
    await create.locator('#create-price-error').filter({ hasText: 'price must be > 0' }).waitFor();
    await statusSays(page, '✕ price must be > 0');
    await screenshot(page, 'create-validation-error');

    await create.getByLabel('Price').fill('12.5');
    await create.getByRole('button', { name: 'Create Order' }).click();
    await statusSays(page, '✓ Order created successfully');
    assert.equal(await create.getByLabel('Description').inputValue(), '', 'the form is reset');
    assert.equal(await create.locator('#create-price-error').textContent(), '');
    await list.getByText('Coffee mug').waitFor();  // the open list refreshes
    await screenshot(page, 'create-success');
    const orders = await server.orders();
    assert.equal(orders.length, 1);
    assert.equal(orders[0].description, 'Coffee mug');
    assert.equal(orders[0].price, 12.5);

    // 360 px wide: one column, nothing wider than the screen; Enter submits from the keyboard.
    await page.setViewportSize({ width: 360, height: 740 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scroll at 360 px');
    await create.getByLabel('Description').fill('Typed only');
    await create.getByLabel('Price').fill('3');
    await create.getByLabel('Price').press('Enter');
    await statusSays(page, '✓ Order created successfully');
    await list.getByText('Typed only').waitFor();
    await screenshot(page, 'mobile-360');
  });
});

test('create with a photo: mismatch warning, Cancel creates nothing, Confirm & Create creates', async () => {
  await withApp({}, async ({ server, page }) => {
    await eventually(async () => (await server.api('GET', '/readyz')).body.checks?.recognizer === 'loaded', 'the recognizer');
    const create = region(page, 'Create Order');
    const fill = async () => {
      await create.getByLabel('Description').fill('bicycle');
      await create.getByLabel('Price').fill('5');
      await create.getByLabel('Product photo (optional)').setInputFiles(DOG);
      await create.getByRole('img', { name: 'Preview of the chosen product photo' }).waitFor();
    };
    await fill();
    await create.getByRole('button', { name: 'Create Order' }).click();
    const warning = create.getByRole('alert');
    await warning.filter({ hasText: /WARNING: Your description "bicycle" does not match detected object ".+" \(\d+\.\d% confidence\)\. Please verify!/ }).waitFor();
    await screenshot(page, 'create-photo-mismatch');
    await create.getByRole('button', { name: 'Cancel' }).click();
    await warning.waitFor({ state: 'hidden' });
    assert.equal((await server.orders()).length, 0, 'Cancel creates nothing');

    await create.getByRole('button', { name: 'Create Order' }).click();
    await create.getByRole('button', { name: 'Confirm & Create' }).click();
    await statusSays(page, '✓ Order created successfully');
    assert.equal(await warning.isHidden(), true, 'no stale warning strip');
    assert.equal(await create.getByLabel('Description').inputValue(), '');
    assert.equal(await create.getByRole('img', { name: 'Preview of the chosen product photo' }).isHidden(), true);
    const orders = await server.orders();
    assert.equal(orders.length, 1);
    assert.match(orders[0].imageKey, /^images\//);

    // View it: the recognition result, in plain words.
    const list = region(page, 'Fetch Orders');
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await list.getByRole('button', { name: 'View order bicycle' }).click();
    const view = region(page, 'Order details');
    await view.getByText('The photo did not match the description').waitFor();
    // The photo shows through its presigned URL when the API gives one; otherwise a note says so.
    const [order] = await server.orders();
    if ((await server.api('GET', `/orders/${order.orderId}`)).body.order.imageUrl) {
      const photo = view.getByRole('img', { name: 'Product photo of this order' });
      await photo.waitFor();
      await eventually(() => photo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the photo to load');
    } else {
      await view.getByText('A product photo is stored with this order').waitFor();
    }
    await screenshot(page, 'view-order');
  });
});

test('list and paging: 25 orders, 10 per page', async () => {
  await withApp({}, async ({ server, page }) => {
    for (let i = 1; i <= 25; ++i) await server.createOrder(`Item ${String(i).padStart(2, '0')}`, i);
    const list = region(page, 'Fetch Orders');
    const items = list.getByRole('list', { name: 'Orders' }).getByRole('listitem');
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await statusSays(page, '✓ Orders fetched: 10');
    assert.equal(await items.count(), 10);
    await list.getByText('Item 01').waitFor();
    await list.getByRole('button', { name: 'Next page' }).click();
    await list.getByText('Item 11').waitFor();
    assert.equal(await items.count(), 10);
    await screenshot(page, 'list-page-2');
    await list.getByRole('button', { name: 'Next page' }).click();
    await list.getByText('Item 25').waitFor();
    assert.equal(await items.count(), 5);
    assert.equal(await list.getByRole('button', { name: 'Next page' }).isHidden(), true);
    await list.getByRole('button', { name: 'First page' }).click();
    await list.getByText('Item 01').waitFor();
  });
});

test('edit: a concurrent change answers 412, the user is told and the order reloads', async () => {
  await withApp({}, async ({ server, page }) => {
    const id = await server.createOrder('Desk lamp', 30);
    const list = region(page, 'Fetch Orders');
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await list.getByRole('button', { name: 'Edit order Desk lamp' }).click();
    const edit = region(page, 'Edit Order');
    await edit.getByLabel('Description').waitFor();  // the form shows once the order is loaded
    assert.equal(await edit.getByLabel('Description').inputValue(), 'Desk lamp');
    await edit.getByLabel('Description').fill('Desk lamp (mine)');

    const elsewhere = await server.api('PATCH', `/orders/${id}`, { json: { description: 'Desk lamp (theirs)' } });
    assert.equal(elsewhere.status, 200);

    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.getByRole('alert').filter({ hasText: 'changed elsewhere' }).waitFor();
    assert.equal(await edit.getByLabel('Description').inputValue(), 'Desk lamp (theirs)', 'reloaded');
    await screenshot(page, 'edit-conflict');

    await edit.getByLabel('Description').fill('Desk lamp (merged)');
    await edit.getByLabel('Price').fill('31.5');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await statusSays(page, '✓ Order updated');
    const r = await server.api('GET', `/orders/${id}`);
    assert.equal(r.body.order.description, 'Desk lamp (merged)');
    assert.equal(r.body.order.price, 31.5);
  });
});

test('delete from the list (dialog) and by ID', async () => {
  await withApp({}, async ({ server, page }) => {
    await server.createOrder('First', 1);
    const second = await server.createOrder('Second', 2);
    const list = region(page, 'Fetch Orders');
    await list.getByRole('button', { name: 'Get Orders' }).click();
    await list.getByRole('button', { name: 'Delete order First' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this order?' });
    await dialog.waitFor();
    await screenshot(page, 'delete-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await server.orders()).length, 2);

    await list.getByRole('button', { name: 'Delete order First' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await statusSays(page, '✓ Order deleted successfully');
    await list.getByRole('list').getByText('First', { exact: true }).waitFor({ state: 'detached' });
    assert.deepEqual((await server.orders()).map((o) => o.description), ['Second']);

    const byId = region(page, 'Delete Order');
    await byId.getByLabel('Order ID').fill('00000000-0000-7000-8000-000000000000');
    await byId.getByRole('button', { name: 'Delete Order' }).click();
    await byId.getByText('Order not found').waitFor();
    await byId.getByLabel('Order ID').fill(second);
    await byId.getByRole('button', { name: 'Delete Order' }).click();
    await statusSays(page, '✓ Order deleted successfully');
    assert.equal((await server.orders()).length, 0);
  });
});

test('subscribe, confirm from the mail, unsubscribe', async () => {
  await withApp({}, async ({ server, page }) => {
    const sub = region(page, 'Email Subscribe');
    await sub.getByLabel('Email address').fill('not-an-address');
    await sub.getByRole('button', { name: 'Subscribe' }).click();
    await sub.getByText('Invalid email format').waitFor();
    await sub.getByLabel('Email address').fill('reader@example.com');
    await sub.getByRole('button', { name: 'Subscribe' }).click();
    await statusSays(page, '✓ Confirmation email sent. Please check your inbox.');
    await screenshot(page, 'subscribed');

    const mail = await eventually(() => server.mails().find((m) => /To: .*reader@example\.com/i.test(m.head)), 'the confirmation mail');
    const link = /https?:\/\/[^\s]+\/subscriptions\/confirm\?token=[^\s]+/.exec(mail.text)[0];
    const confirmPage = await page.context().newPage();
    await confirmPage.goto(server.url + new URL(link).pathname + new URL(link).search);
    // Opening the link confirms nothing (mail scanners follow links): its button does.
    await confirmPage.getByRole('button', { name: 'Confirm' }).click();
    await confirmPage.getByText('Subscription confirmed').waitFor();
    await confirmPage.close();

    // Unsubscribing by address mails a link to the address; the link's button unsubscribes.
    const unsub = region(page, 'Email Unsubscribe');
    await unsub.getByLabel('Email address').fill('reader@example.com');
    await unsub.getByRole('button', { name: 'Unsubscribe' }).click();
    await statusSays(page, '✓ If this address is subscribed, a mail with a link to unsubscribe has been sent to it.');
    const leave = await eventually(
      () => server.mails().find((m) => /Subject: Unsubscribe from orderflow/i.test(m.head)),
      'the unsubscribe mail');
    const leaveLink = /https?:\/\/[^\s]+\/subscriptions\/unsubscribe\?token=[^\s]+/.exec(leave.text)[0];
    const leavePage = await page.context().newPage();
    await leavePage.goto(server.url + new URL(leaveLink).pathname + new URL(leaveLink).search);
    await leavePage.getByRole('button', { name: 'Unsubscribe' }).click();
    await leavePage.getByText('has been unsubscribed').waitFor();
    await leavePage.close();
  });
});

test('generate report: the PDF opens in a new tab', async () => {
  await withApp({}, async ({ server, page, context }) => {
    const id = await server.createOrder('Gone soon', 9.99);
    await server.api('DELETE', `/orders/${id}`);
    // The deletion is archived (object, then index entry) by the worker in the background:
    // wait until a report has it, or the click below may come first and find nothing.
    await eventually(async () => (await server.api('GET', '/reports/deleted-orders')).status === 200,
      'the deleted order in the archive index');
    const pdf = new Promise((resolve) => context.on('response', (r) => {
      if ((r.headers()['content-type'] ?? '').startsWith('application/pdf')) resolve(r);
    }));
    const calls = [];
    page.on('request', (r) => calls.push(`${r.method()} ${new URL(r.url()).pathname}`));
    const popup = context.waitForEvent('page');
    await region(page, 'Deleted Orders PDF').getByRole('button', { name: 'Generate Report' }).click();
    const tab = await popup;
    const response = await pdf;
    assert.equal(response.status(), 200);
    assert.equal(response.frame().page(), tab);
    await statusSays(page, '✓ Report generated: 1 deleted order');
    // Made as a job (POST, then its status while it runs); the progress bar is hidden at the end.
    assert.ok(calls.includes('POST /reports/deleted-orders'), calls.join(', '));
    assert.equal(await page.locator('#report-progress').isHidden(), true);
    await screenshot(page, 'report');
  });
});

test('live updates: changes elsewhere appear in an open list without clicking', async () => {
  await withApp({}, async ({ server, page, context }) => {
    const other = await context.newPage();
    await other.goto(server.url + '/');
    for (const p of [page, other]) {
      await region(p, 'Fetch Orders').getByRole('button', { name: 'Get Orders' }).click();
      await statusSays(p, '✓ Orders fetched: 0');
      await p.locator('section[data-live="on"]').waitFor();
    }
    const id = await server.createOrder('Made by the API', 3);
    await region(page, 'Fetch Orders').getByText('Made by the API').waitFor();
    await region(other, 'Fetch Orders').getByText('Made by the API').waitFor();

    // A change made in one tab shows in the other.
    const create = region(page, 'Create Order');
    await create.getByLabel('Description').fill('Made in tab one');
    await create.getByLabel('Price').fill('4');
    await create.getByRole('button', { name: 'Create Order' }).click();
    await region(other, 'Fetch Orders').getByText('Made in tab one').waitFor();
    await server.api('DELETE', `/orders/${id}`);
    await region(other, 'Fetch Orders').getByText('Made by the API').waitFor({ state: 'detached' });
    await screenshot(other, 'live-second-tab');
    await other.close();
  });
});

test('dead letters: the operator view lists them and Redrive delivers them', async () => {
  // First run (maildir): a confirmed subscriber, so deletions send notifications.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-browser-dead-'));
  let smtp;
  try {
    const first = await Server.start({ dataDir });
    await first.api('POST', '/subscriptions', { json: { email: 'ops@example.com' } });
    const mail = await eventually(() => first.mails()[0], 'the confirmation mail');
    const link = new URL(/https?:\/\/[^\s]+\/subscriptions\/confirm\?token=[^\s]+/.exec(mail.text)[0]);
    assert.equal((await first.api('GET', link.pathname + link.search)).status, 200, 'the page');
    // Its button: a form POST to the same link.
    const confirmed = await first.api('POST', link.pathname + link.search, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(confirmed.status, 200);
    await first.stop();

    // Second run: SMTP to a closed port and one attempt, so every notification dies. A failed
    // send keeps its notice claimed until the lease ends, and the redrive below waits for that:
    // a short lease, so it sends at once.
    const port = await freePort();
    const env = {
      ORDERFLOW_MAILER: `smtp://127.0.0.1:${port}`,
      ORDERFLOW_DELIVERY_MAX_ATTEMPTS: '1',
      ORDERFLOW_DELIVERY_LEASE_MS: '1000',
    };
    await withApp({ env, dataDir }, async ({ server, page }) => {
      for (const d of ['Dead one', 'Dead two']) await server.api('DELETE', `/orders/${await server.createOrder(d, 1)}`);
      const auth = { Authorization: `Bearer ${server.adminToken()}` };
      const dead = () => server.api('GET', '/admin/deliveries?state=dead', { headers: auth });
      await eventually(async () => (await dead()).body.deliveries?.length === 2, 'two dead deliveries');

      const ops = region(page, 'Operator: failed notifications');
      await ops.getByLabel('Admin token').fill('wrong');
      await ops.getByRole('button', { name: 'Show dead deliveries' }).click();
      await statusSays(page, '✕');
      await ops.getByLabel('Admin token').fill(server.adminToken());
      await ops.getByRole('button', { name: 'Show dead deliveries' }).click();
      await statusSays(page, '✓ Deliveries fetched: 2');
      const rows = ops.getByRole('row');
      assert.equal(await rows.count(), 3);  // header + 2
      await screenshot(page, 'operator-dead-letters');

      // The mail server comes up; redriven deliveries now go through.
      const mailbox = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-browser-smtp-'));
      for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(mailbox, sub));
      smtp = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', mailbox], { stdio: 'ignore' });
      smtp.mailbox = mailbox;
      await eventually(() => portOpen(port), 'the SMTP server');

      const firstId = (await dead()).body.deliveries[0].id;
      await ops.getByRole('button', { name: `Redrive delivery ${firstId}` }).click();
      await statusSays(page, `(delivery ${firstId})`);
      await ops.getByText('1 dead delivery.').waitFor();
      await ops.getByRole('button', { name: 'Redrive all' }).click();
      await statusSays(page, '✓ Deliveries redriven: 1');
      await ops.getByText('No dead deliveries.').waitFor();
      await eventually(() => fs.readdirSync(path.join(mailbox, 'new')).length === 2, 'two notification mails');
      await eventually(async () => {
        const done = await server.api('GET', '/admin/deliveries?state=done', { headers: auth });
        return done.body.deliveries.filter((d) => d.eventType === 'orderflow.order.deleted' && d.subscription === 'notify_subscribers').length === 2;
      }, 'the redriven notifications to be delivered').catch(async (e) => {
        const all = await server.api('GET', '/admin/deliveries', { headers: auth });
        throw new Error(`${e.message}: ${JSON.stringify(all.body)}`);
      });
      await screenshot(page, 'operator-redriven');
    });
  } finally {
    if (smtp) {
      const exited = new Promise((r) => smtp.once('exit', r));
      smtp.kill('SIGTERM');
      await exited;
      fs.rmSync(smtp.mailbox, { recursive: true, force: true });
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
