/** Quota reads as users see them. */
import type { Core } from "../core";
import type { UserItem } from "../user/user";
import { hoursToMilli } from "../util/hours";
import { periodOf, type Quota, toQuota } from "./quota";
import { getQuotaItem } from "./store";

/** The limit a user's new month opens with: their standing limit, else the configured default. */
export const openingLimitMilli = (core: Core, user: Pick<UserItem, "monthlyLimitMilli">) =>
  user.monthlyLimitMilli ?? hoursToMilli(core.config.defaultMonthlyGpuHours);

/** The user's quota for the current month (an unopened month shows its opening limit). */
export async function currentQuota(core: Core, user: UserItem): Promise<Quota> {
  const period = periodOf(core.now());
  const item = await getQuotaItem(core.db, user.id, period);
  if (item) return toQuota(item);
  const limit = openingLimitMilli(core, user);
  return toQuota({ period, limitMilli: limit, reservedMilli: 0, usedMilli: 0, remainingMilli: limit });
}
