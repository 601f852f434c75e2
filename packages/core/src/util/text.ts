/** Rules for text people read back (names, images, commands, reasons): no control characters, and no
 * format characters such as the bidi overrides (U+202A–U+202E, U+2066–U+2069), which can make a
 * job or a person's name display as something else in the console, a terminal or a log (Trojan
 * Source, CVE-2021-42574). */
import type * as z from "zod";

const NO_CONTROL = /^[^\p{Cc}\p{Cf}]*$/u;
/** As NO_CONTROL, but lines and tabs are allowed (a multi-line command or message). */
const NO_CONTROL_BUT_LINES = /^(?:[\t\n\r]|[^\p{Cc}\p{Cf}])*$/u;

/** A one-line text: no control or format characters. */
export const plainText = (schema: z.ZodString) => schema.regex(NO_CONTROL, "must not contain control or bidi characters");

/** A text of several lines: tabs and line breaks allowed, no other control or format characters. */
export const plainLines = (schema: z.ZodString) =>
  schema.regex(NO_CONTROL_BUT_LINES, "must not contain control or bidi characters other than tabs and line breaks");
