import type { SupabaseClient } from "@supabase/supabase-js";
import { useState } from "react";

/**
 * Supabase Auth sign-in: email and password, or a magic link back to this page. Locally, the devstack
 * prints a sign-in link for the seeded operator instead (the seed's users have no password).
 */
export function SignInPage({ supabase }: { readonly supabase: SupabaseClient }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [message, setMessage] = useState<{ readonly ok: boolean; readonly text: string }>();

  const withPassword = async () => {
    const { error } = await supabase.auth.signInWithPassword({ email: email.trim(), password });
    if (error) setMessage({ ok: false, text: `Sign-in failed: ${error.message}` });
  };
  const withLink = async () => {
    const here = new URL(window.location.href);
    here.hash = "";
    const { error } = await supabase.auth.signInWithOtp({
      email: email.trim(),
      options: { emailRedirectTo: here.toString(), shouldCreateUser: false },
    });
    setMessage(
      error
        ? { ok: false, text: `Could not send the link: ${error.message}` }
        : { ok: true, text: `A sign-in link is on its way to ${email.trim()}.` },
    );
  };

  return (
    <main className="sign-in">
      <h1>Balansity operator console</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void withPassword();
        }}
      >
        <label>
          email
          <input
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </label>
        <label>
          password
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        <div className="toolbar">
          <button type="submit" disabled={!email || !password}>
            Sign in
          </button>
          <button type="button" disabled={!email} onClick={() => void withLink()}>
            Email me a sign-in link
          </button>
        </div>
      </form>
      {message && (
        <p className={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>
          {message.text}
        </p>
      )}
      <p className="muted small">
        Operators only: the account's app_metadata must carry <code>{'{"role": "operator"}'}</code>. Locally,{" "}
        <code>pnpm dev</code> prints a sign-in link for the seeded operator.
      </p>
    </main>
  );
}
