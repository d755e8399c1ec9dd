/** The only way the pipeline learns the time (for durations and run ids); windows come from the schedule, not the clock. */
export interface Clock {
  now(): number;
}
