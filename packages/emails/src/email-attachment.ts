import * as z from "zod";

/**
 * A file an email carries, by reference: the message names where the file is stored and the email
 * sender fetches it (a PDF does not belong inside a queue message). `storage_path` is a path in the
 * report store (`<user_id>/<assessment_id>/<name>.pdf`).
 */
export const emailAttachmentSchema = z.object({
  file_name: z
    .string({ error: "must be a string" })
    .regex(/^[\w.-]{1,120}$/, { error: "must be a plain file name (letters, digits, _ . -)" }),
  content_type: z.literal("application/pdf", { error: "must be application/pdf" }),
  storage_path: z
    .string({ error: "must be a string" })
    .regex(/^[\w-]+(\/[\w.-]+)+$/, { error: "must be a relative path like <user>/<assessment>/<file>.pdf" })
    .max(300, { error: "must be at most 300 characters" }),
  size_bytes: z
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .positive({ error: "must be positive" }),
});

export type EmailAttachmentRef = z.output<typeof emailAttachmentSchema>;
