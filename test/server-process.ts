// `npm start`'s entry point (src/main.ts) as a child process of the test, for
// tests that stop or kill the process itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { UNLIMITED } from './helpers.js';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON log line so far. */
  lines: string[];
  /** Resolves with the exit code and signal. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  kill(): void;
}

export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'test', JOBS_ENABLED: 'false', ...UNLIMITED, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  child.stdout!.on('data', (chunk) => lines.push(...String(chunk).split('\n').filter(Boolean)));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening: ${lines.join('\n')}`)), 30_000);
      void exited.then(([code]) => reject(new Error(`exited with ${code} before listening: ${lines.join('\n')}`)));
      child.stdout!.on('data', () => {
        const listening = lines.map((l) => JSON.parse(l)).find((l) => l.url && l.danalMode);
        if (listening) {
          clearTimeout(timer);
          resolve(listening.url.replace('localhost', '127.0.0.1'));
        }
      });
    });
    return { url, child, lines, exited, kill };
  } catch (error) {
    kill();
    throw error;
  }
}
