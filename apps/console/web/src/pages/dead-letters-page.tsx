import { useMemo, useState } from "react";
import { formatJson, formatTime } from "../components/format.ts";
import { Empty, LoadState } from "../components/status.tsx";
import { usePolling } from "../components/use-polling.ts";
import type { ConsoleApi, DeadLetterSelection } from "../console-api.ts";

interface DeadLettersPageProps {
  readonly api: ConsoleApi;
  readonly refreshMs: number;
}

type Action = "retry" | "discard";

interface Pending {
  readonly action: Action;
  readonly selection: DeadLetterSelection;
  readonly description: string;
}

/**
 * The dead letters of one queue: why each failed, how often it was tried, its payload. Retry puts the
 * original payload back on the queue; discard deletes for good, after a confirmation.
 */
export function DeadLettersPage({ api, refreshMs }: DeadLettersPageProps) {
  const overview = usePolling(() => api.queueOverview(), 0, [api]);
  const queueNames = (overview.data ?? []).map((queue) => queue.queue_name);
  const [chosen, setChosen] = useState<string>();
  const queueName = chosen ?? queueNames[0];
  const [search, setSearch] = useState("");
  const [errorCode, setErrorCode] = useState("");
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [pending, setPending] = useState<Pending>();
  const [outcome, setOutcome] = useState<string>();
  const [failure, setFailure] = useState<string>();

  const letters = usePolling(
    () => (queueName ? api.deadLetters(queueName, search.trim() || undefined) : Promise.resolve([])),
    refreshMs,
    [api, queueName, search],
  );
  const all = letters.data ?? [];
  const codes = useMemo(
    () => [...new Set(all.map((row) => row.error_code).filter((code): code is string => !!code))].sort(),
    [all],
  );
  const rows = errorCode ? all.filter((row) => row.error_code === errorCode) : all;
  const selectedIds = rows.map((row) => row.msg_id).filter((id) => selected.has(id));

  const matching = (): Pending["selection"] =>
    search.trim()
      ? { msgIds: rows.map((row) => row.msg_id) }
      : { all: true, errorCode: errorCode || undefined };
  const describeMatching = () =>
    search.trim()
      ? `the ${rows.length} dead letters matching "${search.trim()}"`
      : errorCode
        ? `every dead letter of ${queueName} with error ${errorCode}`
        : `every dead letter of ${queueName}`;

  const run = async ({ action, selection, description }: Pending) => {
    if (!queueName) return;
    setPending(undefined);
    setFailure(undefined);
    try {
      const done =
        action === "retry"
          ? await api.retryDeadLetters(queueName, selection)
          : await api.discardDeadLetters(queueName, selection);
      setOutcome(`${action === "retry" ? "Retried" : "Discarded"} ${done} (${description}).`);
      setSelected(new Set());
      letters.reload();
    } catch (error) {
      setFailure((error as Error).message);
    }
  };
  // Retrying is safe to do at once; discarding asks first.
  const ask = (next: Pending) => {
    setOutcome(undefined);
    if (next.action === "retry") void run(next);
    else setPending(next);
  };

  const toggle = (id: number) =>
    setSelected((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  return (
    <section>
      <h2>Dead letters</h2>
      <div className="toolbar">
        <label>
          queue{" "}
          <select
            value={queueName ?? ""}
            onChange={(event) => {
              setChosen(event.target.value);
              setSelected(new Set());
              setOutcome(undefined);
            }}
          >
            {queueNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          search{" "}
          <input
            type="search"
            value={search}
            placeholder="exact address, error or shown text"
            onChange={(event) => setSearch(event.target.value)}
          />
        </label>
        <label>
          error{" "}
          <select value={errorCode} onChange={(event) => setErrorCode(event.target.value)}>
            <option value="">any</option>
            {codes.map((code) => (
              <option key={code} value={code}>
                {code}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="toolbar">
        <button
          type="button"
          disabled={selectedIds.length === 0}
          onClick={() =>
            ask({
              action: "retry",
              selection: { msgIds: selectedIds },
              description: `the ${selectedIds.length} selected`,
            })
          }
        >
          Retry selected ({selectedIds.length})
        </button>
        <button
          type="button"
          disabled={rows.length === 0}
          onClick={() => ask({ action: "retry", selection: matching(), description: describeMatching() })}
        >
          Retry all matching
        </button>
        <button
          type="button"
          className="danger"
          disabled={selectedIds.length === 0}
          onClick={() =>
            ask({
              action: "discard",
              selection: { msgIds: selectedIds },
              description: `the ${selectedIds.length} selected`,
            })
          }
        >
          Discard selected ({selectedIds.length})
        </button>
        <button
          type="button"
          className="danger"
          disabled={rows.length === 0}
          onClick={() => ask({ action: "discard", selection: matching(), description: describeMatching() })}
        >
          Discard all matching
        </button>
      </div>
      {pending && (
        <div className="confirm" role="alertdialog" aria-label="confirm discard">
          <p>Discard {pending.description} for good? The messages are deleted and will not be sent.</p>
          <button type="button" className="danger" onClick={() => void run(pending)}>
            Discard
          </button>
          <button type="button" onClick={() => setPending(undefined)}>
            Cancel
          </button>
        </div>
      )}
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
      <LoadState loading={letters.loading && !letters.data} error={letters.error} />
      {letters.data && rows.length === 0 && (
        <Empty>No dead letters{queueName ? ` in ${queueName}` : ""}.</Empty>
      )}
      {rows.length > 0 && (
        <table data-testid="dead-letters">
          <thead>
            <tr>
              <th />
              <th className="num">msg_id</th>
              <th>dead since</th>
              <th>error</th>
              <th className="num">attempts</th>
              <th>payload</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.msg_id} data-msg-id={row.msg_id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`select ${row.msg_id}`}
                    checked={selected.has(row.msg_id)}
                    onChange={() => toggle(row.msg_id)}
                  />
                </td>
                <td className="num">{row.msg_id}</td>
                <td>{formatTime(row.enqueued_at)}</td>
                <td>
                  <strong>{row.error_code ?? "—"}</strong>
                  <div className="small">{row.error_message}</div>
                </td>
                <td className="num">{row.attempts ?? "—"}</td>
                <td>
                  <pre>{formatJson(row.payload)}</pre>
                </td>
                <td>
                  <button
                    type="button"
                    onClick={() =>
                      ask({
                        action: "retry",
                        selection: { msgIds: [row.msg_id] },
                        description: `#${row.msg_id}`,
                      })
                    }
                  >
                    Retry
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
