/** Stops the reactors a test file's fixtures started (test/support/core.ts), after the file. */
import { afterAll } from "vitest";
import { reactors } from "../support/reactors";

afterAll(async () => {
  await Promise.all([...reactors].map((r) => r.stop()));
  reactors.clear();
});
