import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/**
 * The operator console: a static build (`dist/web`) that any static host can serve. Its only settings
 * are public, read at build time: VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY. Under `devstack run`
 * (pnpm dev) they come from the local stack's SUPABASE_URL and SUPABASE_ANON_KEY.
 */
export default defineConfig(() => {
  const env = process.env;
  return {
    root: "web",
    base: "./",
    plugins: [react()],
    // Vite exposes every VITE_* variable of the environment as import.meta.env.*, one line of code
    // away from the bundle (a service-role key exported under such a name included): the prefix
    // below is one nobody uses, and the two public settings are defined explicitly instead.
    envPrefix: "VITE_PUBLIC_ONLY_",
    define: {
      "import.meta.env.VITE_SUPABASE_URL": JSON.stringify(env.VITE_SUPABASE_URL ?? env.SUPABASE_URL ?? ""),
      "import.meta.env.VITE_SUPABASE_ANON_KEY": JSON.stringify(
        env.VITE_SUPABASE_ANON_KEY ?? env.SUPABASE_ANON_KEY ?? "",
      ),
    },
    server: { host: "localhost", port: Number(env.CONSOLE_PORT ?? 5173), strictPort: true },
    preview: { host: "localhost", port: Number(env.CONSOLE_PORT ?? 4173) },
    build: {
      outDir: "../dist/web",
      emptyOutDir: true,
      chunkSizeWarningLimit: 1500,
    },
  };
});
