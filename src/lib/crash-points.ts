// A test-only fault hook for the crash tests (test/e2e/crash.test.ts): with
// TEST_CRASH_AT naming one of these points (refused outside NODE_ENV=test), the
// process kills itself with SIGKILL on reaching it, as an OOM kill or a lost
// machine would: no finally blocks, no shutdown, no reply.
export const CRASH_POINTS = [
  'confirm.before_danal',
  'confirm.after_danal',
  'confirm.after_commit',
  'cancel.before_danal',
  'cancel.after_danal',
  'cancel.after_commit',
  'notification.before_commit',
  'notification.after_commit',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

let armed: ReadonlySet<CrashPoint> = new Set();

export function armCrashPoints(points: readonly CrashPoint[]): void {
  armed = new Set(points);
}

export function crashPoint(point: CrashPoint): void {
  // SIGKILL to ourselves ends the process before this call returns to JavaScript.
  if (armed.has(point)) process.kill(process.pid, 'SIGKILL');
}
