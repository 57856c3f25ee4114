// The contract test (issue 15): every operation of src/runtime/openapi.json is driven through
// Prism (npm @stoplight/prism-cli) in proxy mode with --errors in front of the real binary, so
// each request and each response is validated against the document. A violation, or an
// operation of the document that no case here drives, fails the test.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';
import { Server, eventually, freePort } from '../browser/harness.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const SPEC = path.join(ROOT, 'src', 'runtime', 'openapi.json');
const PRISM = path.join(ROOT, 'node_modules', '@stoplight', 'prism-cli', 'dist', 'index.js');
const ADMIN_TOKEN = 'contract-test-admin-token-0123456789';
const PHOTO = '/usr/share/darknet/data/dog.jpg';

// Every (METHOD path-template) the document declares.
function operations() {
  const doc = JSON.parse(fs.readFileSync(SPEC, 'utf8'));
  const out = [];
  for (const [p, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item))
      if (op && typeof op === 'object' && op.responses) out.push(`${method.toUpperCase()} ${p}`);
  return out.sort();
}

async function startPrism(upstream) {
  const port = await freePort();
  const proc = spawn(process.execPath, [PRISM, 'proxy', SPEC, upstream, '--errors', '-p', String(port), '-h', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      log += chunk;
      if (/Prism is listening/.test(log)) resolve();
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`prism exited with ${code}: ${log}`)));
  });
  return { url: `http://127.0.0.1:${port}`, proc, log: () => log };
}

test('every operation, through Prism, matches the document', { timeout: 240000 }, async () => {
  const server = await Server.start({
    env: {
      ORDERFLOW_AUTH_MODE: 'api_keys',
      ORDERFLOW_ADMIN_TOKEN: ADMIN_TOKEN,
      ORDERFLOW_LIMITS_SUBSCRIPTION_REQUESTS_PER_HOUR: '0',
      ORDERFLOW_LIMITS_ADDRESS_MAIL_INTERVAL_S: '0',
      ORDERFLOW_LIMITS_ADDRESS_MAILS_PER_DAY: '0',
    },
  });
  const prism = await startPrism(server.url);
  const driven = new Set();
  const problems = [];
  const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  // One request through Prism; `template` names the operation it drives.
  async function call(template, method, target, { headers = {}, json, form, body, expect } = {}) {
    const init = { method, headers: { ...headers }, redirect: 'manual' };
    if (json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
      init.body = form;
    } else if (body !== undefined) {
      init.body = body;
    }
    const r = await fetch(prism.url + target, init);
    const bytes = Buffer.from(await r.arrayBuffer());
    const type = r.headers.get('content-type') ?? '';
    const text = type.includes('json') || type.startsWith('text/') ? bytes.toString('utf8') : '';
    driven.add(`${method} ${template}`);
    const where = `${method} ${target} -> ${r.status}`;
    if (type.includes('application/problem+json') && text.includes('stoplight.io/prism'))
      problems.push(`${where}: ${text.slice(0, 600)}`);
    else if (expect !== undefined && r.status !== expect)
      problems.push(`${where}, expected ${expect}: ${text.slice(0, 300)}`);
    let parsed;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
    return { status: r.status, text, json: parsed, headers: r.headers, bytes };
  }

  try {
    // Public routes.
    await call('/healthz', 'GET', '/healthz', { expect: 200 });
    await call('/readyz', 'GET', '/readyz');
    await call('/auth/session', 'GET', '/auth/session', { headers: auth, expect: 200 });
    await call('/openapi.json', 'GET', '/openapi.json', { expect: 200 });
    const page = await call('/', 'GET', '/', { expect: 200 });
    const asset = /\/assets\/([^"']+\.js)/.exec(page.text)?.[1];
    assert.ok(asset, 'the page names its script');
    await call('/assets/{file}', 'GET', `/assets/${asset}`, { expect: 200 });
    await call('/metrics', 'GET', '/metrics', { headers: auth, expect: 200 });

    // Orders.
    const created = await call('/orders', 'POST', '/orders',
      { headers: auth, json: { description: 'A lamp', price: 19.99 }, expect: 201 });
    const id = created.json?.orderId;
    assert.ok(id, `no orderId: ${created.text}`);
    await call('/orders', 'GET', '/orders?limit=5', { headers: auth, expect: 200 });
    await call('/orders/{orderId}', 'GET', `/orders/${id}`, { headers: auth, expect: 200 });
    await call('/orders/{orderId}', 'GET', `/orders/${id}`, { headers: { ...auth, 'If-None-Match': '"1"' }, expect: 304 });
    await call('/orders/{orderId}', 'PUT', `/orders/${id}`,
      { headers: auth, json: { description: 'A brass lamp', price: '0.07' }, expect: 200 });
    await call('/orders/{orderId}', 'PATCH', `/orders/${id}`,
      { headers: { ...auth, 'If-Match': '"1"' }, json: { price: 20.5 }, expect: 412 });
    await call('/orders/{orderId}', 'PATCH', `/orders/${id}`, { headers: auth, json: { price: 20.5 }, expect: 200 });
    await call('/orders/{orderId}', 'GET', '/orders/0190f5d2-7b1c-7a3e-8f00-0123456789ab', { headers: auth, expect: 404 });

    // The photo check, by JSON and by multipart.
    const photo = fs.readFileSync(PHOTO);
    await call('/images/recognize', 'POST', '/images/recognize', {
      headers: auth,
      json: { image: photo.toString('base64'), description: 'a dog', price: 12.5, confirm: false },
    });
    const multipart = new FormData();
    multipart.append('description', 'a dog');
    multipart.append('price', '12.50');
    multipart.append('image', new Blob([photo], { type: 'image/jpeg' }), 'dog.jpg');
    const upload = await fetch(prism.url + '/images/recognize', { method: 'POST', headers: auth, body: multipart });
    driven.add('POST /images/recognize');
    const uploadText = await upload.text();
    if (uploadText.includes('stoplight.io/prism')) problems.push(`multipart upload: ${uploadText.slice(0, 600)}`);
    // Confirmed: an order with its photo, read back with its image fields.
    const photoOrder = await call('/images/recognize', 'POST', '/images/recognize', {
      headers: auth,
      json: { image: photo.toString('base64'), description: 'a dog', price: '12.50', confirm: true },
      expect: 201,
    });
    const withPhoto = await call('/orders/{orderId}', 'GET', `/orders/${photoOrder.json?.orderId}`, { headers: auth, expect: 200 });
    assert.ok(withPhoto.json?.order?.imageUrl, `no imageUrl: ${withPhoto.text}`);

    // Subscriptions: subscribe, the link's page and its button.
    await call('/subscriptions', 'POST', '/subscriptions', { json: { email: 'reader@example.com' }, expect: 200 });
    const confirmation = await eventually(() => server.mails().find((m) => /subscriptions\/confirm\?token=/.test(m.text)), 'the confirmation mail');
    const confirmTarget = /\/subscriptions\/confirm\?token=[^\s]+/.exec(confirmation.text)[0];
    await call('/subscriptions/confirm', 'GET', confirmTarget, { expect: 200 });
    await call('/subscriptions/confirm', 'POST', confirmTarget, { form: '', expect: 200 });
    await call('/subscriptions/confirm', 'GET', '/subscriptions/confirm?token=nonsense', { expect: 400 });

    // A deletion: the archive, the report and its presigned link (the key's '/' as %2F).
    await call('/orders/{orderId}', 'DELETE', `/orders/${id}`, { headers: auth, expect: 200 });
    const report = await eventually(async () => {
      const r = await fetch(`${server.url}/reports/deleted-orders`, { headers: auth });
      return r.status === 200 ? r : undefined;
    }, 'the archived order in a report');
    await report.arrayBuffer();
    const reported = await call('/reports/deleted-orders', 'GET', '/reports/deleted-orders', { headers: auth, expect: 200 });
    const link = new URL(reported.json.pdf_url);
    const key = decodeURIComponent(link.pathname.slice('/objects/'.length));
    const pdf = await call('/objects/{key}', 'GET', `/objects/${encodeURIComponent(key)}${link.search}`, { expect: 200 });
    assert.equal(pdf.bytes.subarray(0, 5).toString(), '%PDF-');
    await call('/reports/deleted-orders', 'GET', '/reports/deleted-orders?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z',
      { headers: auth, expect: 404 });
    // The report as a job: started, then followed to its end.
    const job = await call('/reports/deleted-orders', 'POST', '/reports/deleted-orders', { headers: auth, expect: 202 });
    const jobId = job.json?.reportId;
    assert.ok(jobId, `no reportId: ${job.text}`);
    await eventually(async () => (await call('/reports/{reportId}', 'GET', `/reports/${jobId}`, { headers: auth, expect: 200 })).json?.state === 'done', 'the report job');
    await call('/reports/{reportId}', 'GET', '/reports/00000000-0000-4000-8000-000000000000', { headers: auth, expect: 404 });

    // Unsubscribe: the notice's one-click link, its page, and by address.
    const notice = await eventually(() => server.mails().find((m) => /Order "/.test(m.head) || /An order was deleted/.test(m.text)), 'the deletion notice');
    const leave = /\/subscriptions\/unsubscribe\?token=[^\s]+/.exec(notice.text)[0];
    await call('/subscriptions/unsubscribe', 'GET', leave, { expect: 200 });
    await call('/subscriptions/unsubscribe', 'POST', leave, { form: 'List-Unsubscribe=One-Click', expect: 200 });
    await call('/subscriptions/unsubscribe', 'POST', '/subscriptions/unsubscribe', { json: { email: 'reader@example.com' }, expect: 200 });

    // The event stream (answers at once: there are events after 0).
    await call('/events', 'GET', '/events?after=0', { headers: { ...auth, Accept: 'text/event-stream' }, expect: 200 });

    // Operators: deliveries and keys.
    await call('/admin/deliveries', 'GET', '/admin/deliveries?state=dead', { headers: auth, expect: 200 });
    await call('/admin/deliveries/redrive', 'POST', '/admin/deliveries/redrive?state=dead', { headers: auth, expect: 200 });
    await call('/admin/deliveries/{deliveryId}/redrive', 'POST', '/admin/deliveries/999999/redrive', { headers: auth, expect: 404 });
    const key1 = await call('/admin/keys', 'POST', '/admin/keys',
      { headers: auth, json: { name: 'contract', scopes: ['orders:read'], expiresIn: '1d' }, expect: 201 });
    await call('/admin/keys', 'GET', '/admin/keys', { headers: auth, expect: 200 });
    await call('/admin/keys/{keyId}', 'DELETE', `/admin/keys/${key1.json?.id}`, { headers: auth, expect: 204 });
    // A refusal is in the document too.
    await call('/orders', 'GET', '/orders', { headers: { Authorization: `Bearer ${key1.json?.key}` }, expect: 401 });

    const missing = operations().filter((op) => !driven.has(op));
    assert.deepEqual(missing, [], 'operations of the document that no case drives');
    assert.deepEqual(problems, [], `Prism found violations:\n${problems.join('\n')}`);
  } finally {
    prism.proc.kill('SIGKILL');
    await server.stop();
  }
});
