/** Minimal types for dynalite (it ships none): only what `embedded-dynamo.ts` uses. */
declare module 'dynalite' {
  interface DynaliteOptions {
    /** LevelDB folder; in memory when omitted. */
    path?: string;
    /** How long tables stay CREATING / DELETING / UPDATING (default 500 ms each). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** Maximum item size (default 400, as DynamoDB). */
    maxItemSizeKb?: number;
    verbose?: boolean;
    debug?: boolean;
  }
  /** A plain Node HTTP server whose `close` also closes the LevelDB store. */
  function dynalite(options?: DynaliteOptions): import('node:http').Server;
  export default dynalite;
}
