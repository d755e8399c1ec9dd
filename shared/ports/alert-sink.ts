import type { AlertBatch, PublishReport } from '../core/model';

/**
 * Where alerts go: SNS in AWS, the console locally.
 * Must report exactly which alerts were delivered; the pipeline marks only those as raised, and fails
 * the run if any were not, so the retry delivers them without duplicating the rest.
 */
export interface AlertSink {
  publish(batch: AlertBatch): Promise<PublishReport>;
}
