/** What a consumer reports; the ops module's Prometheus registry implements it. */
export interface ConsumerMetrics {
  processed(queue: string, seconds: number): void;
  failed(queue: string, code: string): void;
  retried(queue: string): void;
  deadLettered(queue: string, code: string): void;
}
