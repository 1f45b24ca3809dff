// One measurement at one concurrency: the flows over HTTP with each process's
// CPU, the wallet reads, the same SQL through pgbench. A "stack" is a service,
// its Danal process and the database they use; the growth comparison runs two
// stacks (without and with the fill) in alternating stretches, so that the
// machine's drift falls on both alike.
import pg from 'pg';
import { peakRss, cpuSeconds, machineCpuTicks, postgresCpuSeconds, postgresProcessCount, postgresSettled, type BenchDatabase, type BenchSandbox, type BenchService } from './service.js';
import { driveFlows, runWalletReads, summarizeFlows, type BenchUser, type FlowSamples } from './load.js';
import { runPgbench } from './pgbench.js';
import type { BenchRun } from './report.js';

export interface Stack {
  service: BenchService;
  danal: BenchSandbox;
  users: BenchUser[];
  /** A connection to the stack's own database. */
  admin: pg.Client;
  database: string;
}

export interface Cluster {
  db: BenchDatabase;
  credentials: { user: string; password: string };
  /** The captured flow as a pgbench script. */
  scriptFile: string;
  say: (text: string) => void;
}

/** Where a stack's flows go: its service, and its Danal sandbox for the buyer's step. */
export const flowTarget = (stack: Pick<Stack, 'service' | 'danal'>) => ({ serviceUrl: stack.service.url, danalApiBase: stack.danal.apiBase, ca: stack.danal.ca });

/** One stack at one concurrency, `seconds` for each part. */
export async function measure(cluster: Cluster, stack: Stack, concurrency: number, seconds: number, label: string): Promise<BenchRun> {
  const rows = await settleBeforeRun(stack);
  cluster.say(`${label}: concurrency ${concurrency}, ${seconds} s, ${rows} existing orders`);
  peakRss.reset(stack.service.pid);
  const { stretch, cpu } = await flowsWithCpu(cluster, stack, concurrency, seconds);
  return finishRun(cluster, stack, { label, concurrency, seconds, rows, stretches: [stretch], cpu: [cpu] });
}

/**
 * Several stacks at one concurrency, in `rounds` alternating stretches of
 * seconds / rounds each: the same total time per stack as `measure`, and minutes
 * of machine drift shared by all instead of landing on one.
 */
export async function measureAlternating(
  cluster: Cluster,
  stacks: Stack[],
  labels: string[],
  concurrency: number,
  seconds: number,
  rounds: number,
): Promise<BenchRun[]> {
  const rows: number[] = [];
  for (const stack of stacks) rows.push(await settleBeforeRun(stack));
  const sides = labels.map((label, i) => `${label} (${rows[i]} orders)`).join(', ');
  cluster.say(`${sides}: concurrency ${concurrency}, ${rounds} × ${seconds / rounds} s each, in turns`);
  const collected = stacks.map(() => ({ stretches: [] as FlowSamples[], cpu: [] as CpuReading[] }));
  for (const stack of stacks) peakRss.reset(stack.service.pid);
  for (let round = 0; round < rounds; round++) {
    for (const [i, stack] of stacks.entries()) {
      const { stretch, cpu } = await flowsWithCpu(cluster, stack, concurrency, seconds / rounds);
      collected[i]!.stretches.push(stretch);
      collected[i]!.cpu.push(cpu);
    }
  }
  const runs: BenchRun[] = [];
  for (const [i, stack] of stacks.entries()) {
    runs.push(await finishRun(cluster, stack, { label: labels[i]!, concurrency, seconds, rows: rows[i]!, ...collected[i]! }));
  }
  return runs;
}

/** The stack's orders; and nothing left to write back, so no run pays for the one before (after a fill, hundreds of MB). */
async function settleBeforeRun(stack: Stack): Promise<number> {
  await stack.admin.query('CHECKPOINT');
  return Number((await stack.admin.query('SELECT count(*) AS n FROM payment_orders')).rows[0].n);
}

async function flowsWithCpu(cluster: Cluster, stack: Stack, concurrency: number, seconds: number) {
  const before = cpuReading(cluster, stack);
  const stretch = await driveFlows(flowTarget(stack), stack.users, concurrency, seconds);
  return { stretch, cpu: cpuSince(before, cpuReading(cluster, stack)) };
}

/** The wallet reads and pgbench for the same stack and time, then every figure of the run. */
async function finishRun(
  cluster: Cluster,
  stack: Stack,
  run: { label: string; concurrency: number; seconds: number; rows: number; stretches: FlowSamples[]; cpu: CpuReading[] },
): Promise<BenchRun> {
  const { concurrency, seconds } = run;
  const flow = summarizeFlows(run.stretches);
  const flowCpu = run.cpu.reduce(addReadings);
  const wallet = await runWalletReads(stack.service.url, stack.users, concurrency, seconds);
  const peakRssMb = peakRss.readMb(stack.service.pid);
  const processesBefore = postgresProcessCount(cluster.db.pid);
  const pgbenchCpuBefore = cpuReading(cluster, stack);
  const pgbench = await runPgbench({ port: cluster.db.port, ...cluster.credentials, database: stack.database }, cluster.scriptFile, concurrency, seconds);
  await postgresSettled(cluster.db.pid, processesBefore);
  const pgbenchCpu = cpuSince(pgbenchCpuBefore, cpuReading(cluster, stack));
  const perFlow = (cpu: number) => Math.round(((cpu * 1000) / flow.flows) * 100) / 100;
  const percentOf = (cpu: number) => Math.round((cpu / flow.seconds) * 100);
  const ratio = flow.flowsPerSec / pgbench.tps;
  const ratioWithout = (cpu: number) => Math.round((flowCpu.machineBusy / (flowCpu.machineBusy - cpu)) * ratio * 1000) / 1000;
  return {
    label: run.label,
    concurrency,
    rows: run.rows,
    flowsPerSec: flow.flowsPerSec,
    pgbenchTps: pgbench.tps,
    ratio: Math.round(ratio * 1000) / 1000,
    confirmP99Ms: flow.latencyMs.confirm.p99,
    peakRssMb,
    cpuPercentDuringFlows: {
      server: percentOf(flowCpu.server),
      danalSandbox: percentOf(flowCpu.danal),
      loadGenerator: percentOf(flowCpu.loader),
      postgres: percentOf(flowCpu.postgres),
      machine: Math.round((flowCpu.machineBusy / flowCpu.machineTotal) * 100),
    },
    cpuMsPerFlow: {
      server: perFlow(flowCpu.server),
      danalSandbox: perFlow(flowCpu.danal),
      loadGenerator: perFlow(flowCpu.loader),
      postgres: perFlow(flowCpu.postgres),
      rest: perFlow(flowCpu.machineBusy - flowCpu.server - flowCpu.danal - flowCpu.loader - flowCpu.postgres),
    },
    // If the server cost no CPU and the machine stayed as busy: the most this machine could give
    // with the Danal stand-in and the load generator sharing its cores.
    ratioIfServerCostNothing: ratioWithout(flowCpu.server),
    // In production Danal and the clients are other machines: the ratio had their CPU been
    // free for the server and PostgreSQL, at the same cost per flow. An estimate, not a run.
    ratioIfDanalAndLoaderElsewhere: ratioWithout(flowCpu.danal + flowCpu.loader),
    pgbenchCpu: {
      postgresMsPerTx: Math.round(((pgbenchCpu.postgres * 1000) / pgbench.transactions) * 100) / 100,
      machinePercent: Math.round((pgbenchCpu.machineBusy / pgbenchCpu.machineTotal) * 100),
    },
    errors: flow.errors + wallet.errors + pgbench.failed,
    flow,
    wallet,
    pgbench,
  };
}

interface CpuReading {
  server: number;
  danal: number;
  loader: number;
  /** The whole cluster: with two stacks on it, only the one running is busy. */
  postgres: number;
  /** The whole machine, all cores together, in seconds. */
  machineBusy: number;
  machineTotal: number;
}

/** CPU seconds used so far by each part of the run, and by the machine as a whole. */
function cpuReading(cluster: Cluster, stack: Stack): CpuReading {
  const loader = process.cpuUsage();
  const machine = machineCpuTicks();
  return {
    server: cpuSeconds(stack.service.pid),
    danal: cpuSeconds(stack.danal.pid),
    loader: (loader.user + loader.system) / 1e6,
    postgres: postgresCpuSeconds(cluster.db.pid),
    machineBusy: machine.busy / 100,
    machineTotal: machine.total / 100,
  };
}

const keysOf = (reading: CpuReading) => Object.keys(reading) as (keyof CpuReading)[];
const combine = (a: CpuReading, b: CpuReading, op: (x: number, y: number) => number) =>
  Object.fromEntries(keysOf(a).map((key) => [key, op(a[key], b[key])])) as unknown as CpuReading;
const cpuSince = (before: CpuReading, after: CpuReading) => combine(after, before, (x, y) => x - y);
const addReadings = (a: CpuReading, b: CpuReading) => combine(a, b, (x, y) => x + y);
