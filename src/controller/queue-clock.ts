/**
 * The time source of the work queue. Injected so tests can step time by hand instead of
 * sleeping through real backoffs.
 */
export interface QueueClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: QueueClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    // A pending retry alone must not keep a process alive that is otherwise done; a running
    // controller is held open by its watches and servers anyway.
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
