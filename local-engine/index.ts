// The local engine: runs a Pulumi program without the Pulumi CLI (see README.md). Used by the tests and by
// `npm run demo`.
export { LocalEngine } from "./engine";
export type { LocalEngineOptions, EngineHooks, StepEvent, Op, OpRecord, RunResult, StateEntry } from "./engine";
export { DynamicProviderHost, ProviderHostError, REPO_ROOT, UNKNOWN, serializeProvider } from "./provider-host";
export type { DiffAnswer, DiffChanges } from "./provider-host";
export { declaredConfig, stackConfig } from "./config";
export type { DeclaredKey } from "./config";
export { SECRET_SIG, SECRET_VALUE, isSecretEnvelope, stripSecrets } from "./secrets";
export { makeInstalledProgram, requireInstalled } from "./installed-package";
