import { createClient } from "@supabase/supabase-js";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { loadConsoleConfig } from "./console-config.ts";
import "./styles.css";

const root = createRoot(document.getElementById("root") as HTMLElement);
const loaded = loadConsoleConfig({
  VITE_SUPABASE_URL: import.meta.env.VITE_SUPABASE_URL,
  VITE_SUPABASE_ANON_KEY: import.meta.env.VITE_SUPABASE_ANON_KEY,
});

if (!loaded.ok) {
  root.render(
    <main className="sign-in">
      <h1>The console was built without its settings</h1>
      <ul className="error" role="alert">
        {loaded.problems.map((problem) => (
          <li key={problem}>{problem}</li>
        ))}
      </ul>
      <p>
        Build it with both set, e.g. VITE_SUPABASE_URL=… VITE_SUPABASE_ANON_KEY=… pnpm --filter
        @balansity/console build
      </p>
    </main>,
  );
} else {
  const { config } = loaded;
  // The anon key only: what an operator may do comes from their session's JWT, checked in SQL.
  const supabase = createClient(config.supabaseUrl, config.anonKey, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: true, flowType: "implicit" },
  });
  root.render(
    <StrictMode>
      <App supabase={supabase} />
    </StrictMode>,
  );
}
