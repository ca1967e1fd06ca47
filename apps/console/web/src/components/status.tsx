import type { ReactNode } from "react";

/** The loading / error line above a table. */
export function LoadState({
  loading,
  error,
}: {
  readonly loading: boolean;
  readonly error: Error | undefined;
}) {
  if (error) {
    return (
      <p className="error" role="alert">
        {error.message}
      </p>
    );
  }
  return loading ? <p className="muted">Loading…</p> : null;
}

export function Empty({ children }: { readonly children: ReactNode }) {
  return <p className="muted empty">{children}</p>;
}
