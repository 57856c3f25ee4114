// Server-Sent Events over fetch(): unlike EventSource, fetch can send an Authorization header.
// EventStreamParser reads a text/event-stream body as the HTML standard's "event stream
// interpretation" says; EventStreamClient keeps one GET /events open at a time and reconnects
// from the last event id, as EventSource would.

export interface StreamEvent {
  type: string;  // the `event:` field, "message" when there was none
  data: string;  // the `data:` lines, joined with "\n"
  id: string;    // the last event id when the event was dispatched
}

export class EventStreamParser {
  // The last `id:` seen (it carries over to later events and to the next connection).
  lastEventId: string;
  // The reconnection delay the server asked for with `retry:`, in milliseconds, if it did.
  retry: number | null = null;

  private readonly onEvent: (event: StreamEvent) => void;
  private idBuffer: string;
  private type = '';
  private data: string[] = [];
  private partial = '';      // the text after the last line break
  private skipLF = false;    // the last chunk ended in CR: a LF opening the next one ends no line

  constructor(onEvent: (event: StreamEvent) => void, lastEventId = '') {
    this.onEvent = onEvent;
    this.lastEventId = lastEventId;
    this.idBuffer = lastEventId;
  }

  // Feeds decoded text; complete lines are interpreted at once, a partial one waits for more.
  push(text: string): void {
    if (this.skipLF && text.startsWith('\n')) text = text.slice(1);
    this.skipLF = false;
    const scanFrom = this.partial.length;  // the partial line holds no line break
    const buffer = this.partial + text;
    let start = 0;
    for (let i = scanFrom; i < buffer.length; ++i) {
      const ch = buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      const line = buffer.slice(start, i);
      if (ch === '\r') {
        if (i + 1 === buffer.length) this.skipLF = true;
        else if (buffer[i + 1] === '\n') ++i;
      }
      start = i + 1;
      this.line(line);
    }
    this.partial = buffer.slice(start);
  }

  // The body ended: an event without its closing blank line is dropped, as the standard says.
  end(): void {
    this.partial = '';
    this.skipLF = false;
    this.type = '';
    this.data = [];
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return;  // a comment (the server's keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;  // unknown fields are ignored
    }
  }

  private dispatch(): void {
    this.lastEventId = this.idBuffer;
    const { type, data } = this;
    this.type = '';
    this.data = [];
    if (data.length === 0) return;  // only an id, a retry or nothing: no event
    this.onEvent({ type: type || 'message', data: data.join('\n'), id: this.lastEventId });
  }
}

// Reads a response body to its end through the parser.
export async function readEventStream(body: ReadableStream<Uint8Array>, parser: EventStreamParser): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();  // UTF-8; drops a leading byte order mark
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
    parser.end();
  } finally {
    reader.releaseLock();
  }
}

export interface EventStreamHandlers {
  headers(): Record<string, string>;  // sent with every request (the Authorization header)
  open(): void;                       // a request was answered with an event stream
  event(event: StreamEvent): void;
  // A request was answered with something else (401, 503...): how many milliseconds to wait
  // before trying again, or null to stop.
  refused(response: Response): Promise<number | null>;
}

// One GET at a time; when an answer ends (the server answers each request after at most one
// wait), the next request asks for what came after the last event id, `retry` ms later.
export class EventStreamClient {
  private readonly url: string;
  private readonly handlers: EventStreamHandlers;
  private readonly abort = new AbortController();
  private position = '';
  private retry = 1000;

  constructor(url: string, handlers: EventStreamHandlers) {
    this.url = url;
    this.handlers = handlers;
  }

  // The id of the last event received ("" before the first).
  get lastEventId(): string {
    return this.position;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.abort.abort();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let delay = 0;
    while (!signal.aborted) {
      if (delay > 0 && !(await sleep(delay, signal))) return;
      delay = this.retry;
      const headers: Record<string, string> = { Accept: 'text/event-stream', ...this.handlers.headers() };
      if (this.position) headers['Last-Event-ID'] = this.position;
      let response: Response;
      try {
        response = await fetch(this.url, { headers, signal, cache: 'no-store' });
      } catch {
        continue;  // unreachable: try again after the reconnection delay, as EventSource does
      }
      const type = response.headers.get('Content-Type') ?? '';
      if (response.status !== 200 || !type.startsWith('text/event-stream') || !response.body) {
        const wait = await this.handlers.refused(response);
        if (!response.bodyUsed) void response.body?.cancel().catch(() => {});
        if (wait === null) return;
        delay = wait;
        continue;
      }
      this.handlers.open();
      const parser = new EventStreamParser((event) => {
        this.position = event.id;
        if (!signal.aborted) this.handlers.event(event);
      }, this.position);
      try {
        await readEventStream(response.body, parser);
      } catch {
        // the connection broke mid-answer: reconnect from what arrived
      }
      this.position = parser.lastEventId;
      if (parser.retry !== null) this.retry = parser.retry;
      delay = this.retry;
    }
  }
}

// Resolves true after `ms`, or false as soon as `signal` aborts.
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
