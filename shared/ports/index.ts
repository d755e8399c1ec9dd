export type { LogSource, LogSourceResult, LogSourceStats } from './log-source';
export type {
  BaselineStore,
  DetectionStore,
  ItemNotStored,
  OperatorStore,
  SaveUsersResult,
} from './baseline-store';
export type { AlertSink } from './alert-sink';
export type { DeliveryRecord, DeliveryRecordStore } from './delivery-record';
export { OUTPUT_NAME } from './delivery-record';
export type { Clock } from './clock';
export { BACKFILL_CHECKPOINT_FORMAT } from './backfill-checkpoint';
export type { BackfillCheckpoint, CheckpointStore } from './backfill-checkpoint';
