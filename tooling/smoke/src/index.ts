export { runSmoke, SmokeStepError, type SmokeStepResult } from "./run-smoke.ts";
export { loadSmokeConfig, type SmokeConfig, SmokeConfigError } from "./smoke-config.ts";
