/**
 * The scenario's network data: the real ranges of the extract cli/scenario/network-extract.tsv (IPtoASN's format,
 * `range_start  range_end  AS_number  country_code  AS_description`, tab-separated; network.ts draws every
 * address from them), built by the same builder the refresh function uses into the `NetworkDatabase` the
 * evaluation passes as `DetectionDeps.network`. The demo writes the same rows to examples/demo/network-data.tsv.
 *
 * Only the scenario's networks are in it, so an address outside them (none that the generator draws) looks up
 * as not routed. The internal network is written the way IPtoASN writes it (AS 0, "Not routed"), which the builder
 * leaves out.
 *
 * Pure and deterministic: the rows depend on the extract only (no seed, no shape, no clock).
 */
import { buildNetworkData } from '../../shared/core/network-data/build';
import { NetworkDatabase } from '../../shared/core/network-data/lookup';
import { EXTRACT_LINES, INTERNAL_NET8 } from './network';
import { DEFAULT_START } from './shapes';

/** The database header's source: says what the data is, wherever it is shown. */
export const SCENARIO_NETWORK_SOURCE =
  'authwatch scenario extract of RouteViews, NRO and DB-IP data (CC BY 4.0; cli/scenario/network-extract.tsv)';

/** The scenario's network data as IPtoASN rows (no header: the format has none): the internal network, then the extract. */
export function scenarioNetworkRows(): string[] {
  const internal = [`${INTERNAL_NET8}.0.0.0`, `${INTERNAL_NET8}.255.255.255`, 0, 'None', 'Not routed'].join('\t');
  return [internal, ...EXTRACT_LINES];
}

let cached: NetworkDatabase | undefined;

/**
 * The scenario's network data, built in memory once per process. Its build time is the scenarios' default start,
 * so the header is the same on every run (nothing judges this data's age).
 */
export function scenarioNetworkData(): NetworkDatabase {
  cached ??= NetworkDatabase.fromBytes(
    buildNetworkData(scenarioNetworkRows(), { builtAt: DEFAULT_START, source: SCENARIO_NETWORK_SOURCE }).bytes,
  );
  return cached;
}
