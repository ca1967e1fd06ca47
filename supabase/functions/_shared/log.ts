/** A structured log line on stdout (Supabase keeps a function's stdout as its logs). */
export type Log = (
  level: "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** JSON lines: `{ level, msg, ...fields }`. Callers pass ids and codes, never bodies or addresses. */
export const jsonLog: Log = (level, message, fields = {}) => {
  const line = JSON.stringify({ level, msg: message, time: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
};
