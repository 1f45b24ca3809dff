// A client that behaves like a patient frontend: when the service is down
// (connection refused while it restarts) or answers 503, it asks again, with
// the same Idempotency-Key if it used one.
export interface Answer {
  status: number;
  // any: each chaos step reads the answer shape it asked for, and a wrong guess is a failed flow, not a crash.
  body: any;
}

export class ChaosClient {
  networkErrors = 0;
  unavailable = 0;

  constructor(private readonly baseUrl: string) {}

  async call(method: 'GET' | 'POST', path: string, options: { token?: string; body?: unknown; key?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    if (options.key) headers['Idempotency-Key'] = options.key;
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        const res = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(20_000),
        });
        const body = await res.json().catch(() => null);
        if (res.status !== 503 || Date.now() > deadline) return { status: res.status, body };
        this.unavailable += 1;
      } catch {
        // Refused while the service restarts, or cut off when it was killed mid-request.
        this.networkErrors += 1;
        if (Date.now() > deadline) return { status: 0, body: null };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
