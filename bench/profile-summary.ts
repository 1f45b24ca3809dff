// npx tsx bench/profile-summary.ts DIR [--top N]
// Where a server's CPU went, from the .cpuprofile files that `npm run bench --
// --profile DIR` leaves (the service's in DIR, each reference's in DIR/reference-*):
// self time grouped by npm package, node: module or file of ours, then by function,
// as shares of the time the thread was not idle. Enough to set the service beside a
// reference without opening DevTools for each. A reference leaves a second, small file
// (`….1.002.cpuprofile`): tsx's module loader thread, not the server.
//
// A sample lands on whatever was on the stack, descheduled or not: `(writev)` and the
// like include time the process waited for a CPU after waking another one, so read
// them against /proc CPU time (the bench's second table), not as CPU alone.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '20' } } });
if (positionals.length !== 1) {
  console.error('usage: npx tsx bench/profile-summary.ts DIR [--top N]');
  process.exit(2);
}
const top = Number(values.top);

/** The package, node: module or file a frame belongs to. */
function groupOf({ url, functionName }: CpuProfile['nodes'][number]['callFrame']): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  if (url) return `ours: ${url.split('/').slice(-2).join('/')}`;
  // V8's own entries: (garbage collector), (program), and natives such as writev.
  return functionName.startsWith('(') ? functionName : `(${functionName || 'native'})`;
}

function summarise(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byGroup = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id)!;
    const micros = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') return;
    busy += micros;
    const group = groupOf(frame);
    byGroup.set(group, (byGroup.get(group) ?? 0) + micros);
    const where = frame.url ? `${frame.functionName || '(anonymous)'} ${group}:${frame.lineNumber + 1}` : group;
    byFunction.set(where, (byFunction.get(where) ?? 0) + micros);
  });
  const table = (shares: Map<string, number>) =>
    [...shares]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => `  ${((100 * micros) / busy).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  console.log(`${path.relative(process.cwd(), file)}: ${(busy / 1e6).toFixed(1)} s not idle`);
  console.log(`by package or module\n${table(byGroup)}\nby function\n${table(byFunction)}\n`);
}

function profilesIn(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return profilesIn(full);
    return name.endsWith('.cpuprofile') ? [full] : [];
  });
}

const files = profilesIn(positionals[0]!);
if (files.length === 0) console.error(`no .cpuprofile files in ${positionals[0]}`);
files.forEach(summarise);
