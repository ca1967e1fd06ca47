/** What stops adoption: one line per object, naming it with what is expected and what was found. */
export interface AdoptionBlocker {
  /** `table.column`, `table.constraint`, or a function's signature. */
  readonly object: string;
  readonly expected: string;
  readonly found: string;
}

/**
 * The database cannot be adopted as it is; nothing was changed. Lists every blocker, not the first.
 * `code` is stable for scripts: `adopt_blocked`.
 */
export class AdoptionBlockedError extends Error {
  readonly code = "adopt_blocked";
  readonly blockers: readonly AdoptionBlocker[];

  constructor(blockers: readonly AdoptionBlocker[]) {
    super(
      [
        `adoption blocked: ${blockers.length} problem(s), nothing was changed; fix them (or tell us why they cannot be fixed) and run again:`,
        ...blockers.map((b) => `  ${b.object}: expected ${b.expected}, found ${b.found}`),
      ].join("\n"),
    );
    this.name = "AdoptionBlockedError";
    this.blockers = blockers;
  }
}
