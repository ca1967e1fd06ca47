import { useState } from "react";
import { formatTime } from "../components/format.ts";
import { Empty, LoadState } from "../components/status.tsx";
import { usePolling } from "../components/use-polling.ts";
import type { ConsoleApi } from "../console-api.ts";

interface ReportsPageProps {
  readonly api: ConsoleApi;
  readonly refreshMs: number;
}

/** The latest generated reports; "Regenerate" queues a new rendering of one assessment's report. */
export function ReportsPage({ api, refreshMs }: ReportsPageProps) {
  const reports = usePolling(() => api.reports(), refreshMs, [api]);
  const [outcome, setOutcome] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const rows = reports.data ?? [];
  const regenerate = async (assessmentId: string) => {
    setFailure(undefined);
    try {
      const msgId = await api.regenerateReport(assessmentId);
      setOutcome(`Queued report generation for ${assessmentId} (message ${msgId}).`);
    } catch (error) {
      setFailure((error as Error).message);
    }
  };
  return (
    <section>
      <h2>Reports</h2>
      {outcome && (
        <p className="ok" role="status">
          {outcome}
        </p>
      )}
      {failure && (
        <p className="error" role="alert">
          {failure}
        </p>
      )}
      <LoadState loading={reports.loading && !reports.data} error={reports.error} />
      {reports.data && rows.length === 0 && <Empty>No reports yet.</Empty>}
      {rows.length > 0 && (
        <table data-testid="reports">
          <thead>
            <tr>
              <th>created</th>
              <th>assessment</th>
              <th>user</th>
              <th>file</th>
              <th className="num">size</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((report) => (
              <tr key={report.id}>
                <td>{formatTime(report.created_at)}</td>
                <td>
                  <code>{report.assessment_id}</code>
                </td>
                <td>
                  <code>{report.user_id}</code>
                </td>
                <td className="small">{report.storage_path}</td>
                <td className="num">{(report.size_bytes / 1024).toFixed(1)} KiB</td>
                <td>
                  <button type="button" onClick={() => void regenerate(report.assessment_id)}>
                    Regenerate
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
