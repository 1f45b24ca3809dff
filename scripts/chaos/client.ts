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

  lostAnswers = 0;

  /** `firstAnswerWithinMs`: the first try stops waiting this soon, as a client whose answer is lost. */
  async call(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; body?: unknown; key?: string; firstAnswerWithinMs?: number } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    if (options.key) headers['Idempotency-Key'] = options.key;
    const deadline = Date.now() + 90_000;
    for (let attempt = 0; ; attempt++) {
      const lose = attempt === 0 && options.firstAnswerWithinMs !== undefined;
      try {
        const res = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(lose ? options.firstAnswerWithinMs! : 20_000),
        });
        const body = await res.json().catch(() => null);
        if (res.status !== 503 || Date.now() > deadline) return { status: res.status, body };
        this.unavailable += 1;
      } catch {
        // Refused while the service restarts, cut off when it was killed mid-request, or given up on.
        if (lose) this.lostAnswers += 1;
        else this.networkErrors += 1;
        if (Date.now() > deadline) return { status: 0, body: null };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
