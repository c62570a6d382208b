// Loading the components under Pulumi mocks (once per test process: the SDK keeps one set of mocks), and picking
// the operations on the node steps and commands out of a local-engine run.
import * as pulumi from "@pulumi/pulumi";
import type { OpRecord } from "../../local-engine";

export type Components = typeof import("../../components");
let components: Components | undefined;

/** The components, imported under mocks (the local engine installs its own mocks for each run). */
export async function loadComponents(): Promise<Components> {
    if (!components) {
        await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, "node-upgrade", "test");
        components = await import("../../components");
    }
    return components;
}

/** The operations on dynamic steps and remote commands (optionally only one kind of operation). */
export const stepsOf = (ops: OpRecord[], op?: string) =>
    ops.filter((o) => o.type.startsWith("pulumi-nodejs:") || o.type === "command:remote:Command").filter((o) => !op || o.op === op);
