/** The Quota entity: GPU-hours per user per calendar month (UTC), kept in milli-hours. */
import { type MilliHours, milliToHours } from "../util/hours";

export interface QuotaItem {
  pk: string;
  sk: string;
  type: "Quota";
  userId: string;
  period: string;
  limitMilli: MilliHours;
  reservedMilli: MilliHours;
  usedMilli: MilliHours;
  /** limit − reserved − used, kept in step so a reservation is one conditional update. */
  remainingMilli: MilliHours;
  updatedAt: string;
}

export interface Quota {
  period: string;
  limitHours: number;
  reservedHours: number;
  usedHours: number;
  remainingHours: number;
}

/** The quota period ("YYYY-MM", UTC) that `at` falls in. */
export const periodOf = (at: Date): string => at.toISOString().slice(0, 7);

export const toQuota = (q: Pick<QuotaItem, "period" | "limitMilli" | "reservedMilli" | "usedMilli" | "remainingMilli">): Quota => ({
  period: q.period,
  limitHours: milliToHours(q.limitMilli),
  reservedHours: milliToHours(q.reservedMilli),
  usedHours: milliToHours(q.usedMilli),
  remainingHours: milliToHours(q.remainingMilli),
});
