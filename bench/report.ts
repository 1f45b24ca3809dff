// The table `npm run bench` prints, and the targets it is read against.
import type { FlowRun, WalletRun } from './load.js';
import type { PgbenchRun } from './pgbench.js';

export interface BenchRun {
  label: string;
  concurrency: number;
  /** Orders in the database when the run started. */
  rows: number;
  flowsPerSec: number;
  pgbenchTps: number;
  /** flowsPerSec / pgbenchTps: how close the service comes to its database. */
  ratio: number;
  confirmP99Ms: number;
  peakRssMb: number;
  /** Of one core, while the flows ran (machine: of all cores): who had the CPU? */
  cpuPercentDuringFlows: { server: number; danalSandbox: number; loadGenerator: number; postgres: number; machine: number };
  /**
   * CPU time one flow cost each part, in ms: what the ratio is made of. `rest` is the machine's
   * busy time not accounted to a part (kernel threads, other tenants).
   */
  cpuMsPerFlow: { server: number; danalSandbox: number; loadGenerator: number; postgres: number; rest: number };
  /** The ratio this machine would give if the server's own CPU were zero, all else equal: a ceiling. */
  ratioIfServerCostNothing: number;
  /** The ratio had the Danal stand-in's and the load generator's CPU been free (they are other machines in production). */
  ratioIfDanalAndLoaderElsewhere: number;
  /** While pgbench ran the same statements: PostgreSQL's CPU per transaction, and how busy the machine was. */
  pgbenchCpu: { postgresMsPerTx: number; machinePercent: number };
  errors: number;
  flow: FlowRun;
  wallet: WalletRun;
  pgbench: PgbenchRun;
}

interface Results {
  smoke: boolean;
  runs: BenchRun[];
  reference?: { service: BenchRun; express: BenchRun; bare: BenchRun; shareOfExpress: number; shareOfBare: number };
  growth?: { baseline: BenchRun; run: BenchRun; throughputChange: number; confirmP99Change: number; ratioChange: number; rowsFilled: number };
  explain: { statement: string; plan: string[] }[];
}

const TARGET = { concurrency: 16, ratio: 0.5, confirmP99Ms: 50, peakRssMb: 250, growth: 0.2 };

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const lat = (l: { p50: number; p95: number; p99: number }) => `${l.p50.toFixed(1)}/${l.p95.toFixed(1)}/${l.p99.toFixed(1)}`;

const allRuns = (results: Results) => [
  ...results.runs,
  ...(results.reference ? [results.reference.service, results.reference.express, results.reference.bare] : []),
  ...(results.growth ? [results.growth.baseline, results.growth.run] : []),
];

export function printReport(results: Results) {
  const rows = allRuns(results).map((r) => ({
    run: r.label,
    c: r.concurrency,
    'orders before': r.rows,
    'flows/s': r.flowsPerSec,
    'pgbench tps': r.pgbenchTps,
    ratio: r.ratio,
    'order p50/95/99 ms': lat(r.flow.latencyMs.order),
    'authorize p50/95/99': lat(r.flow.latencyMs.authorize),
    'confirm p50/95/99': lat(r.flow.latencyMs.confirm),
    'wallet req/s': r.wallet.requestsPerSec,
    'wallet p50/95/99': lat(r.wallet.latencyMs),
    'peak RSS MB': r.peakRssMb,
    'CPU % server/danal/loader/pg/machine': `${r.cpuPercentDuringFlows.server}/${r.cpuPercentDuringFlows.danalSandbox}/${r.cpuPercentDuringFlows.loadGenerator}/${r.cpuPercentDuringFlows.postgres}/${r.cpuPercentDuringFlows.machine}`,
    errors: r.errors,
  }));
  console.table(rows);

  console.log('CPU time one flow cost, in ms (of one core); pgbench: PostgreSQL\'s CPU per transaction of the same statements:');
  console.table(
    allRuns(results).map((r) => {
      const c = r.cpuMsPerFlow;
      return {
        run: r.label,
        c: r.concurrency,
        server: c.server,
        danal: c.danalSandbox,
        loader: c.loadGenerator,
        postgres: c.postgres,
        rest: c.rest,
        total: Math.round((c.server + c.danalSandbox + c.loadGenerator + c.postgres + c.rest) * 100) / 100,
        'ratio if server cost 0': r.ratioIfServerCostNothing,
        'ratio, Danal+loader elsewhere': r.ratioIfDanalAndLoaderElsewhere,
        'pgbench: postgres ms/tx': r.pgbenchCpu.postgresMsPerTx,
        'pgbench: machine %': r.pgbenchCpu.machinePercent,
      };
    }),
  );

  const at16 = results.runs.find((r) => r.concurrency === TARGET.concurrency);
  if (at16) {
    const check = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(`targets at concurrency ${TARGET.concurrency}:`);
    console.log(`  throughput ratio ${at16.ratio} (target ≥ ${TARGET.ratio}): ${check(at16.ratio >= TARGET.ratio)}`);
    console.log(`  confirm p99 ${at16.confirmP99Ms} ms (target ≤ ${TARGET.confirmP99Ms}): ${check(at16.confirmP99Ms <= TARGET.confirmP99Ms)}`);
    console.log(`  peak RSS ${at16.peakRssMb} MB (target ≤ ${TARGET.peakRssMb}): ${check(at16.peakRssMb <= TARGET.peakRssMb)}`);
    console.log(`  errors ${at16.errors} (target 0): ${check(at16.errors === 0)}`);
  }
  if (results.reference) {
    const r = results.reference;
    const share = (x: number) => `${(x * 100).toFixed(0)}%`;
    const caveat = results.smoke ? ' [smoke: 1 s, the references not warmed up; proves they work, not a measurement]' : '';
    console.log(`the same statements, same Danal stand-in, at concurrency ${r.service.concurrency} in turns (--reference)${caveat}:`);
    console.log(`  the service did ${share(r.shareOfExpress)} of the flows/s of Express + axios alone, ${share(r.shareOfBare)} of bare node:http's`);
    console.log(`  ratio to pgbench: service ${r.service.ratio}, Express + axios ${r.express.ratio}, bare ${r.bare.ratio}`);
  }
  if (results.growth) {
    const g = results.growth;
    const within = (x: number) => Math.abs(x) <= TARGET.growth;
    console.log(`growth with ${g.rowsFilled} more orders at concurrency 16, in stretches alternating with the base database (target: within ±20%):`);
    console.log(`  throughput ${pct(g.throughputChange)}: ${within(g.throughputChange) || g.throughputChange > 0 ? 'met' : 'NOT met'}`);
    console.log(`  confirm p99 ${pct(g.confirmP99Change)}: ${within(g.confirmP99Change) || g.confirmP99Change < 0 ? 'met' : 'NOT met'}`);
    console.log(`  (the ratio to pgbench: ${pct(g.ratioChange)})`);
  }
  console.log('query plans of the flow\'s statements (EXPLAIN ANALYZE, rolled back):');
  for (const { statement, plan } of results.explain) {
    console.log(`  ${statement.slice(0, 160)}${statement.length > 160 ? '…' : ''}`);
    for (const line of plan.filter((l) => !/^\s*(Planning|Execution|Buffers)/.test(l)).slice(0, 6)) console.log(`      ${line}`);
  }
}
