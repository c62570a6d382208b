// The dynamic providers Pulumi serializes into state. Each is a tiny proxy: its methods `require` the compiled
// step code (dist/components/steps/index.js) by absolute path inside the dynamic-provider host and delegate.
// Why: the host loads providers from serialized text with the program directory as cwd and can only load
// compiled JavaScript; capturing modules or clients would either fail to serialize or copy whole local
// modules into every resource's state. Captured values are the module path and the step name (two strings).
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { COMPILED_DIR } from "./package-root";
import type { StepName } from "./steps/step-logic";

/** Absolute path of the compiled step implementations. */
export const STEPS_MODULE: string = path.join(COMPILED_DIR, "components", "steps", "index.js");

/** Builds the provider object for one step type. Call once per type, at module load (one object per type). */
export function makeStepProvider(stepsModule: string, step: StepName): pulumi.dynamic.ResourceProvider {
    const load = (): pulumi.dynamic.ResourceProvider => {
        if (!require("fs").existsSync(stepsModule)) {
            throw new Error(`node-upgrade: ${stepsModule} does not exist; run \`npm run build\` in the pulumi-node-upgrade package first ` +
                `(the Pulumi dynamic-provider host can only load compiled JavaScript)`);
        }
        return require(stepsModule).steps[step];
    };
    return {
        check: (olds: any, news: any) => load().check!(olds, news),
        diff: (id: string, olds: any, news: any) => load().diff!(id, olds, news),
        create: (inputs: any) => load().create(inputs),
        update: (id: string, olds: any, news: any) => load().update!(id, olds, news),
        read: (id: string, props: any) => load().read!(id, props),
        // Destroying the stack never touches the node. This runs the provider text stored in state, so it
        // deliberately loads nothing: it keeps working even if the package moved or was removed.
        delete: async (_id: string, props: any) => {
            console.log(`node-upgrade: [${step} ${props?.nodeName}] delete does nothing: removing this step from the stack leaves the node as it is`);
        },
    };
}
