import type { Session, SupabaseClient } from "@supabase/supabase-js";
import { useEffect, useMemo, useState } from "react";
import { consoleApi } from "./console-api.ts";
import { CronPage } from "./pages/cron-page.tsx";
import { DeadLettersPage } from "./pages/dead-letters-page.tsx";
import { EmailPage } from "./pages/email-page.tsx";
import { QueuesPage } from "./pages/queues-page.tsx";
import { ReportsPage } from "./pages/reports-page.tsx";
import { SignInPage } from "./pages/sign-in-page.tsx";
import { sendTestEmail } from "./send-test-email.ts";

const pages = ["queues", "dead-letters", "cron", "email", "reports"] as const;
type Page = (typeof pages)[number];
const titles: Record<Page, string> = {
  queues: "Queues",
  "dead-letters": "Dead letters",
  cron: "Cron",
  email: "Email",
  reports: "Reports",
};
const REFRESH_MS = 5_000;

/** `#/cron` → "cron"; anything else (including a sign-in fragment) → the queues page. */
function pageOf(hash: string): Page {
  const name = hash.replace(/^#\/?/, "");
  return (pages as readonly string[]).includes(name) ? (name as Page) : "queues";
}

function useHashPage(): Page {
  const [page, setPage] = useState(() => pageOf(window.location.hash));
  useEffect(() => {
    const onChange = () => setPage(pageOf(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return page;
}

function isOperator(session: Session): boolean {
  return session.user.app_metadata?.role === "operator";
}

export function App({ supabase }: { readonly supabase: SupabaseClient }) {
  // undefined: supabase-js is still reading the stored session or a sign-in link.
  const [session, setSession] = useState<Session | null>();
  const page = useHashPage();
  const [autoRefresh, setAutoRefresh] = useState(true);
  const refreshMs = autoRefresh ? REFRESH_MS : 0;
  const api = useMemo(() => consoleApi(supabase), [supabase]);

  useEffect(() => {
    const { data } = supabase.auth.onAuthStateChange((_event, next) => setSession(next));
    void supabase.auth.getSession().then(({ data: current }) => setSession(current.session));
    return () => data.subscription.unsubscribe();
  }, [supabase]);

  if (session === undefined) return <p className="muted">Loading…</p>;
  if (session === null) return <SignInPage supabase={supabase} />;

  const signOut = () => void supabase.auth.signOut();
  if (!isOperator(session)) {
    return (
      <main className="sign-in">
        <h1>Balansity operator console</h1>
        <p className="error" role="alert">
          {session.user.email || session.user.id} is not an operator: the console needs an account whose
          app_metadata has role "operator".
        </p>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </main>
    );
  }

  return (
    <div className="layout">
      <header>
        <h1>Balansity console</h1>
        <nav>
          {pages.map((name) => (
            <a key={name} href={`#/${name}`} className={name === page ? "current" : ""}>
              {titles[name]}
            </a>
          ))}
        </nav>
        <label className="who">
          <input
            type="checkbox"
            checked={autoRefresh}
            onChange={(event) => setAutoRefresh(event.target.checked)}
          />{" "}
          refresh every {REFRESH_MS / 1000} s
        </label>
        <span className="who">
          <span data-testid="signed-in-as">{session.user.email}</span>{" "}
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        {page === "queues" && <QueuesPage api={api} refreshMs={refreshMs} />}
        {page === "dead-letters" && <DeadLettersPage api={api} refreshMs={refreshMs} />}
        {page === "cron" && <CronPage api={api} refreshMs={refreshMs} />}
        {page === "email" && (
          <EmailPage
            api={api}
            refreshMs={refreshMs}
            sendTestEmail={(input) => sendTestEmail(supabase, input)}
          />
        )}
        {page === "reports" && <ReportsPage api={api} refreshMs={refreshMs} />}
      </main>
    </div>
  );
}
