// What other modules use of the CLI: its flag parsers, so that a flag means the same wherever it is taken
// (the demo's --target-version and --drain-timeout). The commands themselves start from main.ts.
export { durationFlag, targetVersionFlag } from "./options";
