// Live mode and production mode as an operator starts them: `src/main.ts` as
// a process, read from what it prints. Weak or missing secrets stop the start
// with a message that says what to do; a complete live configuration runs
// against the standalone Danal sandbox over https, and never serves the
// sandbox itself.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request from 'supertest';
import { findFreePort } from '../../src/db/embedded-postgres.js';
import { spawnServer, type ServerProcess } from '../server-process.js';
import { spawnSandbox, type SandboxProcess } from '../sandbox-process.js';
import { expectNoSecretsIn } from '../helpers.js';

/** `src/main.ts` with exactly `env` (and PATH): what it printed and its exit code. */
async function startAndExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

const random = () => randomBytes(48).toString('base64');
const COMPLETE_LIVE = {
  DANAL_MODE: 'live',
  DANAL_API_BASE: 'https://one-api.danalpay.com',
  DANAL_SECRET_KEY: 'SK_LIVE_from_the_contract',
  DANAL_CLIENT_KEY: 'CL_LIVE_from_the_contract',
  DANAL_MERCHANT_ID: 'A0000001',
  JWT_SECRET: random(),
  DATABASE_URL: 'postgresql://dpot@127.0.0.1:1/dpot',
  PUBLIC_BASE_URL: 'https://api.dpot.example',
  CHECKOUT_SUCCESS_URL: 'https://dpot.example/pay/success',
  CHECKOUT_FAIL_URL: 'https://dpot.example/pay/fail',
};

describe('a start with weak or missing secrets is refused, saying what to do', () => {
  it('production mode with nothing set names every missing setting and how to make the secret', async () => {
    const { code, output } = await startAndExit({ NODE_ENV: 'production' });
    expect(code).toBe(1);
    expect(output).toContain('Invalid configuration');
    expect(output).toMatch(/DANAL_MODE: must be "live" with NODE_ENV=production: a production process never serves the sandbox/);
    for (const name of ['JWT_SECRET', 'DANAL_SECRET_KEY', 'DANAL_API_BASE', 'DATABASE_URL', 'PUBLIC_BASE_URL']) expect(output).toMatch(new RegExp(`${name}: is required with NODE_ENV=production`));
    expect(output).toMatch(/JWT_SECRET: is required .*openssl rand -base64 48/);
    expect(output).not.toMatch(/listening/i);
  });

  it('live mode without NODE_ENV and with a patterned JWT secret', async () => {
    const secret = 'changeme-'.repeat(5);
    const { code, output } = await startAndExit({ ...COMPLETE_LIVE, JWT_SECRET: secret });
    expect(code).toBe(1);
    expect(output).toMatch(/JWT_SECRET: repeats a shorter pattern, so anyone could sign tokens for any user: make one with `openssl rand -base64 48`/);
    expect(output).not.toContain(secret);
  });

  it('live mode with the development JWT secret, a weak admin key and no JWT secret at all', async () => {
    const dev = await startAndExit({ ...COMPLETE_LIVE, NODE_ENV: 'development', JWT_SECRET: 'dev-only-insecure-jwt-secret-do-not-use-in-production' });
    expect(dev.code).toBe(1);
    expect(dev.output).toMatch(/JWT_SECRET: is a value published in this repository/);
    const admin = await startAndExit({ ...COMPLETE_LIVE, ADMIN_API_KEYS: 'a'.repeat(40) });
    expect(admin.code).toBe(1);
    expect(admin.output).toMatch(/ADMIN_API_KEYS: key 1 is one character repeated: make one with `openssl rand -base64 48`/);
    const missing = await startAndExit({ ...COMPLETE_LIVE, JWT_SECRET: '' });
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/JWT_SECRET: is required with DANAL_MODE=live \(real money\): there is no default secret; make one with `openssl rand -base64 48`/);
  });

  it('live mode with Danal over plain http, even on loopback', async () => {
    const { code, output } = await startAndExit({ ...COMPLETE_LIVE, DANAL_API_BASE: 'http://127.0.0.1:4010/sandbox/danal' });
    expect(code).toBe(1);
    expect(output).toMatch(/DANAL_API_BASE: must be an https:\/\/ URL/);
  });

  it('TRUST_PROXY=true, and a hop count', async () => {
    for (const value of ['true', '1']) {
      const { code, output } = await startAndExit({ TRUST_PROXY: value });
      expect(code).toBe(1);
      expect(output).toMatch(/TRUST_PROXY: .*X-Forwarded-For.*addresses or CIDRs/);
    }
  });
});

describe('sandbox mode listens on loopback unless HOST is set', () => {
  it('says so in its first log line, and is not reachable on the other interfaces', async () => {
    const server = await spawnServer({ DATABASE_URL: inject('databaseUrl'), HOST: '' });
    try {
      const first = JSON.parse(server.lines[0]!);
      expect(first).toMatchObject({ danalMode: 'sandbox', host: '127.0.0.1', loopbackOnly: true });
      expect(first.msg).toMatch(/SANDBOX mode.*loopback only.*HOST=/);
      const port = Number(new URL(server.url).port);
      const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
      if (external) {
        const refused = await new Promise<boolean>((resolve) => {
          const socket = net.connect(port, external.address);
          socket.once('connect', () => (socket.destroy(), resolve(false)));
          socket.once('error', () => resolve(true));
        });
        expect(refused, `reachable on ${external.address}`).toBe(true);
      }
    } finally {
      server.kill();
    }
  });
});

describe('live mode against the standalone Danal sandbox over https', () => {
  let sandbox: SandboxProcess;
  let service: ServerProcess;
  let api: ReturnType<typeof request>;
  const keys = { DANAL_SECRET_KEY: `SK_${randomBytes(16).toString('hex')}`, DANAL_MERCHANT_ID: 'A0000042' };

  beforeAll(async () => {
    const port = await findFreePort();
    const notiPath = `http://127.0.0.1:${port}/api/payment/noti/vaccount`;
    sandbox = await spawnSandbox([notiPath], keys);
    service = await spawnServer({
      ...COMPLETE_LIVE,
      ...keys,
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: inject('databaseUrl'),
      DANAL_API_BASE: sandbox.apiBase,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      NOTI_ALLOWED_IPS: '127.0.0.1',
      // Trusted as an operator trusts a private CA: Node's standard variable, nothing of ours.
      NODE_EXTRA_CA_CERTS: sandbox.caFile,
    });
    api = request(service.url);
  });
  afterAll(async () => {
    service?.kill();
    await sandbox?.stop();
    if (service) expectNoSecretsIn(service.lines);
  });

  it('never serves the sandbox or its checkout page', async () => {
    for (const path of ['/sandbox/danal/checkout', '/sandbox/danal/authorize', '/sandbox/danal/deposit', '/']) {
      expect((await api.get(path)).status, path).toBe(404);
      expect((await api.post(path).send({})).status, path).toBe(404);
    }
  });

  it('charges a card and credits a virtual account through the sandbox process', async () => {
    const email = `live-${randomUUID()}@example.com`;
    await api.post('/api/auth/register').send({ email, password: 'correct horse battery' }).expect(201);
    const token = (await api.post('/api/auth/login').send({ email, password: 'correct horse battery' }).expect(200)).body.data.accessToken;
    const auth = { Authorization: `Bearer ${token}` };
    const buyer = request(sandbox.apiBase);

    const card = (await api.post('/api/payment/order').set(auth).send({ amount: 10_000, paymentMethod: 'Card' }).expect(201)).body.data;
    expect(card.checkout.sandboxCheckoutUrl).toBeUndefined();
    const cardTx = (await buyer.post('/authorize').send({ orderId: card.orderID, amount: 10_000, method: 'CARD' }).expect(201)).body.transactionId;
    const paid = await api.post('/api/payment/confirm').set(auth).send({ orderID: card.orderID, transactionID: cardTx, method: 'CARD' }).expect(200);
    expect(paid.body.data).toMatchObject({ status: 'Paid', balance: 10_000 });

    const va = (await api.post('/api/payment/order').set(auth).send({ amount: 30_000, paymentMethod: 'VirtualAccount' }).expect(201)).body.data;
    const vaTx = (await buyer.post('/authorize').send({ orderId: va.orderID, amount: 30_000, method: 'VACCOUNT', notiUrl: va.checkout.notiUrl }).expect(201)).body.transactionId;
    await api.post('/api/payment/confirm').set(auth).send({ orderID: va.orderID, transactionID: vaTx, method: 'VIRTUAL_ACCOUNT' }).expect(200);
    const deposit = await buyer.post('/deposit').send({ transactionId: vaTx }).expect(200);
    expect(deposit.body).toMatchObject({ notiUrl: va.checkout.notiUrl, replyStatus: 200, delivered: true });
    expect((await api.get('/api/wallet').set(auth).expect(200)).body.data.balance).toBe(40_000);
  });

  it('the sandbox process posts to no URL but the configured notification URL', async () => {
    const res = await request(sandbox.apiBase).post('/authorize').send({ orderId: 'ORDLIVESSRF1', amount: 1000, method: 'VACCOUNT', notiUrl: 'http://127.0.0.1:9/api/payment/noti/vaccount' });
    expect(res.status).toBe(400);
  });
});
