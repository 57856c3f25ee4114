// The orderflow web app: one page of cards (create, list, view, edit, delete, e-mail
// subscriptions, the deleted-orders report, the operator's dead letters), a status bar, a
// live list fed by GET /events (Server-Sent Events), and, when the server asks for API keys,
// a key prompt and controls that follow the key's scopes.
import './style.css';
import {
  ApiError, authHeaders, call, fetchSession, formatPrice, onUnauthorized, request, useKey,
  type Order, type RecognitionCheck, type RecognizedOrder, type Schemas, type Session,
} from './api';
import { EventStreamClient } from './sse';

const PAGE_SIZE = 10;

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

// ---- status bar -------------------------------------------------------------------------

const statusBar = $('status');
function showProgress(text: string) {
  statusBar.className = 'status';
  statusBar.textContent = `… ${text}`;
}
function showSuccess(text: string) {
  statusBar.className = 'status ok';
  statusBar.textContent = `✓ ${text}`;
}
function showError(text: string) {
  statusBar.className = 'status error';
  statusBar.textContent = `✕ ${text}`;
}
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// Runs `work` with the button disabled and labelled as busy, so it cannot be submitted twice.
const busyButtons = new WeakSet<HTMLButtonElement>();
async function busy(button: HTMLButtonElement, label: string, work: () => Promise<void>): Promise<void> {
  if (busyButtons.has(button)) return;
  busyButtons.add(button);
  const original = button.textContent ?? '';
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = label;
  try {
    await work();
  } finally {
    button.textContent = original;
    button.disabled = false;
    button.removeAttribute('aria-busy');
    busyButtons.delete(button);
  }
}

// ---- field errors -----------------------------------------------------------------------

function setFieldError(inputId: string, message: string) {
  const input = $<HTMLInputElement>(inputId);
  $(`${inputId}-error`).textContent = message;
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

// Puts the server's validation message next to the field it names ("price must be > 0").
function showServerError(e: unknown, fields: Record<string, string>, fallbackField?: string): void {
  const message = messageOf(e);
  showError(message);
  if (!(e instanceof ApiError)) return;
  const lower = message.toLowerCase();
  for (const [word, inputId] of Object.entries(fields)) {
    if (lower.startsWith(word) || lower.startsWith(`the ${word}`) || lower.includes(`${word} is required`)) {
      setFieldError(inputId, message);
      $<HTMLInputElement>(inputId).focus();
      return;
    }
  }
  if (fallbackField && e.status >= 400 && e.status < 500) setFieldError(fallbackField, message);
}

// ---- create order -----------------------------------------------------------------------

const createForm = $<HTMLFormElement>('create-form');
const createDescription = $<HTMLInputElement>('create-description');
const createPrice = $<HTMLInputElement>('create-price');
const createPhoto = $<HTMLInputElement>('create-photo');
const createPreview = $<HTMLImageElement>('create-preview');
const createWarning = $('create-warning');
const createWarningText = $('create-warning-text');
const createSubmit = $<HTMLButtonElement>('create-submit');
const createConfirm = $<HTMLButtonElement>('create-confirm');
const createCancel = $<HTMLButtonElement>('create-cancel');
const createFields = { description: 'create-description', price: 'create-price', image: 'create-photo' };

let photoDataUrl: string | null = null;

createPhoto.addEventListener('change', () => {
  setFieldError('create-photo', '');
  hideWarning();
  const file = createPhoto.files?.[0];
  photoDataUrl = null;
  createPreview.hidden = true;
  createPreview.removeAttribute('src');
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    photoDataUrl = String(reader.result);
    createPreview.src = photoDataUrl;
    createPreview.hidden = false;
  };
  reader.onerror = () => setFieldError('create-photo', 'The photo could not be read.');
  reader.readAsDataURL(file);
});

function hideWarning() {
  createWarning.hidden = true;
  createWarningText.textContent = '';
  createConfirm.textContent = 'Confirm & Create';
}

function clearCreateErrors() {
  for (const id of Object.values(createFields)) setFieldError(id, '');
}

function resetCreateForm() {
  createForm.reset();
  photoDataUrl = null;
  createPreview.hidden = true;
  createPreview.removeAttribute('src');
  hideWarning();
  clearCreateErrors();
}

function orderInput(): Schemas['NewOrder'] {
  return { description: createDescription.value, price: createPrice.value.trim() };
}

async function createPlain() {
  showProgress('Creating order');
  const r = await request('POST', '/orders', { json: orderInput() });
  created(r.body.message || 'Order created successfully', r.body.orderId);
}

async function createWithPhoto(image: string) {
  showProgress('Creating order with photo');
  const r = await request('POST', '/images/recognize', { json: { ...orderInput(), image, confirm: true } });
  const body = r.body as RecognizedOrder;
  created(body.message || 'Order created successfully', body.orderId);
}

function created(message: string, orderId: string) {
  resetCreateForm();
  showSuccess(`${message} (ID ${orderId})`);
  if (listLoaded) void loadPage(currentCursor);
}

createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void busy(createSubmit, 'Creating…', async () => {
    clearCreateErrors();
    hideWarning();
    try {
      if (!photoDataUrl) return await createPlain();
      showProgress('Checking the photo');
      const check = await request('POST', '/images/recognize',
        { json: { ...orderInput(), image: photoDataUrl, confirm: false } });
      const { recognition, validation } = check.body as RecognitionCheck;
      const object = recognition.topDetectedObject ?? 'unknown';
      const confidence = recognition.confidence === null ? '?' : Number(recognition.confidence).toFixed(1);
      switch (validation.status) {
        case 'mismatch':
          createWarningText.textContent = `WARNING: Your description "${createDescription.value.trim()}" ` +
            `does not match detected object "${object}" (${confidence}% confidence). Please verify!`;
          createConfirm.textContent = 'Confirm & Create';
          createWarning.hidden = false;
          showError('The photo does not match the description. Confirm or cancel.');
          createConfirm.focus();
          return;
        case 'uncertain':
          createWarningText.textContent = `We could not tell for sure whether the photo shows ` +
            `"${createDescription.value.trim()}". It looks most like "${object}" (${confidence}% confidence), ` +
            `which is neither a clear match nor clearly something else. Check the photo, then create the ` +
            `order anyway or cancel.`;
          createConfirm.textContent = 'Create anyway';
          createWarning.hidden = false;
          showProgress('The photo check was not sure. Create anyway or cancel.');
          createConfirm.focus();
          return;
        default:
          // match, no_description (the server will report it) or unavailable (no check possible).
          return await createWithPhoto(photoDataUrl);
      }
    } catch (e) {
      showServerError(e, createFields);
    }
  });
});

createConfirm.addEventListener('click', () => {
  void busy(createConfirm, 'Creating…', async () => {
    try {
      // The warning (and so this button) is hidden whenever the photo changes or goes.
      if (photoDataUrl) await createWithPhoto(photoDataUrl);
    } catch (e) {
      hideWarning();
      showServerError(e, createFields);
    }
  });
});

createCancel.addEventListener('click', () => {
  hideWarning();
  showProgress('Cancelled: no order was created.');
  createSubmit.focus();
});

// ---- confirmation dialog ----------------------------------------------------------------

const confirmDialog = $<HTMLDialogElement>('confirm-dialog');
function confirmDelete(text: string): Promise<boolean> {
  $('confirm-text').textContent = text;
  confirmDialog.returnValue = '';
  confirmDialog.showModal();
  return new Promise((resolve) => {
    confirmDialog.addEventListener('close', () => resolve(confirmDialog.returnValue === 'confirm'), { once: true });
  });
}

// ---- list, paging, live updates ---------------------------------------------------------

const orderList = $<HTMLUListElement>('order-list');
const listSummary = $('list-summary');
const listGet = $<HTMLButtonElement>('list-get');
const listNext = $<HTMLButtonElement>('list-next');
const listFirst = $<HTMLButtonElement>('list-first');
const listLive = $<HTMLInputElement>('list-live');
let listLoaded = false;
let currentCursor: string | null = null;
let nextCursor: string | null = null;
let pageNumber = 1;

function renderOrders(orders: Order[]) {
  orderList.replaceChildren(...orders.map((o) => {
    const view = el('button', { type: 'button', className: 'secondary', textContent: 'View' });
    view.setAttribute('aria-label', `View order ${o.description}`);
    view.addEventListener('click', () => void viewOrder(o.orderId));
    const edit = el('button', { type: 'button', className: 'secondary', textContent: 'Edit', disabled: !may('orders:write') });
    edit.setAttribute('aria-label', `Edit order ${o.description}`);
    edit.dataset.needs = 'orders:write';
    edit.addEventListener('click', () => void loadForEdit(o.orderId, true));
    const del = el('button', { type: 'button', className: 'danger', textContent: 'Delete', disabled: !may('orders:write') });
    del.setAttribute('aria-label', `Delete order ${o.description}`);
    del.dataset.needs = 'orders:write';
    del.addEventListener('click', () => void deleteFromList(o, del));
    const item = el('li', {},
      el('span', { className: 'id' }, `ID: ${o.orderId}`),
      el('span', { className: 'desc' }, o.description),
      el('span', { className: 'price' }, `$${formatPrice(o.price)}`),
      view, edit, del);
    item.dataset.orderId = o.orderId;
    return item;
  }));
}

// Loads are not serialised (a live reload can start while the user pages), so only the answer
// to the latest load is shown: an older answer arriving last must not put back the old page.
// The page being loaded is the current one from the start, so a reload meanwhile fetches it.
let listGeneration = 0;

async function loadPage(cursor: string | null) {
  const generation = ++listGeneration;
  const previous = currentCursor;
  currentCursor = cursor;
  // Written inline, so tsc checks the parameter names against the spec (no excess-property check
  // on a variable).
  const r = await request('GET', '/orders', { query: { limit: PAGE_SIZE, cursor: cursor || undefined } }).catch((e) => {
    if (generation === listGeneration) currentCursor = previous;
    throw e;
  });
  const message = r.body.message ?? `Orders fetched: ${r.body.orders.length}`;
  if (generation !== listGeneration) return message;
  listLoaded = true;
  nextCursor = r.body.nextCursor ?? null;
  renderOrders(r.body.orders);
  listSummary.textContent = r.body.orders.length === 0
    ? (cursor ? 'No more orders.' : 'No orders yet.')
    : `Page ${pageNumber}: ${r.body.orders.length} order${r.body.orders.length === 1 ? '' : 's'}.`;
  listNext.hidden = nextCursor === null;
  listFirst.hidden = cursor === null;
  return message;
}

listGet.addEventListener('click', () => void busy(listGet, 'Loading…', async () => {
  showProgress('Fetching orders');
  listLoaded = true;  // from now on changes elsewhere reload it, even while this first load runs
  try {
    pageNumber = 1;
    showSuccess(await loadPage(null));
  } catch (e) {
    showError(messageOf(e));
  }
}));

listNext.addEventListener('click', () => void busy(listNext, 'Loading…', async () => {
  if (!nextCursor) return;
  showProgress('Fetching the next page');
  try {
    pageNumber += 1;
    showSuccess(await loadPage(nextCursor));
    listGet.focus();
  } catch (e) {
    pageNumber -= 1;
    showError(messageOf(e));
  }
}));

listFirst.addEventListener('click', () => void busy(listFirst, 'Loading…', async () => {
  try {
    pageNumber = 1;
    showSuccess(await loadPage(null));
    listGet.focus();
  } catch (e) {
    showError(messageOf(e));
  }
}));

async function deleteFromList(order: Order, button: HTMLButtonElement) {
  const yes = await confirmDelete(`Delete "${order.description}" ($${formatPrice(order.price)})? This cannot be undone.`);
  if (!yes) {
    button.focus();
    return;
  }
  await busy(button, 'Deleting…', async () => {
    showProgress('Deleting order');
    try {
      const r = await request('DELETE', '/orders/{orderId}', { path: { orderId: order.orderId } });
      showSuccess(r.body.message || 'Order deleted successfully');
      await loadPage(currentCursor);
      listGet.focus();
    } catch (e) {
      showError(messageOf(e));
    }
  });
}

// Reloads the list (debounced) when an order changes anywhere. The server marks the stream's
// position with `ready` on first connect; the list reloads then too, so nothing between the
// page load and the stream's start is missed.
let reloadTimer: number | undefined;
function scheduleReload() {
  if (!listLoaded || !listLive.checked) return;
  window.clearTimeout(reloadTimer);
  reloadTimer = window.setTimeout(() => {
    loadPage(currentCursor).catch((e) => showError(messageOf(e)));
  }, 150);
}

const listSection = $('list-h').parentElement!;
const ORDER_EVENTS = new Set(['orderflow.order.created', 'orderflow.order.updated', 'orderflow.order.deleted']);
let events: EventStreamClient | null = null;

// Follows GET /events with the key in use (fetch, since EventSource cannot send a header).
function connectEvents() {
  events?.stop();
  const client = new EventStreamClient('/events', {
    headers: authHeaders,
    open: () => {
      if (client.lastEventId) listSection.dataset.live = 'on';
    },
    event: (e) => {
      if (e.type === 'ready') listSection.dataset.live = 'on';
      else if (!ORDER_EVENTS.has(e.type)) return;
      scheduleReload();
    },
    refused: async (response) => {
      listSection.dataset.live = 'off';
      if (response.status === 401) {
        const body = await response.json().catch(() => ({})) as { message?: string };
        keyRefused(body.message || 'The API key was not accepted.');
        return null;
      }
      // A non-200 answer (503 when the server has too many listeners): try again later from
      // where it stopped.
      return 5000;
    },
  });
  events = client;
  client.start();
}

function disconnectEvents() {
  events?.stop();
  events = null;
  delete listSection.dataset.live;
}

// ---- view one order ---------------------------------------------------------------------

const viewCard = $('view-card');
const viewFields = $('view-fields');
const viewPhoto = $<HTMLImageElement>('view-photo');
const viewPhotoNote = $('view-photo-note');

function describeValidation(status: string): string {
  switch (status) {
    case 'match': return 'The photo matched the description.';
    case 'mismatch': return 'The photo did not match the description; the order was confirmed anyway.';
    case 'uncertain': return 'The photo check was not sure whether it matched; the order was created anyway.';
    case 'no_description': return 'There was no description to compare the photo with.';
    case 'unavailable': return 'The photo could not be checked (image recognition was unavailable).';
    default: return status;
  }
}

async function viewOrder(orderId: string) {
  showProgress('Loading order');
  try {
    const r = await request('GET', '/orders/{orderId}', { path: { orderId } });
    const o: Order = r.body.order;
    const rows: [string, string][] = [
      ['ID', o.orderId], ['Description', o.description], ['Price', `$${formatPrice(o.price)}`],
      ['Created', new Date(o.creationDate).toLocaleString()],
      ['Last modified', new Date(o.lastModifiedDate).toLocaleString()],
    ];
    if (o.validationStatus) rows.push(['Photo check', describeValidation(o.validationStatus)]);
    if (o.detectedLabels?.length)
      rows.push(['Detected', o.detectedLabels.map((l) => `${l.name} (${Number(l.confidence).toFixed(1)}%)`).join(', ')]);
    viewFields.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    if (o.imageUrl) {
      viewPhoto.src = o.imageUrl;
      viewPhoto.hidden = false;
      viewPhotoNote.textContent = '';
    } else {
      viewPhoto.hidden = true;
      viewPhoto.removeAttribute('src');
      viewPhotoNote.textContent = o.imageKey ? 'A product photo is stored with this order (not viewable here).' : 'No product photo.';
    }
    viewCard.hidden = false;
    $('view-close').focus();
    showSuccess('Order loaded');
  } catch (e) {
    showError(messageOf(e));
  }
}
$('view-close').addEventListener('click', () => {
  viewCard.hidden = true;
  listGet.focus();
});

// ---- edit -------------------------------------------------------------------------------

const loadForm = $<HTMLFormElement>('load-form');
const editForm = $<HTMLFormElement>('edit-form');
const editId = $<HTMLInputElement>('edit-id');
const editDescription = $<HTMLInputElement>('edit-description');
const editPrice = $<HTMLInputElement>('edit-price');
const editSave = $<HTMLButtonElement>('edit-save');
const editFields = { description: 'edit-description', price: 'edit-price' };
let editing: { orderId: string; etag: string } | null = null;

function clearEditErrors() {
  setFieldError('edit-id', '');
  setFieldError('edit-description', '');
  setFieldError('edit-price', '');
  $('edit-error').textContent = '';
}

async function loadForEdit(orderId: string, focus: boolean): Promise<boolean> {
  clearEditErrors();
  showProgress('Loading order for editing');
  try {
    const r = await request('GET', '/orders/{orderId}', { path: { orderId } });
    const o: Order = r.body.order;
    editing = { orderId: o.orderId, etag: r.headers.get('ETag') ?? '' };
    editId.value = o.orderId;
    editDescription.value = o.description;
    editPrice.value = formatPrice(o.price);
    editForm.hidden = false;
    if (focus) editDescription.focus();
    showSuccess('Order loaded for editing');
    return true;
  } catch (e) {
    editForm.hidden = true;
    editing = null;
    showServerError(e, {}, 'edit-id');
    return false;
  }
}

loadForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const button = $<HTMLButtonElement>('edit-load');
  void busy(button, 'Loading…', async () => {
    if (!editId.value.trim()) return setFieldError('edit-id', 'Enter an order ID.');
    await loadForEdit(editId.value.trim(), true);
  });
});

editForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!editing) return;
  const target = editing;
  void busy(editSave, 'Saving…', async () => {
    clearEditErrors();
    showProgress('Saving changes');
    const headers: Record<string, string> = target.etag ? { 'If-Match': target.etag } : {};
    try {
      const r = await call('PATCH', '/orders/{orderId}', {
        path: { orderId: target.orderId },
        json: { description: editDescription.value, price: editPrice.value.trim() }, headers,
      });
      if (r.status === 412) {
        const message = 'This order was changed elsewhere after you opened it. The latest version is now ' +
          'shown; review it and save again.';
        await loadForEdit(target.orderId, false);
        $('edit-error').textContent = message;
        showError(message);
        return;
      }
      if (!r.ok) throw new ApiError(r.body.message || `The server answered ${r.status}`, r.status, r.body.code);
      editing = { orderId: target.orderId, etag: r.headers.get('ETag') ?? '' };
      editDescription.value = r.body.order.description;
      editPrice.value = formatPrice(r.body.order.price);
      showSuccess('Order updated');
      if (listLoaded) void loadPage(currentCursor);
    } catch (e) {
      showServerError(e, editFields);
      if (e instanceof ApiError && !$('edit-description-error').textContent && !$('edit-price-error').textContent)
        $('edit-error').textContent = e.message;
    }
  });
});

// ---- delete by ID -----------------------------------------------------------------------

const deleteForm = $<HTMLFormElement>('delete-form');
const deleteId = $<HTMLInputElement>('delete-id');
deleteForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void busy($<HTMLButtonElement>('delete-submit'), 'Deleting…', async () => {
    setFieldError('delete-id', '');
    const id = deleteId.value.trim();
    if (!id) return setFieldError('delete-id', 'Enter an order ID.');
    showProgress('Deleting order');
    try {
      const r = await request('DELETE', '/orders/{orderId}', { path: { orderId: id } });
      deleteForm.reset();
      showSuccess(r.body.message || 'Order deleted successfully');
      if (listLoaded) void loadPage(currentCursor);
    } catch (e) {
      showServerError(e, {}, 'delete-id');
    }
  });
});

// ---- e-mail subscriptions ---------------------------------------------------------------

function emailForm(formId: string, inputId: string, buttonId: string,
  path: '/subscriptions' | '/subscriptions/unsubscribe', progress: string) {
  const form = $<HTMLFormElement>(formId);
  const input = $<HTMLInputElement>(inputId);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy($<HTMLButtonElement>(buttonId), `${progress}…`, async () => {
      setFieldError(inputId, '');
      showProgress(progress);
      try {
        const r = await request('POST', path, { json: { email: input.value.trim() } });
        form.reset();
        showSuccess(r.body.message || 'Done');
      } catch (e) {
        showServerError(e, {}, inputId);
      }
    });
  });
}
emailForm('sub-form', 'sub-email', 'sub-submit', '/subscriptions', 'Subscribing');
emailForm('unsub-form', 'unsub-email', 'unsub-submit', '/subscriptions/unsubscribe', 'Unsubscribing');

// ---- report -----------------------------------------------------------------------------

const reportButton = $<HTMLButtonElement>('report-generate');
reportButton.addEventListener('click', () => {
  // Opened now, while the click still counts as a user gesture, so popup blockers allow it.
  const tab = window.open('', '_blank');
  void busy(reportButton, 'Generating…', async () => {
    showProgress('Generating the report');
    const bar = $<HTMLProgressElement>('report-progress');
    bar.value = 0;
    bar.hidden = false;
    try {
      // A job: started, then followed (a large archive takes a while) with its progress shown.
      const started = await request('POST', '/reports/deleted-orders');
      let job = started.body;
      while (job.state === 'running') {
        bar.value = job.progress.fraction;
        const rows = job.progress.total === null
          ? `${job.progress.rows} orders counted`
          : `${job.progress.rows} of ${job.progress.total} orders`;
        showProgress(`Generating the report: ${Math.round(job.progress.fraction * 100)} % (${rows})`);
        await new Promise((resolve) => setTimeout(resolve, 300));
        job = (await request('GET', '/reports/{reportId}', { path: { reportId: job.reportId } })).body;
      }
      bar.value = 1;
      if (job.state === 'failed' || !job.pdf_url) throw new Error(job.message ?? 'The report could not be made');
      const url = job.pdf_url;
      const link = el('a', { href: url, target: '_blank', rel: 'noopener', textContent: 'Open the report (PDF)' });
      $('report-link').replaceChildren(link);
      if (tab) {
        tab.opener = null;
        tab.location.href = url;
      }
      showSuccess(`Report generated: ${job.orders} deleted order${job.orders === 1 ? '' : 's'}`);
    } catch (e) {
      tab?.close();
      showError(messageOf(e));
    } finally {
      bar.hidden = true;
    }
  });
});

// ---- operator: dead deliveries ----------------------------------------------------------

const opsForm = $<HTMLFormElement>('ops-form');
const opsToken = $<HTMLInputElement>('ops-token');
const opsTable = $('ops-table');
const opsRows = $('ops-rows');
const opsSummary = $('ops-summary');
const opsRedriveAll = $<HTMLButtonElement>('ops-redrive-all');

function adminHeaders() {
  return { Authorization: `Bearer ${opsToken.value.trim()}` };
}

async function loadDead(): Promise<string> {
  const r = await request('GET', '/admin/deliveries', { query: { state: 'dead', limit: 100 }, headers: adminHeaders() });
  const list = r.body.deliveries ?? [];
  opsRows.replaceChildren(...list.map((d) => {
    const redrive = el('button', { type: 'button', textContent: 'Redrive' });
    redrive.setAttribute('aria-label', `Redrive delivery ${d.id}`);
    redrive.addEventListener('click', () => void busy(redrive, 'Redriving…', async () => {
      try {
        const rr = await request('POST', '/admin/deliveries/{deliveryId}/redrive',
          { path: { deliveryId: d.id! }, headers: adminHeaders() });
        showSuccess(`${rr.body.message || 'Redriven'} (delivery ${d.id})`);
        await loadDead();
      } catch (e) {
        showError(messageOf(e));
      }
    }));
    return el('tr', {}, el('td', {}, String(d.id)), el('td', {}, d.eventType ?? ''), el('td', {}, d.subject ?? ''),
      el('td', {}, d.subscription ?? ''), el('td', {}, String(d.attempts)), el('td', {}, d.lastError ?? ''),
      el('td', {}, redrive));
  }));
  opsTable.hidden = list.length === 0;
  opsRedriveAll.hidden = list.length === 0;
  opsSummary.textContent = list.length === 0 ? 'No dead deliveries.' : `${list.length} dead deliver${list.length === 1 ? 'y' : 'ies'}.`;
  return r.body.message ?? `Deliveries fetched: ${list.length}`;
}

opsForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void busy($<HTMLButtonElement>('ops-load'), 'Loading…', async () => {
    setFieldError('ops-token', '');
    if (!opsToken.value.trim()) return setFieldError('ops-token', 'Enter the admin token.');
    showProgress('Loading dead deliveries');
    try {
      showSuccess(await loadDead());
    } catch (e) {
      showServerError(e, {}, 'ops-token');
    }
  });
});

opsRedriveAll.addEventListener('click', () => void busy(opsRedriveAll, 'Redriving…', async () => {
  showProgress('Redriving all dead deliveries');
  try {
    const r = await request('POST', '/admin/deliveries/redrive', { query: { state: 'dead' }, headers: adminHeaders() });
    await loadDead();
    showSuccess(r.body.message || 'Redriven');
  } catch (e) {
    showError(messageOf(e));
  }
}));

// ---- API keys ---------------------------------------------------------------------------

// The key is kept for this tab only (sessionStorage), never in localStorage or a cookie.
const KEY_STORAGE = 'orderflow.apiKey';
const app = $('app');
const keyPrompt = $('key-prompt');
const keyForm = $<HTMLFormElement>('key-form');
const keyInput = $<HTMLInputElement>('key-input');
const keyBar = $('key-bar');
const keySummary = $('key-summary');

// What the page may do. Until the server has said, everything is shown as today; a 401 then
// brings the prompt.
let scopes = new Set(['orders:read', 'orders:write', 'reports:read']);

function may(scope: string): boolean {
  return scopes.has(scope) || scopes.has('admin');
}

function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;  // storage disabled: the key lasts until the page reloads
  }
}

function storeKey(key: string | null) {
  try {
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // storage disabled: nothing to keep
  }
}

// Enables what the scopes allow and says why the rest is off.
function applyScopes() {
  for (const node of document.querySelectorAll<HTMLButtonElement | HTMLFieldSetElement>('[data-needs]'))
    node.disabled = !may(node.dataset.needs!);
  for (const note of document.querySelectorAll<HTMLElement>('[data-lacks]'))
    note.hidden = may(note.dataset.lacks!);
}

// Starts the page with what the session allows: keys are in use when the server requires them.
function begin(session: Session, key: string | null) {
  useKey(key);
  scopes = new Set(session.scopes);
  applyScopes();
  keyPrompt.hidden = true;
  app.hidden = false;
  if (key) {
    const who = session.keyId ? `Key ofk_${session.keyId}_…` : 'Admin token';
    keySummary.textContent = `${who} · scopes: ${session.scopes.join(', ') || 'none'}`;
    keyBar.hidden = false;
  } else {
    keyBar.hidden = true;
  }
  if (may('orders:read')) connectEvents();
  else disconnectEvents();
}

// Hides everything that needs a key and asks for one; `message` says why the last one failed.
function askForKey(message: string) {
  useKey(null);
  disconnectEvents();
  window.clearTimeout(reloadTimer);
  listGeneration += 1;  // a load still running must not show its answer
  listLoaded = false;
  orderList.replaceChildren();
  listSummary.textContent = '';
  listNext.hidden = true;
  listFirst.hidden = true;
  viewCard.hidden = true;
  editForm.hidden = true;
  editing = null;
  keyBar.hidden = true;
  app.hidden = true;
  keyPrompt.hidden = false;
  setFieldError('key-input', message);
  keyInput.value = '';
  keyInput.focus();
}

// A request with the key in use was answered 401 (revoked, expired, or keys became required).
function keyRefused(message: string) {
  if (!keyPrompt.hidden) return;  // already asking (two requests were refused)
  storeKey(null);
  askForKey(message);
}
onUnauthorized(keyRefused);

keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void busy($<HTMLButtonElement>('key-submit'), 'Checking…', async () => {
    setFieldError('key-input', '');
    const key = keyInput.value.trim();
    if (!key) return setFieldError('key-input', 'Enter an API key.');
    try {
      const session = await fetchSession(key);
      if (!session.keysRequired) {
        begin(session, null);
        showSuccess('This server does not ask for API keys.');
      } else if (!session.authenticated) {
        setFieldError('key-input', 'This key was not accepted: it is unknown, revoked or expired.');
        keyInput.select();
      } else {
        storeKey(key);
        keyInput.value = '';
        begin(session, key);
        showSuccess(`Key accepted: ${session.scopes.join(', ') || 'no scopes'}`);
      }
    } catch (e) {
      setFieldError('key-input', messageOf(e));
    }
  });
});

$('key-forget').addEventListener('click', () => {
  storeKey(null);
  askForKey('');
  showSuccess('Key forgotten');
});

async function start() {
  const key = storedKey();
  try {
    let session = await fetchSession(key);
    if (!session.keysRequired) {
      // No prompt and no key, as before keys existed; a key left from another mode is not sent.
      if (key) session = await fetchSession(null);
      return begin(session, null);
    }
    if (key && session.authenticated) return begin(session, key);
    if (key) storeKey(null);
    askForKey(key ? 'The key kept for this tab was not accepted: it is unknown, revoked or expired.' : '');
  } catch (e) {
    // The server could not say: work as before; a 401 later brings the prompt.
    showError(messageOf(e));
    connectEvents();
  }
}
void start();
