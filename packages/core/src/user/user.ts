/** The User entity: its stored item, its public view and its input schemas. */
import * as z from "zod";
import { plainText } from "../util/text";

export const ROLES = ["user", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface UserItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  /** Set while the account is an active admin (userKeys.activeAdmin). */
  gsi2pk?: string;
  gsi2sk?: string;
  type: "User";
  id: string;
  email: string;
  fullName: string;
  role: Role;
  active: boolean;
  passwordHash: string;
  /** Bumped by logout and a password change: a token carries the version it was issued at (`sv`)
   * and stops working once they differ. Absent: 0. */
  sessionVersion?: number;
  /** Orgs the user belongs to (MAX_ORGS_PER_USER), counted by joins, creations and departures. */
  orgCount?: number;
  /** The user's standing monthly limit in milli GPU-hours, when an admin set one. */
  monthlyLimitMilli?: number;
  createdAt: string;
  updatedAt: string;
}

export interface User {
  id: string;
  email: string;
  fullName: string;
  role: Role;
  active: boolean;
  createdAt: string;
}

export const toUser = (item: UserItem): User => ({
  id: item.id,
  email: item.email,
  fullName: item.fullName,
  role: item.role,
  active: item.active,
  createdAt: item.createdAt,
});

export const EmailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: "must be a valid email address" }));

export const PASSWORD_MIN_LENGTH = 10;
// Upper bound keeps the slow hash from being turned into a CPU sink.
export const PasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(256, "must be at most 256 characters");

export const FullNameSchema = plainText(z.string().trim().min(1, "must not be empty").max(200));
