// @balansity/queues/supabase: the supabase-js transport. Browser-safe (supabase-js is the caller's).
export { type SupabaseRpcClient, supabaseTransport } from "./supabase-transport.ts";
