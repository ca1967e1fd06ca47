interface Waiter<O> {
  resolve(value: O): void;
  reject(error: unknown): void;
}

/**
 * Collects the calls made during one event-loop turn (or until `maxBatch` of them) and runs them as
 * one batch at the end of the turn: many handlers that reach the same statement together share one
 * round trip. While a batch is running, calls wait for it and go together as the next one (group
 * commit): an idle system pays no delay, a busy one pays fewer statements. With `groupCommit: false`
 * every turn's calls go at the end of that turn, beside a batch still running: for writes whose delay
 * has a cost (the delivery log's "sent" records: a crash before them means a resend). When a batch fails, its
 * items are run again one by one, so one bad item (a row the database refuses) fails alone instead
 * of taking its neighbours with it.
 */
export class TurnBatcher<I, O> {
  readonly #run: (items: readonly I[]) => Promise<readonly O[]>;
  readonly #maxBatch: number;
  readonly #groupCommit: boolean;
  #items: I[] = [];
  #waiters: Waiter<O>[] = [];
  #scheduled = false;
  #running = false;

  /** `run` gets the batch and returns one result per item, in order. */
  constructor(
    run: (items: readonly I[]) => Promise<readonly O[]>,
    options: { maxBatch?: number; groupCommit?: boolean } = {},
  ) {
    this.#run = run;
    this.#maxBatch = options.maxBatch ?? 100;
    this.#groupCommit = options.groupCommit ?? true;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#items.push(item);
      this.#waiters.push({ resolve, reject });
      if (this.#items.length >= this.#maxBatch) this.#flush();
      else if (!this.#scheduled && !(this.#running && this.#groupCommit)) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const items = this.#items;
    const waiters = this.#waiters;
    if (items.length === 0) return;
    this.#items = [];
    this.#waiters = [];
    this.#running = true;
    void this.#settle(items, waiters).finally(() => {
      this.#running = false;
      if (this.#groupCommit && this.#items.length > 0 && !this.#scheduled) this.#flush();
    });
  }

  async #settle(items: readonly I[], waiters: readonly Waiter<O>[]): Promise<void> {
    try {
      const results = await this.#run(items);
      for (const [index, waiter] of waiters.entries()) waiter.resolve(results[index] as O);
    } catch (error) {
      if (items.length === 1) {
        waiters[0]?.reject(error);
        return;
      }
      await Promise.all(items.map((item, index) => this.#settle([item], [waiters[index] as Waiter<O>])));
    }
  }
}
