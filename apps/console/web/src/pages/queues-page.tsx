import { useState } from "react";
import { formatAge, formatJson, formatTime } from "../components/format.ts";
import { type ChartSeries, LineChart } from "../components/line-chart.tsx";
import { Empty, LoadState } from "../components/status.tsx";
import { usePolling } from "../components/use-polling.ts";
import type { ConsoleApi, QueueHistoryRow } from "../console-api.ts";

const HISTORY_HOURS = 6;

interface QueuesPageProps {
  readonly api: ConsoleApi;
  readonly refreshMs: number;
}

/** Depth, oldest message, dead letters and throughput per queue, a chart each, and a message browser. */
export function QueuesPage({ api, refreshMs }: QueuesPageProps) {
  const overview = usePolling(() => api.queueOverview(), refreshMs, [api]);
  const [browsing, setBrowsing] = useState<string>();
  const queues = overview.data ?? [];
  return (
    <section>
      <h2>Queues</h2>
      <LoadState loading={overview.loading && !overview.data} error={overview.error} />
      <table data-testid="queue-overview">
        <thead>
          <tr>
            <th>queue</th>
            <th className="num">depth</th>
            <th className="num">oldest message</th>
            <th className="num">dead letters</th>
            <th className="num">processed (1 h)</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {queues.map((queue) => (
            <tr key={queue.queue_name} data-queue={queue.queue_name}>
              <td>{queue.queue_name}</td>
              <td className="num">{queue.depth}</td>
              <td className="num">{formatAge(queue.oldest_msg_age_seconds)}</td>
              <td className={`num ${queue.dlq_depth ? "warn" : ""}`}>{queue.dlq_depth ?? "—"}</td>
              <td className="num">{queue.processed_last_hour ?? "—"}</td>
              <td>
                <button type="button" onClick={() => setBrowsing(queue.queue_name)}>
                  Browse messages
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Last {HISTORY_HOURS} hours</h3>
      <div className="charts">
        {queues.map((queue) => (
          <QueueChart key={queue.queue_name} api={api} queueName={queue.queue_name} refreshMs={refreshMs} />
        ))}
      </div>
      {browsing && <MessageBrowser api={api} queueName={browsing} refreshMs={refreshMs} />}
    </section>
  );
}

function QueueChart({ api, queueName, refreshMs }: QueuesPageProps & { readonly queueName: string }) {
  const history = usePolling(() => api.queueHistory(queueName, HISTORY_HOURS), refreshMs, [api, queueName]);
  const rows = history.data ?? [];
  const series = (
    pick: (row: QueueHistoryRow) => number | null,
    label: string,
    color: string,
  ): ChartSeries => ({
    label,
    color,
    points: rows.flatMap((row) => {
      const value = pick(row);
      return value === null ? [] : [{ at: Date.parse(row.sampled_at), value }];
    }),
  });
  return (
    <div className="chart-card" data-chart={queueName}>
      <h4>{queueName}</h4>
      {history.error ? (
        <LoadState loading={false} error={history.error} />
      ) : (
        <LineChart
          title={`${queueName}: processed per minute and depth, last ${HISTORY_HOURS} hours`}
          now={Date.now()}
          spanMs={HISTORY_HOURS * 3_600_000}
          series={[
            series((row) => row.processed_per_minute, "processed / min", "#2563eb"),
            series((row) => row.depth, "depth", "#d97706"),
          ]}
        />
      )}
      <p className="muted small">{rows.length} samples</p>
    </div>
  );
}

function MessageBrowser({ api, queueName, refreshMs }: QueuesPageProps & { readonly queueName: string }) {
  const messages = usePolling(() => api.peekMessages(queueName, 50), refreshMs, [api, queueName]);
  const rows = messages.data ?? [];
  return (
    <section data-testid="message-browser">
      <h3>Messages in {queueName}</h3>
      <p className="muted small">
        Up to 50, oldest first, without taking them; personal data is masked by the database.
      </p>
      <LoadState loading={messages.loading && !messages.data} error={messages.error} />
      {messages.data && rows.length === 0 && <Empty>No messages waiting.</Empty>}
      {rows.length > 0 && (
        <table>
          <thead>
            <tr>
              <th className="num">msg_id</th>
              <th>enqueued</th>
              <th className="num">reads</th>
              <th>visible at</th>
              <th>message</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.msg_id}>
                <td className="num">{row.msg_id}</td>
                <td>{formatTime(row.enqueued_at)}</td>
                <td className="num">{row.read_ct}</td>
                <td>{formatTime(row.vt)}</td>
                <td>
                  <pre>{formatJson(row.message)}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
