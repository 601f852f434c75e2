/** GPU-hours are kept as integer milli-hours inside so sums never drift; hours outside. */

export type MilliHours = number;

export const hoursToMilli = (hours: number): MilliHours => Math.round(hours * 1000);
export const milliToHours = (milli: MilliHours): number => milli / 1000;

/** True when `hours` has at most three decimals (a whole number of milli-hours). */
export const isWholeMilliHours = (hours: number): boolean =>
  Math.abs(hours * 1000 - Math.round(hours * 1000)) < 1e-6;
