// PM2 process file for the Balansity queue worker (see "Deployment" in README.md).
//
//   pm2 start ecosystem.config.cjs        # from the deployed folder, e.g. /opt/balansity-worker,
//                                         # holding dist/main.mjs (pnpm build; see README.md)
//   pm2 logs balansity-queue-worker
//   pm2 save && pm2 startup               # start again after a reboot
//
// Configuration comes from the env file (default: .env beside this file, or WORKER_ENV_FILE), which
// node itself reads (--env-file): the secrets in it never enter PM2's process list or `pm2 save`
// dump. After editing it, `pm2 restart balansity-queue-worker` (the file is read at every start).
//
// Logs: the worker writes JSON lines (pino) to stdout; PM2 keeps them in ~/.pm2/logs. Rotate them
// with pm2-logrotate (`pm2 install pm2-logrotate`).
"use strict";

const { existsSync, readFileSync } = require("node:fs");
const path = require("node:path");
const { parseEnv } = require("node:util");

const envFile = path.resolve(__dirname, process.env.WORKER_ENV_FILE || ".env");
const fileEnv = existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {};

/** A setting from PM2's own environment first, then from the env file, else the default. */
function setting(name, fallback) {
  return process.env[name] || fileEnv[name] || fallback;
}

function wholeNumber(name, fallback, min) {
  const raw = setting(name, String(fallback));
  if (!/^\d+$/.test(raw) || Number(raw) < min) {
    throw new Error(`${name} must be a whole number of at least ${min} (got "${raw}")`);
  }
  return Number(raw);
}

const instances = wholeNumber("WORKER_PM2_INSTANCES", 1, 1);
// The worker's own shutdown deadline (default 25 s): PM2 must wait longer before its SIGKILL.
const shutdownTimeoutMs = wholeNumber("WORKER_SHUTDOWN_TIMEOUT_MS", 25_000, 0);

if (/\s/.test(envFile)) {
  // PM2 splits node_args on spaces.
  throw new Error(`the env file path must not contain spaces: ${envFile}`);
}

module.exports = {
  apps: [
    {
      name: "balansity-queue-worker",
      cwd: __dirname,
      // The bundle scripts/build.mjs writes: plain node, no loader, no node_modules.
      script: "dist/main.mjs",
      interpreter: "node",
      // As the image runs it: stack traces point at src/*.ts through the bundle's source map; the old
      // generation capped at 128 MB and the young one at half its default bound the heap. Measured peaks
      // (bench/RESULTS.md, report-throughput, 2026-12-06 20:26-20:48 UTC): 175-178 MB rendering reports while sending
      // email, with MALLOC_ARENA_MAX=2 below. See the Dockerfile's CMD.
      node_args: [
        ...(existsSync(envFile) ? [`--env-file=${envFile}`] : []),
        "--enable-source-maps",
        "--max-old-space-size=128",
        "--max-semi-space-size=8",
      ].join(" "),
      exec_mode: "fork",
      instances,
      // Each instance runs its own ops server: WORKER_HTTP_PORT, +1, +2, ... (PM2's environment
      // wins over the env file, so the incremented port is the one the worker sees).
      increment_var: "WORKER_HTTP_PORT",
      env: {
        NODE_ENV: "production",
        // Two glibc malloc arenas (see the Dockerfile): in the environment PM2 starts node with, since
        // glibc reads it at process start, before node reads --env-file.
        MALLOC_ARENA_MAX: "2",
        WORKER_HTTP_PORT: setting("WORKER_HTTP_PORT", "8080"),
      },
      // Graceful stop: PM2 sends SIGINT (its daemon-wide PM2_KILL_SIGNAL; there is no per-app
      // setting), which the worker handles as it does SIGTERM: in-flight messages finish, exit 0.
      // SIGKILL only after this.
      kill_timeout: shutdownTimeoutMs + 15_000,
      // 78 = invalid configuration: restarting cannot help, so PM2 does not restart the process
      // (`pm2 ls` still says "waiting restart", because of the backoff below; the exit code is 78).
      stop_exit_codes: [78],
      autorestart: true,
      exp_backoff_restart_delay: 1_000,
      max_memory_restart: setting("WORKER_PM2_MAX_MEMORY", "512M"),
      watch: false,
      // One log file for all instances; the JSON lines carry pid and hostname.
      merge_logs: true,
    },
  ],
};
