/// <reference path="./.sst/platform/config.d.ts" />
/** `sst deploy` / `sst remove`. Resources live in infra/, one file per concern. */
export default $config({
  app(input) {
    return {
      name: "gpuaas",
      removal: input?.stage === "production" ? "retain" : "remove",
      protect: input?.stage === "production",
      home: "aws",
    };
  },
  async run() {
    // infra/* use SST's globals (sst, aws, $app), which exist only inside run(): import lazily.
    await import("./infra/defaults");
    await import("./infra/storage");
    await import("./infra/secrets");
    await import("./infra/workflow");
    await import("./infra/api");
    await import("./infra/schedules");
    await import("./infra/events");
    await import("./infra/reactions");
    const { outputs } = await import("./infra/outputs");
    return outputs;
  },
});
