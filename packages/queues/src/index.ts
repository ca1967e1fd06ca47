// @balansity/queues: the queue catalog, producers and their errors. Browser-safe: zod and the
// email template catalog only. Transports live in `@balansity/queues/supabase` (browser and
// servers) and `@balansity/queues/kysely` (servers); consumer primitives in
// `@balansity/queues/consumer` (servers).

export * from "./catalog.ts";
export { type EmailSendTier, emailSendTierNames, emailSendTiers } from "./email-send-tiers.ts";
export {
  InvalidArgumentError,
  InvalidMessageError,
  QueueRpcError,
  type QueueRpcErrorDetails,
  type QueueRpcFailure,
} from "./errors.ts";
export { describeFieldIssue, type FieldIssue } from "./field-issues.ts";
export {
  FrontendCallError,
  NotCompletedError,
  NotOwnerError,
  NotSignedInError,
  parseRetryAt,
  RateLimitedError,
} from "./frontend-errors.ts";
export {
  isLegacyMessage,
  LegacyMessageError,
  type LegacyQueueMessage,
  legacyAnalyticsEvents,
  legacyAnalyticsMessageSchema,
  legacyEmailMessageSchema,
  legacyEmailPriority,
  legacyEmailTemplates,
  legacyIdempotencyKey,
  legacyPaymentMessageSchema,
  legacyQueueCatalog,
  legacyReportMessageSchema,
  upgradeLegacyEvent,
  upgradeLegacyPayment,
  upgradeLegacyReport,
} from "./legacy-catalog.ts";
export {
  checkEmailTask,
  type EmailPriority,
  type EmailTaskInput,
  emailTaskInputSchema,
  queueEmailTask,
} from "./queue-email-task.ts";
export {
  boundedJsonObject,
  emailAddressSchema,
  jsonByteLength,
  queueLimits,
  userDailyLimitDefaults,
  userHourlyLimitDefaults,
} from "./queue-limits.ts";
export {
  type PaymentProcessingInput,
  paymentProcessingInputSchema,
  queuePaymentProcessing,
} from "./queue-payment-processing.ts";
export {
  queueReportGeneration,
  type ReportGenerationInput,
  reportGenerationInputSchema,
} from "./queue-report-generation.ts";
export { queueTestEmail, type TestEmailInput, testEmailInputSchema } from "./queue-test-email.ts";
export {
  type QueueRpcArgs,
  type QueueRpcName,
  type QueueTransport,
  queueRpcArgumentTypes,
  type SqlArgumentType,
} from "./queue-transport.ts";
export { requestAssessmentReport } from "./request-assessment-report.ts";
export { type TrackEventInput, trackEvent, trackEventInputSchema } from "./track-event.ts";
