export type { LogSource, LogSourceResult, LogSourceStats } from './log-source';
export type {
  BaselineStore,
  DetectionStore,
  ItemNotStored,
  OperatorStore,
  SaveUsersResult,
} from './baseline-store';
export type { AlertSink } from './alert-sink';
export type { Clock } from './clock';
