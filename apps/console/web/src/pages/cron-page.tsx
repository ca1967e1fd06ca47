import { useState } from "react";
import { formatTime } from "../components/format.ts";
import { Empty, LoadState } from "../components/status.tsx";
import { usePolling } from "../components/use-polling.ts";
import type { ConsoleApi } from "../console-api.ts";

interface CronPageProps {
  readonly api: ConsoleApi;
  readonly refreshMs: number;
}

/** Each scheduled job (pg_cron's, or the worker's fallback scheduler's), its last run and failures. */
export function CronPage({ api, refreshMs }: CronPageProps) {
  const jobs = usePolling(() => api.cronJobs(), refreshMs, [api]);
  const [open, setOpen] = useState<string>();
  const rows = jobs.data ?? [];
  return (
    <section>
      <h2>Cron</h2>
      <LoadState loading={jobs.loading && !jobs.data} error={jobs.error} />
      {jobs.data && rows.length === 0 && <Empty>No scheduled jobs.</Empty>}
      {rows.length > 0 && (
        <table data-testid="cron-jobs">
          <thead>
            <tr>
              <th>job</th>
              <th>schedule</th>
              <th>runs by</th>
              <th>active</th>
              <th>last run</th>
              <th>last status</th>
              <th className="num">failures (24 h)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((job) => (
              <tr key={job.jobname}>
                <td>{job.jobname}</td>
                <td>
                  <code>{job.schedule}</code>
                </td>
                <td>{job.source}</td>
                <td>{job.active ? "yes" : "no"}</td>
                <td>{formatTime(job.last_run_at)}</td>
                <td className={job.last_status === "failed" ? "warn" : ""} title={job.last_message ?? ""}>
                  {job.last_status ?? "—"}
                </td>
                <td className={`num ${job.failures_24h ? "warn" : ""}`}>{job.failures_24h ?? 0}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => setOpen(open === job.jobname ? undefined : job.jobname)}
                  >
                    {open === job.jobname ? "Hide runs" : "Runs"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && <CronRuns api={api} jobname={open} />}
    </section>
  );
}

function CronRuns({ api, jobname }: { readonly api: ConsoleApi; readonly jobname: string }) {
  const runs = usePolling(() => api.cronRuns(jobname), 0, [api, jobname]);
  const rows = runs.data ?? [];
  return (
    <section data-testid="cron-runs">
      <h3>Last runs of {jobname}</h3>
      <LoadState loading={runs.loading && !runs.data} error={runs.error} />
      {runs.data && rows.length === 0 && <Empty>No runs recorded.</Empty>}
      {rows.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>started</th>
              <th>finished</th>
              <th>status</th>
              <th>message</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((run, index) => (
              // Runs have no id of their own; the list is replaced whole on each load.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              <tr key={index}>
                <td>{formatTime(run.started_at)}</td>
                <td>{formatTime(run.finished_at)}</td>
                <td className={run.status === "failed" ? "warn" : ""}>{run.status ?? "—"}</td>
                <td className="small">{run.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
