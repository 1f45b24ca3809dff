// A reference for `npm run bench -- --reference`: the charge flow's database
// work with as little else as possible, so that the service's throughput can be
// read against what the same statements allow on the same machine at the same
// moment. Not a product: no validation, no error answers worth the name, no
// logs, no rate limits, no idempotency, no reconciliation.
//
// It sends the service's own statements (the repository functions of src/),
// verifies the same JWTs, and calls the same Danal stand-in over https (the
// buyer's authorize step goes to that stand-in, as for the service). REFERENCE
// picks how it is served:
//   bare     node:http, the body read by hand, Danal through https.request;
//   express  Express 5 with express.json() and one route per endpoint, Danal
//            through axios: the owner's stack before any of our own code.
import http from 'node:http';
import https from 'node:https';
import pg from 'pg';
import axios from 'axios';
import express from 'express';
import type { Db } from '../src/db/prisma.js';
import { createOrder, findOwnOrder, claimForConfirm } from '../src/payments/order-repository.js';
import { newOrderId, pointsFor, receiptSplit } from '../src/payments/order-policy.js';
import { payOrderAndCredit, readWallet } from '../src/wallet/wallet-ledger.js';
import { verifyAccessToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';

const kind = process.env.REFERENCE;
if (kind !== 'bare' && kind !== 'express') throw new Error('REFERENCE must be bare or express');
// The service's own configuration, from the same environment the bench gives the service.
const config = loadConfig();
const danalBase = config.danal.apiBase!;
// The repository functions only use the pool: no Prisma client in this process.
const db = { pool: new pg.Pool({ connectionString: config.database.url, max: config.database.poolSize }) } as unknown as Db;

type Answer = { status: number; body: unknown };
type DanalCall = (payload: Record<string, string>) => Promise<{ code?: string; amount?: string }>;

const userOf = (authorization: string | undefined) => {
  const check = verifyAccessToken((authorization ?? '').replace(/^Bearer /, ''), config.jwt);
  return check.ok ? check.userId : undefined;
};

/** The flow's steps, the same statements in the same order as the service's. */
function endpoints(callDanal: DanalCall) {
  return {
    async order(userId: string, body: { amount: number; paymentMethod: 'Card' }): Promise<Answer> {
      const order = await createOrder(db, {
        id: newOrderId(),
        userId,
        orderName: config.orders.orderName,
        amount: body.amount,
        pointAmount: pointsFor(body.amount, config.orders),
        ...receiptSplit(body.amount),
        paymentMethod: body.paymentMethod,
        expiresAt: new Date(Date.now() + config.orders.ttlMinutes * 60_000),
      });
      return { status: 201, body: { data: { orderID: order.id, amount: order.amount } } };
    },
    async confirm(userId: string, body: { orderID: string; transactionID: string; method: string }): Promise<Answer> {
      const order = await findOwnOrder(db, body.orderID, userId);
      if (!order) return { status: 404, body: {} };
      if (!(await claimForConfirm(db, order.id, body.transactionID, body.method, new Date()))) return { status: 409, body: {} };
      const answer = await callDanal({
        method: body.method,
        transactionId: body.transactionID,
        merchantId: config.danal.merchantId,
        amount: String(order.amount),
        orderId: order.id,
      });
      if (answer.code !== 'SUCCESS' || Number(answer.amount) !== order.amount) return { status: 502, body: {} };
      const balance = await payOrderAndCredit(db, order.id, new Date());
      return { status: 200, body: { data: { orderID: order.id, status: 'Paid', balance } } };
    },
    async wallet(userId: string): Promise<Answer> {
      return { status: 200, body: { data: await readWallet(db, userId) } };
    },
  };
}

const danalHeaders = {
  authorization: `Basic ${Buffer.from(`${config.danal.secretKey}:`).toString('base64')}`,
  'content-type': 'application/json',
};

function bareServer(): http.Server {
  // The stand-in's CA comes from NODE_EXTRA_CA_CERTS, as for the service.
  const tls = danalBase.startsWith('https:');
  const agent = tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const send = tls ? https.request : http.request;
  const callDanal: DanalCall = (payload) =>
    new Promise((resolve, reject) => {
      const text = JSON.stringify(payload);
      const request = send(`${danalBase}/payments/confirm`, { method: 'POST', agent, headers: { ...danalHeaders, 'content-length': Buffer.byteLength(text) } }, (res) => {
        readJson<{ code?: string; amount?: string }>(res).then(resolve, reject);
      });
      request.on('error', reject);
      request.end(text);
    });
  const flow = endpoints(callDanal);
  const route = async (req: http.IncomingMessage): Promise<Answer> => {
    if (req.url === '/healthz') return { status: 200, body: {} };
    const userId = userOf(req.headers.authorization);
    if (!userId) return { status: 401, body: {} };
    if (req.url === '/api/wallet') return flow.wallet(userId);
    if (req.url === '/api/payment/order') return flow.order(userId, await readJson<Parameters<typeof flow.order>[1]>(req));
    if (req.url === '/api/payment/confirm') return flow.confirm(userId, await readJson<Parameters<typeof flow.confirm>[1]>(req));
    return { status: 404, body: {} };
  };
  return http.createServer((req, res) => {
    route(req)
      .catch((error: unknown) => {
        // Into the reference's log file, which the bench keeps when a run has errors.
        console.error(error);
        return { status: 500, body: {} };
      })
      .then(({ status, body }) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
  });
}

function expressServer(): http.Server {
  // As our Danal client makes its calls: no redirect following (axios would wrap every
  // request in follow-redirects), every status read rather than thrown.
  const client = axios.create({ headers: danalHeaders, maxRedirects: 0, validateStatus: () => true });
  const flow = endpoints(async (payload) => (await client.post(`${danalBase}/payments/confirm`, payload)).data);
  const app = express();
  app.use(express.json({ limit: '16kb' }));
  const send = (res: express.Response) => (answer: Answer) => void res.status(answer.status).json(answer.body);
  const withUser = (handler: (userId: string, req: express.Request) => Promise<Answer>): express.RequestHandler => async (req, res) => {
    const userId = userOf(req.get('authorization'));
    send(res)(userId ? await handler(userId, req) : { status: 401, body: {} });
  };
  app.get('/healthz', (_req, res) => void res.json({}));
  app.get('/api/wallet', withUser((userId) => flow.wallet(userId)));
  app.post('/api/payment/order', withUser((userId, req) => flow.order(userId, req.body)));
  app.post('/api/payment/confirm', withUser((userId, req) => flow.confirm(userId, req.body)));
  return http.createServer(app);
}

function readJson<T>(stream: http.IncomingMessage): Promise<T> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => {
      try {
        resolve(JSON.parse(text || '{}'));
      } catch (error) {
        reject(error);
      }
    });
    stream.on('error', reject);
  });
}

const server = kind === 'bare' ? bareServer() : expressServer();
server.listen(config.port, config.host);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
