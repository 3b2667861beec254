// Wake-ups for long polls on one verifier instance: a decision taken here wakes the agent waiting on
// its proposal at once; waits on other replicas see it on their next re-read. Node only.

export class ProposalWakeups {
  private readonly waiting = new Map<string, Set<() => void>>();
  private closed = false;

  /** Resolves at the first of: a wake-up for `id`, `ms` elapsed, `signal` aborted, or close(). */
  wait(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.waiting.get(id) ?? new Set<() => void>();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiting.get(id) === set) this.waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
      this.waiting.set(id, set);
    });
  }

  wake(id: string): void {
    for (const done of [...(this.waiting.get(id) ?? [])]) done();
  }

  /** Every wait ends now and later ones at once: the verifier is closing. */
  close(): void {
    this.closed = true;
    for (const set of [...this.waiting.values()]) for (const done of [...set]) done();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
