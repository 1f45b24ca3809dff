// HTTP load: the charge flow (create order → sandbox authorize → confirm) over
// keep-alive agents, and GET /api/wallet with autocannon, one user per connection.
import http from 'node:http';
import https from 'node:https';
import autocannon from 'autocannon';

export interface BenchUser {
  userId: string;
  token: string;
}

export interface LatencyMs {
  p50: number;
  p95: number;
  p99: number;
}

export interface FlowRun {
  concurrency: number;
  seconds: number;
  flows: number;
  flowsPerSec: number;
  errors: number;
  latencyMs: { order: LatencyMs; authorize: LatencyMs; confirm: LatencyMs };
}

export interface WalletRun {
  concurrency: number;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  errors: number;
  latencyMs: LatencyMs;
}

const ORDER_AMOUNT = 10_000;

function percentiles(samples: number[]): LatencyMs {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! * 100) / 100 : 0);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** Non-2xx answers, socket errors and timeouts: every one is an error. */
const errorsOf = (result: autocannon.Result) => result.errors + result.timeouts + result.non2xx + (result.mismatches ?? 0);

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** What every run shares: closed loop, one request in flight per connection, for `seconds`. */
const loadOptions = (baseUrl: string, concurrency: number, seconds: number) => ({
  url: baseUrl,
  connections: concurrency,
  duration: seconds,
  pipelining: 1,
  timeout: 30,
});

/** Each connection is one user: the first request of a connection picks the next user's token. */
function tokenPicker(users: BenchUser[]) {
  let nextUser = 0;
  return (context: FlowContext) => (context.token ??= users[nextUser++ % users.length]!.token);
}

interface FlowContext {
  token?: string;
  sentAt?: number;
}

/** What one stretch of flows produced, before percentiles: stretches of one side can be added up. */
export interface FlowSamples {
  concurrency: number;
  seconds: number;
  flows: number;
  errors: number;
  samples: { order: number[]; authorize: number[]; confirm: number[] };
}

/** Where one flow's requests go: the service, and the Danal sandbox for the buyer's authorize step. */
export interface FlowTarget {
  serviceUrl: string;
  /** The sandbox's Danal API (https), and the CA its certificate is signed by. */
  danalApiBase: string;
  ca: Buffer;
}

export async function runFlows(target: FlowTarget, users: BenchUser[], concurrency: number, seconds: number): Promise<FlowRun> {
  return summarizeFlows([await driveFlows(target, users, concurrency, seconds)]);
}

/** Several stretches of the same flows as one run: flows and time added, latencies pooled. */
export function summarizeFlows(stretches: FlowSamples[]): FlowRun {
  const sum = (pick: (s: FlowSamples) => number) => stretches.reduce((total, s) => total + pick(s), 0);
  const pooled = (key: keyof FlowSamples['samples']) => percentiles(stretches.flatMap((s) => s.samples[key]));
  const seconds = sum((s) => s.seconds);
  const flows = sum((s) => s.flows);
  return {
    concurrency: stretches[0]!.concurrency,
    seconds,
    flows,
    flowsPerSec: Math.round((flows / seconds) * 10) / 10,
    errors: sum((s) => s.errors),
    latencyMs: { order: pooled('order'), authorize: pooled('authorize'), confirm: pooled('confirm') },
  };
}

/** One POST with a JSON body over a keep-alive agent: the status and the parsed answer. */
function postJson(agent: http.Agent, url: string, body: unknown, token?: string): Promise<{ status: number; json: any }> {
  const text = JSON.stringify(body);
  const send = url.startsWith('https:') ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(token && { authorization: `Bearer ${token}` }) },
      },
      (res) => {
        let answer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (answer += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode!, json: JSON.parse(answer) });
          } catch {
            resolve({ status: res.statusCode!, json: undefined });
          }
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(text);
  });
}

/**
 * The charge flow in a closed loop, one flow in flight per connection and each
 * connection one user: create order at the service → authorize at the Danal
 * sandbox, as the buyer's browser does at Danal → confirm at the service. Two
 * hosts in one flow, which autocannon cannot drive, so keep-alive agents of
 * node:http and node:https do (the load generator's CPU is measured either way).
 */
export async function driveFlows(target: FlowTarget, users: BenchUser[], concurrency: number, seconds: number): Promise<FlowSamples> {
  const samples = { order: [] as number[], authorize: [] as number[], confirm: [] as number[] };
  const service = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const danal = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: target.ca });
  let flows = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const timed = async <T>(into: number[], step: () => Promise<T>): Promise<T> => {
    const sentAt = performance.now();
    const result = await step();
    into.push(performance.now() - sentAt);
    return result;
  };

  async function connection(user: BenchUser) {
    while (performance.now() < deadline) {
      try {
        const order = await timed(samples.order, () => postJson(service, `${target.serviceUrl}/api/payment/order`, { amount: ORDER_AMOUNT, paymentMethod: 'Card' }, user.token));
        if (order.status !== 201) {
          errors++;
          continue;
        }
        const orderId = order.json.data.orderID as string;
        const auth = await timed(samples.authorize, () => postJson(danal, `${target.danalApiBase}/authorize`, { orderId, amount: ORDER_AMOUNT, method: 'CARD' }));
        if (auth.status !== 201) {
          errors++;
          continue;
        }
        const confirmed = await timed(samples.confirm, () =>
          postJson(service, `${target.serviceUrl}/api/payment/confirm`, { orderID: orderId, transactionID: auth.json.transactionId, method: 'CARD' }, user.token),
        );
        if (confirmed.status === 200) flows += 1;
        else errors++;
      } catch {
        errors++;
      }
    }
  }

  await Promise.all(Array.from({ length: concurrency }, (_, i) => connection(users[i % users.length]!)));
  service.destroy();
  danal.destroy();
  return { concurrency, seconds: Math.round((performance.now() - started) / 10) / 100, flows, errors, samples };
}

export async function runWalletReads(baseUrl: string, users: BenchUser[], concurrency: number, seconds: number): Promise<WalletRun> {
  const tokenOf = tokenPicker(users);
  const samples: number[] = [];
  const result = await run({
    ...loadOptions(baseUrl, concurrency, seconds),
    requests: [
      {
        method: 'GET',
        path: '/api/wallet',
        setupRequest: (req, context: FlowContext) => {
          context.sentAt = performance.now();
          return { ...req, headers: { authorization: `Bearer ${tokenOf(context)}` } };
        },
        onResponse: (_status, _body, context: FlowContext) => {
          samples.push(performance.now() - context.sentAt!);
        },
      },
    ],
  });
  return {
    concurrency,
    seconds: result.duration,
    requests: result.requests.total,
    requestsPerSec: Math.round((result.requests.total / result.duration) * 10) / 10,
    errors: errorsOf(result),
    latencyMs: percentiles(samples),
  };
}
