import {
  type EmailLocale,
  type EmailTemplateName,
  emailLocales,
  emailTemplateExamples,
  emailTemplateNames,
  type RenderedEmail,
  renderEmail,
} from "@balansity/emails";
import { useEffect, useState } from "react";
import { formatTime } from "../components/format.ts";
import { Empty, LoadState } from "../components/status.tsx";
import { usePolling } from "../components/use-polling.ts";
import type { ConsoleApi, EmailDeliveryRow } from "../console-api.ts";
import { EmailBudgetPanel } from "./email-budget-panel.tsx";

interface EmailPageProps {
  readonly api: ConsoleApi;
  readonly refreshMs: number;
  /** Queues a test email (through @balansity/queues' browser producer); resolves to its msg_id. */
  readonly sendTestEmail: (input: {
    readonly to: string;
    readonly template: EmailTemplateName;
    readonly locale: EmailLocale;
  }) => Promise<number>;
}

/** The send budget, recent deliveries (search by recipient), a test send and template previews. */
export function EmailPage({ api, refreshMs, sendTestEmail }: EmailPageProps) {
  return (
    <section>
      <h2>Email</h2>
      <EmailBudgetPanel api={api} refreshMs={refreshMs} />
      <Deliveries api={api} refreshMs={refreshMs} />
      <TestEmail sendTestEmail={sendTestEmail} />
      <TemplatePreviews />
    </section>
  );
}

// Shown first, in this order, when a delivery row has them; any other column follows.
const PREFERRED_COLUMNS = [
  "created_at",
  "recipient",
  "template",
  "status",
  "attempts",
  "resends",
  "error",
  "sent_at",
  "transport",
  "msg_id",
];
const HIDDEN_COLUMNS = new Set([
  "id",
  "idempotency_key",
  "updated_at",
  "html",
  "text",
  "variables",
  "payload",
]);

function columnsOf(rows: readonly EmailDeliveryRow[]): string[] {
  const keys = new Set(rows.flatMap((row) => Object.keys(row)));
  const first = PREFERRED_COLUMNS.filter((key) => keys.has(key));
  const rest = [...keys].filter((key) => !first.includes(key) && !HIDDEN_COLUMNS.has(key)).sort();
  return [...first, ...rest];
}

function cell(column: string, value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string" && /_at$/.test(column)) return formatTime(value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Failed rows stand out; rows waiting for the send budget (or a mailbox's limit) are marked too. */
function rowClass(status: unknown): string {
  if (String(status ?? "").includes("fail")) return "failed";
  return status === "waiting" ? "waiting" : "";
}

function Deliveries({ api, refreshMs }: Omit<EmailPageProps, "sendTestEmail">) {
  const [search, setSearch] = useState("");
  const deliveries = usePolling(() => api.emailDeliveries(search.trim() || undefined), refreshMs, [
    api,
    search,
  ]);
  const rows = deliveries.data ?? [];
  const columns = columnsOf(rows);
  return (
    <section>
      <h3>Recent deliveries</h3>
      <div className="toolbar">
        <label>
          recipient{" "}
          <input
            type="search"
            value={search}
            placeholder="exact address or a***@e***"
            onChange={(event) => setSearch(event.target.value)}
          />
        </label>
      </div>
      <LoadState loading={deliveries.loading && !deliveries.data} error={deliveries.error} />
      {deliveries.data && rows.length === 0 && (
        <Empty>No deliveries{search ? ` for "${search}"` : ""}.</Empty>
      )}
      {rows.length > 0 && (
        <div className="scroll">
          <table data-testid="email-deliveries">
            <thead>
              <tr>
                {columns.map((column) => (
                  <th key={column}>{column}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows are replaced whole on each load
                <tr key={index} className={rowClass(row.status)}>
                  {columns.map((column) => (
                    <td key={column} className="small">
                      {cell(column, row[column])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function TestEmail({ sendTestEmail }: Pick<EmailPageProps, "sendTestEmail">) {
  const [to, setTo] = useState("");
  const [template, setTemplate] = useState<EmailTemplateName>("checkup_completed");
  const [locale, setLocale] = useState<EmailLocale>("ru");
  const [outcome, setOutcome] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const submit = async () => {
    setOutcome(undefined);
    setFailure(undefined);
    try {
      const msgId = await sendTestEmail({ to: to.trim(), template, locale });
      setOutcome(`Queued ${template} (${locale}) to ${to.trim()}: message ${msgId}.`);
    } catch (error) {
      setFailure((error as Error).message);
    }
  };
  return (
    <section>
      <h3>Send a test email</h3>
      <form
        className="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <label>
          to{" "}
          <input
            type="email"
            name="to"
            required
            value={to}
            placeholder="you@example.com"
            onChange={(event) => setTo(event.target.value)}
          />
        </label>
        <TemplateSelect value={template} onChange={setTemplate} />
        <LocaleSelect value={locale} onChange={setLocale} />
        <button type="submit">Send test email</button>
      </form>
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
    </section>
  );
}

type Preview =
  | { readonly ok: true; readonly email: RenderedEmail }
  | { readonly ok: false; readonly error: string };

/** Renders every template in every language with its example variables, in the browser. */
function TemplatePreviews() {
  const [previews, setPreviews] = useState<ReadonlyMap<string, Preview>>(new Map());
  const [shown, setShown] = useState<{ template: EmailTemplateName; locale: EmailLocale }>({
    template: "checkup_completed",
    locale: "ru",
  });
  useEffect(() => {
    let cancelled = false;
    const pairs = emailTemplateNames.flatMap((template) =>
      emailLocales.map((locale) => ({ template, locale })),
    );
    void Promise.all(
      pairs.map(async ({ template, locale }): Promise<[string, Preview]> => {
        try {
          const email = await renderEmail({ template, locale, variables: emailTemplateExamples[template] });
          return [`${template}/${locale}`, { ok: true, email }];
        } catch (error) {
          return [`${template}/${locale}`, { ok: false, error: (error as Error).message }];
        }
      }),
    ).then((entries) => {
      if (!cancelled) setPreviews(new Map(entries));
    });
    return () => {
      cancelled = true;
    };
  }, []);
  const current = previews.get(`${shown.template}/${shown.locale}`);
  return (
    <section>
      <h3>Templates</h3>
      <table data-testid="template-previews">
        <thead>
          <tr>
            <th>template</th>
            {emailLocales.map((locale) => (
              <th key={locale}>subject ({locale})</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {emailTemplateNames.map((template) => (
            <tr key={template}>
              <td>{template}</td>
              {emailLocales.map((locale) => {
                const preview = previews.get(`${template}/${locale}`);
                return (
                  <td key={locale} data-preview={`${template}/${locale}`}>
                    {preview === undefined ? (
                      "…"
                    ) : preview.ok ? (
                      <button type="button" className="link" onClick={() => setShown({ template, locale })}>
                        {preview.email.subject}
                      </button>
                    ) : (
                      <span className="error">{preview.error}</span>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {current?.ok && (
        <div className="preview">
          <p className="muted small">
            {shown.template} ({shown.locale}): <strong>{current.email.subject}</strong>
          </p>
          <iframe
            title={`preview ${shown.template} ${shown.locale}`}
            srcDoc={current.email.html}
            sandbox=""
          />
        </div>
      )}
    </section>
  );
}

function TemplateSelect({
  value,
  onChange,
}: {
  readonly value: EmailTemplateName;
  readonly onChange: (value: EmailTemplateName) => void;
}) {
  return (
    <label>
      template{" "}
      <select
        name="template"
        value={value}
        onChange={(event) => onChange(event.target.value as EmailTemplateName)}
      >
        {emailTemplateNames.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

function LocaleSelect({
  value,
  onChange,
}: {
  readonly value: EmailLocale;
  readonly onChange: (value: EmailLocale) => void;
}) {
  return (
    <label>
      language{" "}
      <select name="locale" value={value} onChange={(event) => onChange(event.target.value as EmailLocale)}>
        {emailLocales.map((locale) => (
          <option key={locale} value={locale}>
            {locale}
          </option>
        ))}
      </select>
    </label>
  );
}
