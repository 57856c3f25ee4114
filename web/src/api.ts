// A thin client for the orderflow HTTP API: every call answers with the status, the parsed
// JSON body and the headers, and the server's own message when it failed.

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

export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { json?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
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
  return { ok: response.ok, status: response.status, body: parsed, headers: response.headers };
}

// Like call(), but a non-2xx answer throws ApiError carrying the server's message.
export async function request<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { json?: unknown; headers?: Record<string, string> } = {},
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
