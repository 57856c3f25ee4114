// Test harness for the browser suite: starts the real orderflow binary on port 0 with a temp
// data dir, a headless Debian Chromium, and small API helpers.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BINARY = process.env.ORDERFLOW_BINARY ?? path.resolve('build/web/orderflow');
export const SCREENSHOT_DIR = process.env.ORDERFLOW_SCREENSHOT_DIR ?? path.join(os.tmpdir(), 'orderflow-browser-screenshots');

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

// Polls `check` until it returns a truthy value or `ms` pass (for work the server does
// asynchronously: mail files, deliveries); the deadline only bounds a failure.
export async function eventually(check, what, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class Server {
  static async start({ env = {}, dataDir } = {}) {
    const server = new Server();
    server.env = env;
    server.headers = {};
    server.ownsDir = !dataDir;
    server.dataDir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-browser-'));
    server.proc = spawn(BINARY, ['serve', '--listen', '127.0.0.1:0', '--data-dir', server.dataDir],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.url = await new Promise((resolve, reject) => {
      const onData = (chunk) => {
        log += chunk;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
        if (m) resolve(m[1]);
      };
      server.proc.stdout.on('data', onData);
      server.proc.stderr.on('data', onData);
      server.proc.on('exit', (code) => reject(new Error(`orderflow exited with ${code}: ${log}`)));
    });
    return server;
  }

  // Sends `key` as the bearer token of every later api() call that names no Authorization.
  useKey(key) {
    this.headers = key ? { Authorization: `Bearer ${key}` } : {};
  }

  async api(method, p, { json, headers = {} } = {}) {
    const init = { method, headers: { ...this.headers, ...headers } };
    if (json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    }
    const r = await fetch(this.url + p, init);
    const text = await r.text();
    let body;
    try { body = JSON.parse(text); } catch { body = text; }
    return { status: r.status, body, headers: r.headers };
  }

  async createOrder(description, price) {
    const r = await this.api('POST', '/orders', { json: { description, price } });
    if (r.status !== 201) throw new Error(`create failed: ${JSON.stringify(r.body)}`);
    return r.body.orderId;
  }

  async orders() {
    const r = await this.api('GET', '/orders?limit=1000');
    return r.body.orders;
  }

  adminToken() {
    return this.env.ORDERFLOW_ADMIN_TOKEN ?? fs.readFileSync(path.join(this.dataDir, 'admin-token'), 'utf8').trim();
  }

  // A new API key with these scopes (POST /admin/keys with the admin token): { id, key }.
  async createKey(name, scopes) {
    const r = await this.api('POST', '/admin/keys',
      { json: { name, scopes }, headers: { Authorization: `Bearer ${this.adminToken()}` } });
    if (r.status !== 201) throw new Error(`key create failed: ${JSON.stringify(r.body)}`);
    return { id: r.body.id, key: r.body.key };
  }

  // The decoded text bodies of the mails in <data_dir>/mail/new.
  mails(dir = path.join(this.dataDir, 'mail', 'new')) {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).map((f) => decodeMail(fs.readFileSync(path.join(dir, f), 'utf8')));
  }

  async stop({ keepDir = false } = {}) {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    if (this.ownsDir && !keepDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function decodeMail(raw) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n');
  if (/Content-Transfer-Encoding:\s*base64/i.test(head)) return { head, text: Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') };
  return { head, text: body };
}

export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

// A fresh server (Server.start(options)) and a page on it in `browser`; `body` gets both, and
// both are closed afterwards. No request may leave the origin: no CDN, no fonts.
export async function withApp(browser, options, body) {
  const server = await Server.start(options);
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  context.setDefaultTimeout(15000);
  try {
    const page = await context.newPage();
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(server.url) && !url.startsWith('data:') && !url.startsWith('blob:') && url !== 'about:blank')
        throw new Error(`request left the origin: ${url}`);
    });
    await page.goto(server.url + '/');
    try {
      return await body({ server, page, context });
    } catch (e) {
      for (const [i, p] of context.pages().entries()) await screenshot(p, `failure-${i}`).catch(() => {});
      const status = await page.getByRole('status').textContent().catch(() => '');
      throw new Error(`${e.message}\n(status bar: ${status})`, { cause: e });
    }
  } finally {
    await context.close();
    await server.stop();
  }
}

export const region = (page, name) => page.getByRole('region', { name, exact: true });
export const statusSays = (page, text) => page.getByRole('status').filter({ hasText: text }).waitFor();
