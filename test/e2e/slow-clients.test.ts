// Slow and piled-up clients: a body trickled in, headers never finished, more
// sockets than the server will hold. Each is closed by the server (408, or at
// once past the connection cap), and the service keeps answering others.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers.js';

let t: TestServer;
let port: number;
beforeAll(async () => {
  t = await startTestServer({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_MAX_CONNECTIONS: '40' });
  port = Number(new URL(t.url).port);
});
afterAll(() => t?.close());

/** A raw socket: what it received, and when it was closed (ms after opening). */
function rawClient() {
  const socket = net.connect(port, '127.0.0.1');
  const opened = Date.now();
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)));
  return { socket, closed, received: () => received };
}

describe('slow clients', () => {
  it('answers 408 to a body sent one byte at a time, at the request timeout, not when the client is done', async () => {
    const client = rawClient();
    const body = JSON.stringify({ email: 'slow@example.com', password: 'password-sent-slowly' });
    client.socket.write(`POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    let sent = 0;
    // One byte every 250 ms: the whole body would take more than 12 s.
    const trickle = setInterval(() => {
      if (sent < body.length && !client.socket.destroyed) client.socket.write(body[sent++]!);
    }, 250);
    const closedAfterMs = await client.closed;
    clearInterval(trickle);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(sent).toBeLessThan(body.length);
    // HTTP_REQUEST_TIMEOUT_MS=2000, checked every second: well before the client would have finished.
    expect(closedAfterMs).toBeLessThan(6_000);
  });

  it('closes sockets whose headers never finish, and keeps serving /healthz meanwhile', async () => {
    const stalled = Array.from({ length: 30 }, () => rawClient());
    for (const c of stalled) c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    await fetch(`${t.url}/healthz`).then((r) => expect(r.status).toBe(200));
    const closedAfter = await Promise.all(stalled.map((c) => c.closed));
    for (const c of stalled) expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(Math.max(...closedAfter)).toBeLessThan(6_000);
  });

  it('closes connections past HTTP_MAX_CONNECTIONS at once, and serves again once they are gone', async () => {
    const idle = Array.from({ length: 40 }, () => rawClient());
    await Promise.all(idle.map((c) => new Promise((resolve) => c.socket.once('connect', resolve))));
    await new Promise((r) => setTimeout(r, 100)); // the server has counted them
    const extra = rawClient();
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await extra.closed).toBeLessThan(1_000);
    expect(extra.received()).toBe('');
    for (const c of idle) c.socket.destroy();
    await Promise.all(idle.map((c) => c.closed));
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
