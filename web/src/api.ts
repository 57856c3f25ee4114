// A thin client for the orderflow HTTP API: every call answers with the status, the parsed
// JSON body and the headers, and the server's own message when it failed. Every call sends the
// API key in use (useKey); a 401 to one of them is reported to onUnauthorized.

export interface Order {
  orderId: string;
  description: string;
  price: number;
  creationDate: string;
  lastModifiedDate: string;
  imageKey?: string;
  imageUrl?: string;
  detectedLabels?: { name: string; confidence: number }[];
  validationStatus?: string;
}

export interface ApiResult<T> {
  ok: boolean;
  status: number;
  body: T & { status?: string; message?: string; code?: string };
  headers: Headers;
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly code: string | undefined) {
    super(message);
  }
}

// What GET /auth/session says about the server and the key sent with it.
export interface Session {
  keysRequired: boolean;
  authenticated: boolean;
  keyRejected: boolean;
  keyId: string | null;
  scopes: string[];
}

let apiKey: string | null = null;
let unauthorized: (message: string) => void = () => {};

// The key sent as `Authorization: Bearer <key>` from now on (null: none).
export function useKey(key: string | null): void {
  apiKey = key;
}

// Called when a request that carried no Authorization of its own (so the key in use, or none)
// is answered 401, with the server's message.
export function onUnauthorized(handler: (message: string) => void): void {
  unauthorized = handler;
}

export function authHeaders(): Record<string, string> {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}

// GET /auth/session with `key` (or none), whatever key is in use.
export async function fetchSession(key: string | null): Promise<Session> {
  const r = await call<Session>('GET', '/auth/session', { key });
  if (!r.ok) {
    // A server without API keys (or without this route) works as before.
    if (r.status === 404) return { keysRequired: false, authenticated: false, keyRejected: false, keyId: null,
      scopes: ['orders:read', 'orders:write', 'reports:read'] };
    throw new ApiError(r.body.message || `The server answered ${r.status}`, r.status, r.body.code);
  }
  return r.body;
}

interface CallOptions {
  json?: unknown;
  headers?: Record<string, string>;  // an Authorization here replaces the key in use
  key?: string | null;               // the key to send instead of the one in use
}

export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResult<T>> {
  const ownAuthorization = Object.keys(options.headers ?? {}).some((h) => h.toLowerCase() === 'authorization');
  const key = options.key === undefined ? apiKey : options.key;
  const headers: Record<string, string> = {
    Accept: 'application/json',
    ...(key ? { Authorization: `Bearer ${key}` } : {}),
    ...options.headers,
  };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch {
    throw new ApiError('The server could not be reached. Check your connection and try again.', 0, 'network');
  }
  const text = await response.text();
  let parsed: ApiResult<T>['body'];
  try {
    parsed = text ? JSON.parse(text) : ({} as ApiResult<T>['body']);
  } catch {
    parsed = { message: text.slice(0, 200) } as ApiResult<T>['body'];
  }
  if (response.status === 401 && !ownAuthorization && options.key === undefined)
    unauthorized(parsed.message || 'This page needs an API key.');
  return { ok: response.ok, status: response.status, body: parsed, headers: response.headers };
}

// Like call(), but a non-2xx answer throws ApiError carrying the server's message.
export async function request<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResult<T>> {
  const result = await call<T>(method, path, options);
  if (!result.ok) {
    throw new ApiError(result.body.message || `The server answered ${result.status}`, result.status, result.body.code);
  }
  return result;
}

// "12.5" -> 12.5 with two decimals shown; the API writes prices with exactly two.
export function formatPrice(price: number): string {
  return Number(price).toFixed(2);
}
