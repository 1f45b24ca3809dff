// The standalone Danal sandbox (npm run sandbox:danal, src/sandbox/main.ts) as
// a child process of a test, over https with the certificate made by
// test/global-setup.ts, which every test process already trusts through
// NODE_EXTRA_CA_CERTS.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { inject } from 'vitest';

export interface SandboxProcess {
  /** What DANAL_API_BASE should be for a service using it. */
  apiBase: string;
  caFile: string;
  lines: string[];
  stop(): Promise<void>;
}

/** `notiUrls`: where it may post deposit notifications (a live service's notification URL). */
export async function spawnSandbox(notiUrls: string[], env: Record<string, string> = {}): Promise<SandboxProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/sandbox/main.ts'], {
    env: {
      PATH: process.env.PATH,
      SANDBOX_PORT: '0',
      SANDBOX_TLS_DIR: process.env.TEST_SANDBOX_TLS_DIR!,
      SANDBOX_NOTI_URLS: notiUrls.join(','),
      DATABASE_URL: inject('databaseUrl'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  child.stdout!.on('data', (chunk) => lines.push(...String(chunk).split('\n').filter(Boolean)));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const ready = await new Promise<{ apiBase: string; caFile: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sandbox did not start: ${lines.join('\n')}`)), 30_000);
    void exited.then(() => reject(new Error(`the sandbox exited: ${lines.join('\n')}`)));
    child.stdout!.on('data', () => {
      const line = lines.map((l) => JSON.parse(l)).find((l) => l.apiBase);
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  return { ...ready, lines, stop };
}
