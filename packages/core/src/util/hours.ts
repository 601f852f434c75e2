/** GPU-hours are kept as integer milli-hours inside so sums never drift; hours outside. */

export type MilliHours = number;

export const hoursToMilli = (hours: number): MilliHours => Math.round(hours * 1000);
export const milliToHours = (milli: MilliHours): number => milli / 1000;

/**
 * `hours` rounded UP to the next whole milli-hour (50/60 → 0.834). A value that already is a whole
 * number of milli-hours stays as it is, even where binary floats miss it (1.1 × 1000 = 1100.0000000000002).
 */
export function ceilToMilliHours(hours: number): MilliHours {
  const milli = hours * 1000;
  const nearest = Math.round(milli);
  return nearest > 0 && Math.abs(milli - nearest) < 1e-6 ? nearest : Math.ceil(milli);
}
