/**
 * `npx tsx cli/build-country-points.ts <countries-50m.json> <codes.json> <en.json>`: write the impossible-travel
 * detector's country table (shared/core/detectors/impossible-travel/countries.ts) from public data, so the table
 * can be checked and rebuilt rather than trusted.
 *
 * Inputs, obtained with `npm pack` (nothing is installed into the project):
 * - `countries-50m.json` of the `world-atlas` package (2.0.2): Natural Earth's Admin 0 countries, 1:50m, version
 *   4.1.0, as TopoJSON; Natural Earth is in the public domain. Features carry the ISO 3166-1 numeric code as id.
 * - `codes.json` and `langs/en.json` of `i18n-iso-countries` (7.14.0, MIT): numeric → alpha-2 codes and English
 *   names.
 *
 * Per country: its main landmasses (every polygon of at least a tenth of the largest one's area: Alaska with the
 * contiguous United States, Java with Sumatra and Borneo; not far-off small islands), the point that minimises
 * the greatest great-circle distance to their vertices (so the extent, that distance, is as small as a bound
 * covering them can be), and the extent rounded up to 10 km. At country level an address can be anywhere within
 * the extent of its point: the detector subtracts both extents from the distance between the points.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Ring = [number, number][];

interface Topology {
  transform: { scale: [number, number]; translate: [number, number] };
  arcs: [number, number][][];
  objects: {
    countries: {
      geometries: { type: string; id?: string; properties: { name: string }; arcs: unknown }[];
    };
  };
}

const EARTH_KM = 6371;
const RAD = Math.PI / 180;
/** Features Natural Earth gives no numeric code but the registries use a code for. */
const BY_NAME: Readonly<Record<string, string>> = { Kosovo: 'XK' };
const NAMES_EXTRA: Readonly<Record<string, string>> = { XK: 'Kosovo' };

function km(a: [number, number], b: [number, number]): number {
  const [lon1, lat1] = a;
  const [lon2, lat2] = b;
  const s =
    Math.sin(((lat2 - lat1) * RAD) / 2) ** 2 +
    Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(((lon2 - lon1) * RAD) / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(s)));
}

function decodeArcs(t: Topology): Ring[] {
  const [sx, sy] = t.transform.scale;
  const [tx, ty] = t.transform.translate;
  return t.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx, dy]) => {
      x += dx;
      y += dy;
      return [x * sx + tx, y * sy + ty] as [number, number];
    });
  });
}

function ring(arcs: Ring[], indexes: number[]): Ring {
  const out: Ring = [];
  for (const i of indexes) out.push(...(i >= 0 ? arcs[i]! : [...arcs[~i]!].reverse()));
  return out;
}

/**
 * A landmass farther than this from a country's largest one is an overseas part (French Guiana for France), where
 * few of the country's addresses are used: left out, or the country's point would sit in the ocean between them.
 * Alaska (about 800 km from Washington state across British Columbia) and Svalbard stay in.
 */
const MAX_GAP_KM = 1000;

/** The smallest distance between the vertices of two rings (0 for the same ring); rings are subsampled. */
function gapKm(a: Ring, b: Ring): number {
  if (a === b) return 0;
  const sa = a.filter((_, i) => i % Math.ceil(a.length / 400) === 0);
  const sb = b.filter((_, i) => i % Math.ceil(b.length / 400) === 0);
  let min = Infinity;
  for (const p of sa) for (const q of sb) min = Math.min(min, km(p, q));
  return min;
}

/** Planar area of a ring with longitude scaled by the cosine of its mean latitude: enough to rank landmasses. */
function area(r: Ring): number {
  const lat = r.reduce((s, p) => s + p[1], 0) / r.length;
  const k = Math.cos(lat * RAD);
  let a = 0;
  for (let i = 0; i < r.length; i++) {
    const [x1, y1] = r[i]!;
    const [x2, y2] = r[(i + 1) % r.length]!;
    // Unwrap a ring that crosses the antimeridian so its area is not that of the whole band.
    const dx = ((x2 - x1 + 540) % 360) - 180;
    a += x1 * k * y2 - (x1 + dx) * k * y1;
  }
  return Math.abs(a / 2);
}

/** The point minimising the greatest distance to `points`: shrinking grid search from their mean direction. */
function minimax(points: Ring): { at: [number, number]; extent: number } {
  let [x, y, z] = [0, 0, 0];
  for (const [lon, lat] of points) {
    x += Math.cos(lat * RAD) * Math.cos(lon * RAD);
    y += Math.cos(lat * RAD) * Math.sin(lon * RAD);
    z += Math.sin(lat * RAD);
  }
  let best: [number, number] = [Math.atan2(y, x) / RAD, Math.atan2(z, Math.hypot(x, y)) / RAD];
  const cost = (p: [number, number]) => points.reduce((m, q) => Math.max(m, km(p, q)), 0);
  let bestCost = cost(best);
  for (let step = 10; step > 0.005; step *= 0.7) {
    const [lon0, lat0] = best;
    for (let i = -5; i <= 5; i++)
      for (let j = -5; j <= 5; j++) {
        const lat = Math.max(-89.9, Math.min(89.9, lat0 + (i * step) / 5));
        const lon = ((lon0 + (j * step) / 5 / Math.max(0.2, Math.cos(lat * RAD)) + 540) % 360) - 180;
        const c = cost([lon, lat]);
        if (c < bestCost) {
          bestCost = c;
          best = [lon, lat];
        }
      }
  }
  return { at: best, extent: bestCost };
}

/** A string literal as the project's formatter writes it: single quotes unless the text holds one. */
function quoted(s: string): string {
  return s.includes("'") ? JSON.stringify(s) : `'${s.replace(/\\/g, '\\\\')}'`;
}

export function buildTable(topology: Topology, codes: string[][], names: Record<string, string | string[]>): string {
  const arcs = decodeArcs(topology);
  const alpha2 = new Map(codes.map((c) => [c[2]!, c[0]!]));
  const parts = new Map<string, { rings: Ring[]; name: string }>();
  for (const g of topology.objects.countries.geometries) {
    const code = g.id !== undefined ? alpha2.get(g.id) : BY_NAME[g.properties.name];
    if (!code) continue;
    const polygons = (g.type === 'Polygon' ? [g.arcs] : (g.arcs as number[][][])) as number[][][];
    const entry = parts.get(code) ?? { rings: [], name: g.properties.name };
    // Natural Earth gives some small territories their sovereign's code (Ashmore and Cartier Islands: Australia).
    entry.rings.push(...polygons.map((p) => ring(arcs, p[0]!)));
    parts.set(code, entry);
  }
  const rows: string[] = [];
  for (const [code, { rings, name: neName }] of parts) {
    const largest = rings.reduce((a, b) => (area(b) > area(a) ? b : a));
    const largestArea = area(largest);
    const main = rings.filter((r) => area(r) >= largestArea / 10 && gapKm(r, largest) <= MAX_GAP_KM);
    let points = main.flat();
    if (points.length > 4000) points = points.filter((_, i) => i % Math.ceil(points.length / 4000) === 0);
    const { at, extent } = minimax(points);
    const raw = names[code] ?? NAMES_EXTRA[code] ?? neName;
    const name = Array.isArray(raw) ? raw[0]! : raw;
    rows.push(
      `  ${code}: [${Number(at[1].toFixed(2))}, ${Number(at[0].toFixed(2))}, ${Math.ceil(extent / 10) * 10}, ${quoted(name)}],`,
    );
  }
  rows.sort();
  return rows.join('\n');
}

const HEADER = `/**
 * Where a country is, for the impossible-travel detector: ISO 3166-1 alpha-2 → [latitude, longitude, extent in
 * km, English name]. The point is the one that minimises the greatest distance to the country's main landmasses
 * (every part of at least a tenth of its largest one's area), and the extent is that distance rounded up to
 * 10 km: anyone in those landmasses is within the extent of the point.
 *
 * Generated by cli/build-country-points.ts (do not edit by hand) from Natural Earth's Admin 0 countries, 1:50m,
 * version 4.1.0 (public domain), as redistributed in the world-atlas 2.0.2 package, with numeric → alpha-2 codes
 * and English names from i18n-iso-countries 7.14.0 (MIT); see NOTICE. A code not in the table (a territory too
 * small for the 1:50m map, the registries' \`EU\` and \`AP\`) has no position: the detector does not judge it.
 */
export type CountryRow = readonly [lat: number, lon: number, extentKm: number, name: string];

export const COUNTRIES: Readonly<Record<string, CountryRow>> = {
`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [topoPath, codesPath, namesPath] = process.argv.slice(2);
  if (!topoPath || !codesPath || !namesPath) {
    process.stderr.write('usage: npx tsx cli/build-country-points.ts <countries-50m.json> <codes.json> <en.json>\n');
    process.exit(2);
  }
  const table = buildTable(
    JSON.parse(readFileSync(topoPath, 'utf8')) as Topology,
    JSON.parse(readFileSync(codesPath, 'utf8')) as string[][],
    (JSON.parse(readFileSync(namesPath, 'utf8')) as { countries: Record<string, string | string[]> }).countries,
  );
  const out = fileURLToPath(new URL('../shared/core/detectors/impossible-travel/countries.ts', import.meta.url));
  writeFileSync(out, `${HEADER}${table}\n};\n`);
  process.stderr.write(`wrote ${table.split('\n').length} countries to ${out}\n`);
}
