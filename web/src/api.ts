// A thin client for the orderflow HTTP API, typed by the OpenAPI document: the path, method,
// path and query parameters and JSON body of every call are checked against
// src/runtime/openapi.json (through src/generated/openapi.ts, made by `npm run generate`), and
// the answer's body has the type of its 2xx JSON response. Every call answers with the status,
// the parsed body and the headers, and the server's own message when it failed. Every call sends
// the API key in use (useKey); a 401 to one of them is reported to onUnauthorized.
import type { components, paths } from './generated/openapi';

export type Schemas = components['schemas'];
export type ErrorBody = Schemas['Error'];
export type Order = Schemas['Order'];

// POST /images/recognize: the check alone (200) or the order it created (201).
type RecognizeAnswer = SuccessBody<'POST', '/images/recognize'>;
export type RecognitionCheck = Extract<RecognizeAnswer, { status: 'validation_only' }>;
export type RecognizedOrder = Extract<RecognizeAnswer, { status: 'success' }>;

// ---- the operations of the spec ---------------------------------------------------------

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Operation<M extends Method, P extends keyof paths> = NonNullable<paths[P][Lowercase<M>]>;
// The paths that have method M.
export type PathsFor<M extends Method> = {
  [P in keyof paths]: paths[P][Lowercase<M>] extends { responses: unknown } ? P : never;
}[keyof paths];

type JsonContent<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type SuccessStatus = 200 | 201 | 202 | 204;
export type SuccessBody<M extends Method, P extends PathsFor<M>> = Operation<M, P> extends { responses: infer R }
  ? { [S in keyof R]: S extends SuccessStatus ? JsonContent<R[S]> : never }[keyof R]
  : never;
type RequestJson<O> = O extends { requestBody?: infer B } ? JsonContent<NonNullable<B>> : never;
type Parameters<O, In extends 'path' | 'query'> = O extends { parameters: { [K in In]?: infer Q } } ? Q : never;

// The options a call of M P takes: `path` when it has path parameters, `query` when it has query
// parameters (in the order they are written in the URL), `json` when it takes a JSON body.
export type CallOptions<M extends Method, P extends PathsFor<M>> = {
  headers?: Record<string, string>;  // an Authorization here replaces the key in use
  key?: string | null;               // the key to send instead of the one in use
} & OptionalUnlessRequired<'path', Parameters<Operation<M, P>, 'path'>>
  & OptionalUnlessRequired<'query', Parameters<Operation<M, P>, 'query'>>
  & OptionalUnlessRequired<'json', RequestJson<Operation<M, P>>>;
// [never] extends [undefined] too; `[T] extends [never] | [undefined]` would be resolved too
// early by tsc 5.9 and always say "none".
type OptionalUnlessRequired<K extends string, T> = [T] extends [undefined]
  ? { [_ in K]?: never }
  : undefined extends T ? { [_ in K]?: T } : {} extends T ? { [_ in K]?: T } : { [_ in K]: T };

export type ApiResult<T> =
  | { ok: true; status: number; body: T; headers: Headers }
  // The Error schema when the server answered; a body that was not JSON gives its start as message.
  | { ok: false; status: number; body: Partial<ErrorBody>; headers: Headers };

export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly code: string | undefined) {
    super(message);
  }
}

// What GET /auth/session says about the server and the key sent with it.
export type Session = SuccessBody<'GET', '/auth/session'>;

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
  const r = await call('GET', '/auth/session', { key });
  if (!r.ok) {
    // A server without API keys (or without this route) works as before.
    if (r.status === 404) return { keysRequired: false, authenticated: false, keyRejected: false, keyId: null,
      scopes: ['orders:read', 'orders:write', 'reports:read'] };
    throw new ApiError(r.body.message || `The server answered ${r.status}`, r.status, r.body.code);
  }
  return r.body;
}

// `/orders/{orderId}` with `path: { orderId }` -> /orders/<orderId, percent-encoded>, then the query.
function urlOf(template: string, path: object | undefined, query: object | undefined): string {
  let url = template.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodeURIComponent(String((path as Record<string, unknown> | undefined)?.[name])));
  const entries = Object.entries(query ?? {}).filter(([, v]) => v !== undefined);
  if (entries.length) url += `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}`;
  return url;
}

export async function call<M extends Method, P extends PathsFor<M>>(
  method: M,
  path: P,
  ...[options = {} as CallOptions<M, P>]: {} extends CallOptions<M, P> ? [CallOptions<M, P>?] : [CallOptions<M, P>]
): Promise<ApiResult<SuccessBody<M, P>>> {
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
    response = await fetch(urlOf(path, options.path, options.query), { method, headers, body });
  } catch {
    throw new ApiError('The server could not be reached. Check your connection and try again.', 0, 'network');
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { message: text.slice(0, 200) };
  }
  const result = { ok: response.ok, status: response.status, body: parsed, headers: response.headers } as
    ApiResult<SuccessBody<M, P>>;
  if (response.status === 401 && !ownAuthorization && options.key === undefined)
    unauthorized((parsed as Partial<ErrorBody>).message || 'This page needs an API key.');
  return result;
}

// Like call(), but a non-2xx answer throws ApiError carrying the server's message.
export async function request<M extends Method, P extends PathsFor<M>>(
  method: M,
  path: P,
  ...options: {} extends CallOptions<M, P> ? [CallOptions<M, P>?] : [CallOptions<M, P>]
): Promise<ApiResult<SuccessBody<M, P>> & { ok: true }> {
  const result = await call(method, path, ...options);
  if (!result.ok) {
    throw new ApiError(result.body.message || `The server answered ${result.status}`, result.status, result.body.code);
  }
  return result;
}

// "12.5" -> 12.5 with two decimals shown; the API writes prices with exactly two.
export function formatPrice(price: number): string {
  return Number(price).toFixed(2);
}
