// The web app's text/event-stream parser (web/src/sse.ts) on its own, in Node: the cases a real
// server rarely produces (a line break split between chunks, CR line ends, comments, fields
// without a value) that the browser tests cannot steer. The module is compiled with the web
// app's own TypeScript.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const ts = createRequire(path.join(web, 'package.json'))('typescript');
const source = fs.readFileSync(path.join(web, 'src/sse.ts'), 'utf8');
const { outputText } = ts.transpileModule(source, {
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
});
const { EventStreamParser, readEventStream } = await import(`data:text/javascript,${encodeURIComponent(outputText)}`);

// Feeds `chunks` in order; answers the events and the parser.
function parse(chunks, lastEventId) {
  const events = [];
  const parser = new EventStreamParser((e) => events.push(e), lastEventId);
  for (const chunk of chunks) parser.push(chunk);
  return { events, parser };
}

test('the server\'s answers: retry, ready, events with ids, a comment', () => {
  const { events, parser } = parse([
    'retry: 1000\nid: 7\nevent: ready\ndata: {}\n\n',
    ': no new events\n\n',
    'id: 8\nevent: orderflow.order.created\ndata: {"a":1}\n\n',
  ]);
  assert.deepEqual(events, [
    { type: 'ready', data: '{}', id: '7' },
    { type: 'orderflow.order.created', data: '{"a":1}', id: '8' },
  ]);
  assert.equal(parser.retry, 1000);
  assert.equal(parser.lastEventId, '8');
});

test('a line and its line break split between chunks, in every place', () => {
  const text = 'id: 12\r\nevent: x\r\ndata: one\r\ndata: two\r\n\r\nid: 13\rdata: three\r\r';
  for (let cut = 0; cut <= text.length; ++cut) {
    const { events } = parse([text.slice(0, cut), text.slice(cut)]);
    assert.deepEqual(events, [
      { type: 'x', data: 'one\ntwo', id: '12' },
      { type: 'message', data: 'three', id: '13' },
    ], `cut at ${cut}`);
  }
  const oneByOne = parse([...text]);
  assert.equal(oneByOne.events.length, 2);
});

test('field rules: one leading space is dropped, no colon means no value, unknown fields are ignored', () => {
  const { events, parser } = parse([
    'data:no space\ndata:  two spaces\ndata\nfoo: bar\nretry: soon\n\n',
    'event: only a type\n\n',  // no data: nothing is dispatched, and the type does not carry over
    'data: after\n\n',
  ]);
  assert.deepEqual(events, [
    { type: 'message', data: 'no space\n two spaces\n', id: '' },
    { type: 'message', data: 'after', id: '' },
  ]);
  assert.equal(parser.retry, null, 'a retry that is not a number is ignored');
});

test('ids carry over; an id with NUL is ignored; an empty id resets', () => {
  const { events, parser } = parse(['id: 5\n\n', 'data: a\n\n', 'id: 6\0x\ndata: b\n\n', 'id\ndata: c\n\n'], '3');
  assert.deepEqual(events.map((e) => e.id), ['5', '5', '']);
  assert.equal(parser.lastEventId, '');
  assert.equal(parse([': hello\n'], '3').parser.lastEventId, '3', 'the position given is kept');
});

test('reading a body: UTF-8 split inside a character, a byte order mark, an unfinished event dropped', async () => {
  const bytes = new TextEncoder().encode('\uFEFFdata: café ☕\n\nid: 9\ndata: cut off');
  const body = new ReadableStream({
    start(controller) {
      for (const b of bytes) controller.enqueue(Uint8Array.of(b));
      controller.close();
    },
  });
  const events = [];
  const parser = new EventStreamParser((e) => events.push(e));
  await readEventStream(body, parser);
  assert.deepEqual(events, [{ type: 'message', data: 'café ☕', id: '' }]);
  assert.equal(parser.lastEventId, '', 'the unfinished event\'s id was not dispatched');
});
