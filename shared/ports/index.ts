export type { LogSource, LogSourceResult, LogSourceStats } from './log-source';
export type { BaselineStore } from './baseline-store';
export type { AlertSink } from './alert-sink';
export type { Clock } from './clock';
