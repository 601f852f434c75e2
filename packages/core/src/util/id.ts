/** Identifiers: ULIDs, sortable by creation time, monotonic within one process. */
import { monotonicFactory } from "ulid";

const next = monotonicFactory();

export const newId = (): string => next();

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const isId = (value: string): boolean => ULID.test(value);
