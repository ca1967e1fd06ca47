// `pnpm smoke`: the smoke scenario against the running `pnpm dev` stack, or against DATABASE_URL +
// SMTP_SINK_URL from the environment. Exit 0 when every step passed, 1 naming the first that failed,
// 78 for a configuration problem.
import { runSmoke, SmokeStepError } from "./run-smoke.ts";
import { loadSmokeConfig, SmokeConfigError } from "./smoke-config.ts";

try {
  const config = loadSmokeConfig(process.env);
  const started = performance.now();
  const results = await runSmoke(config, (line) => console.log(line));
  console.log(`[smoke] passed: ${results.length} steps in ${Math.round(performance.now() - started)} ms`);
} catch (error) {
  if (error instanceof SmokeConfigError) {
    console.error(error.message);
    console.error('[smoke] start the local stack with "pnpm dev", or set DATABASE_URL and SMTP_SINK_URL');
    process.exit(78);
  }
  if (error instanceof SmokeStepError) {
    console.error(`[smoke] FAILED: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
