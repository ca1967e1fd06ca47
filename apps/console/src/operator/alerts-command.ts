import type { Command } from "commander";
import { type CliContext, runOperatorCommand } from "./operator-command.ts";
import type { OperatorConnection } from "./operator-connection.ts";

type Exit = (code: number) => void;

/** One alert condition as automation.alert_state (052) holds it. */
export interface AlertConditionRow {
  readonly condition: string;
  readonly firing: boolean;
  readonly summary: string;
  readonly first_fired_at: string;
  readonly last_notified_at: string;
  readonly resolved_at: string | null;
  readonly notifications: number;
}

/** One worker process as its heartbeat row (052) shows it. */
export interface WorkerHeartbeatRow {
  readonly worker_id: string;
  readonly hostname: string;
  readonly pid: number;
  readonly version: string;
  readonly started_at: string;
  readonly last_seen_at: string;
  readonly stopped_at: string | null;
}

export interface AlertsView {
  readonly conditions: readonly AlertConditionRow[];
  readonly workers: readonly WorkerHeartbeatRow[];
  readonly webhooks_pending: number;
  readonly email_to_set: boolean;
  readonly webhook_set: boolean;
}

/** The alert state, the workers and the webhook outbox, from `public.console_alerts()` (052). */
export async function alertsView(db: OperatorConnection): Promise<AlertsView> {
  const rows = await db.query<{ view: AlertsView }>("select public.console_alerts() as view");
  const view = rows[0]?.view;
  if (!view) throw new Error("console_alerts returned nothing");
  return view;
}

/** `alerts [--json]`. */
export function addAlertsCommand(program: Command, context: CliContext, exit: Exit): void {
  program
    .command("alerts")
    .description(
      "operator alerts (check-alerts): conditions firing and resolved, worker heartbeats, webhooks waiting",
    )
    .option("--json", "print JSON instead of lines")
    .action(async (options: { json?: boolean }) => {
      exit(
        await runOperatorCommand(context, options, async (db) => {
          const view = await alertsView(db);
          const firing = view.conditions.filter((row) => row.firing);
          const lines = [
            firing.length === 0 ? "no alert is firing" : `${firing.length} alert(s) firing:`,
            ...firing.map(
              (row) =>
                `  ${row.condition} since ${row.first_fired_at}: ${row.summary} ` +
                `(told ${row.notifications} time(s), last ${row.last_notified_at})`,
            ),
            ...view.conditions
              .filter((row) => !row.firing)
              .map((row) => `  resolved ${row.condition} at ${row.resolved_at}`),
            view.workers.length === 0 ? "workers: none recorded" : `workers (${view.workers.length}):`,
            ...view.workers.map(
              (worker) =>
                `  ${worker.worker_id} v${worker.version}: ` +
                (worker.stopped_at ? `stopped ${worker.stopped_at}` : `last seen ${worker.last_seen_at}`),
            ),
            `notify: email ${view.email_to_set ? "on" : "off (alerts_email_to is empty)"}, ` +
              `webhook ${view.webhook_set ? "on" : "off (alerts_webhook_url is empty)"}` +
              (view.webhooks_pending > 0 ? `, ${view.webhooks_pending} webhook(s) waiting for a worker` : ""),
          ];
          return { json: { ...view }, lines };
        }),
      );
    });
}
