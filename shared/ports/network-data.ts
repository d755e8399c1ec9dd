/**
 * Ports of the network-owner data: where a new publisher file comes from, and where built databases are kept
 * with a pointer to the one in use.
 */

/** The publisher's file, as lines. */
export interface NetworkDataSource {
  /** Where it comes from (a URL), recorded in the database's header. */
  readonly name: string;
  /**
   * The file's lines, streamed. Throws `NetworkDataError` when the file cannot be fetched or read whole
   * (an HTTP error, a truncated or corrupt gzip, more bytes than allowed): a partial file must never look
   * like a complete one.
   */
  lines(): AsyncIterable<string>;
}

/** The small object naming the database in use; swapping it is what makes a new database current. */
export interface NetworkDataPointer {
  /** Key of the database object. */
  readonly key: string;
  /** Build time, ISO 8601. */
  readonly builtAt: string;
  readonly source: string;
  readonly ipv4Ranges: number;
  readonly ipv6Ranges: number;
  readonly bytes: number;
  /** Hex SHA-256 of the database object: a reader checks it, so a torn or mixed-up object is never searched. */
  readonly sha256: string;
}

/** Reading the database in use (the detector's side). */
export interface NetworkDataReader {
  /** The pointer, or undefined if no database was ever swapped in. */
  current(): Promise<NetworkDataPointer | undefined>;
  /** The database object a pointer names, checked against its size and hash. */
  read(pointer: NetworkDataPointer): Promise<Uint8Array>;
}

/** Writing new databases and swapping them in (the refresh's side). */
export interface NetworkDataStore extends NetworkDataReader {
  /** Store a built database under a new, never reused key; returns its pointer (not yet current). */
  put(
    bytes: Uint8Array,
    meta: { builtAt: number; source: string; ipv4Ranges: number; ipv6Ranges: number },
  ): Promise<NetworkDataPointer>;
  /** Make `pointer` the database in use. */
  swap(pointer: NetworkDataPointer): Promise<void>;
  /** Keys of all stored databases, oldest first. */
  list(): Promise<string[]>;
  /** Delete stored databases (never the current one: the caller checks). */
  remove(keys: readonly string[]): Promise<void>;
}
