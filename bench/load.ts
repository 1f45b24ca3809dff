// HTTP load with autocannon: the charge flow (create order → sandbox authorize
// → confirm) and GET /api/wallet, one user per connection.
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
  orderId?: string;
  transactionId?: string;
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

export async function runFlows(baseUrl: string, users: BenchUser[], concurrency: number, seconds: number): Promise<FlowRun> {
  return summarizeFlows([await driveFlows(baseUrl, users, concurrency, seconds)]);
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

export async function driveFlows(baseUrl: string, users: BenchUser[], concurrency: number, seconds: number): Promise<FlowSamples> {
  const samples = { order: [] as number[], authorize: [] as number[], confirm: [] as number[] };
  const tokenOf = tokenPicker(users);
  let flows = 0;
  const json = { 'content-type': 'application/json' };
  // Each request stamps its send time; its response closes the sample (one request in flight per connection).
  const stamp = (context: FlowContext) => {
    context.sentAt = performance.now();
  };
  const took = (context: FlowContext) => performance.now() - context.sentAt!;

  const result = await run({
    ...loadOptions(baseUrl, concurrency, seconds),
    requests: [
      {
        method: 'POST',
        path: '/api/payment/order',
        setupRequest: (req, context: FlowContext) => {
          stamp(context);
          return { ...req, headers: { ...json, authorization: `Bearer ${tokenOf(context)}` }, body: JSON.stringify({ amount: ORDER_AMOUNT, paymentMethod: 'Card' }) };
        },
        onResponse: (status, body, context: FlowContext) => {
          samples.order.push(took(context));
          if (status === 201) context.orderId = JSON.parse(body).data.orderID;
        },
      },
      {
        method: 'POST',
        path: '/sandbox/danal/authorize',
        setupRequest: (req, context: FlowContext) => {
          stamp(context);
          return { ...req, headers: json, body: JSON.stringify({ orderId: context.orderId, amount: ORDER_AMOUNT, method: 'CARD' }) };
        },
        onResponse: (status, body, context: FlowContext) => {
          samples.authorize.push(took(context));
          if (status === 201) context.transactionId = JSON.parse(body).transactionId;
        },
      },
      {
        method: 'POST',
        path: '/api/payment/confirm',
        setupRequest: (req, context: FlowContext) => {
          stamp(context);
          return {
            ...req,
            headers: { ...json, authorization: `Bearer ${context.token}` },
            body: JSON.stringify({ orderID: context.orderId, transactionID: context.transactionId, method: 'CARD' }),
          };
        },
        onResponse: (status, _body, context: FlowContext) => {
          samples.confirm.push(took(context));
          if (status === 200) flows += 1;
        },
      },
    ],
  });
  return { concurrency, seconds: result.duration, flows, errors: errorsOf(result), samples };
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
