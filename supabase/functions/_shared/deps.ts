// The one npm import of the functions, pinned: Supabase's runtime fetches it from the npm registry.
export { z } from "npm:zod@4.1.12";
