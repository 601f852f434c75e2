/** Settings every Lambda of the app shares, applied before any function is declared. */
$transform(sst.aws.Function, (args) => {
  // Graviton: ~20 % cheaper per GB-second; nothing in the bundle is native code.
  args.architecture ??= "arm64";
  args.runtime ??= "nodejs22.x";
  args.memory ??= "512 MB";
  args.logging ??= { retention: "1 month", format: "json" };
});

export {};
