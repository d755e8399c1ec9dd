/**
 * Distances between countries, for impossible travel at the precision the network data gives: the country a
 * source range is registered in. A country's point is not where the user is (geolocation error is the whole
 * country), so two logons are at least as far apart as the distance between the two points less both countries'
 * extents, and never less than 0: neighbours (the Netherlands and Germany) are 0 km apart at this precision.
 */
import { COUNTRIES } from './countries';

const EARTH_RADIUS_KM = 6371;
const RAD = Math.PI / 180;

/** A country as the detector places it. */
export interface CountryPlace {
  /** ISO 3166-1 alpha-2, upper case. */
  readonly code: string;
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
  /** Everyone in the country's main landmasses is within this many km of its point. */
  readonly extentKm: number;
}

/** The country's place, or undefined for a code the table does not know (a tiny territory, `EU`, `AP`, `ZZ`). */
export function countryPlace(code: string | undefined): CountryPlace | undefined {
  if (!code) return undefined;
  const c = code.toUpperCase();
  const row = Object.hasOwn(COUNTRIES, c) ? COUNTRIES[c] : undefined;
  if (!row) return undefined;
  const [lat, lon, extentKm, name] = row;
  return { code: c, name, lat, lon, extentKm };
}

/** Great-circle distance in km (haversine on a sphere of the Earth's mean radius). */
export function greatCircleKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const s =
    Math.sin(((b.lat - a.lat) * RAD) / 2) ** 2 +
    Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(((b.lon - a.lon) * RAD) / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(s)));
}

/** The least distance between anyone in country `a` and anyone in country `b`: points' distance less both extents. */
export function minDistanceKm(a: CountryPlace, b: CountryPlace): number {
  if (a.code === b.code) return 0;
  return Math.max(0, greatCircleKm(a, b) - a.extentKm - b.extentKm);
}
