/** Reactors started by a test file's fixtures (test/support/core.ts); test/setup/reactors.ts stops them after the file. */
export const reactors = new Set<{ stop(): Promise<void> }>();
