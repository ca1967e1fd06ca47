/**
 * Thrown by {@link loadDatabaseConfig} when the environment does not describe a usable database
 * connection. It lists every problem at once, one line each, naming the variable and what to do,
 * so a deploy fails once with the full list instead of once per variable.
 *
 * Messages never contain a password or a connection string that holds one.
 */
export class ConfigError extends Error {
  readonly code = "invalid_config";
  /** One entry per problem, each naming the variable and what to do about it. */
  readonly issues: readonly string[];

  /** `heading` names whose configuration it is, e.g. `invalid worker configuration`. */
  constructor(issues: readonly string[], heading = "invalid database configuration") {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super([`${heading} (${count}):`, ...issues.map((issue) => `- ${issue}`)].join("\n"));
    this.name = "ConfigError";
    this.issues = Object.freeze([...issues]);
  }
}
