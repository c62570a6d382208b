// The dynamic provider of one step type, as Pulumi stores it in state (`__provider`). It is a thin proxy that
// finds the compiled step code (dist/components/steps) by package name from the program directory, which is
// the dynamic-provider host's working directory, and delegates to it.
//
// Why by package name: Pulumi runs the provider text stored in state for refresh and delete, possibly on another
// machine or in another checkout (a laptop runs `up`, CI runs `refresh`). A captured absolute path would tie the
// state to one directory and put the user's home path in state (pulumi/pulumi#9085, #6490).
//
// Why one module per type (cordon.ts, drain.ts, ...): when this package is installed in node_modules, the
// SDK's closure serializer stores a provider that is a module's exports as `require("<that module>")`, about 250
// bytes, instead of the provider's code (@pulumi/pulumi runtime/closure/createClosure.js captureModuleAsync).
// From a checkout (the repository's own root program, the tests), the module is local and is serialized by
// value, so nothing here may capture a path: the loader only uses the working directory.
import type * as pulumi from "@pulumi/pulumi";
import type { StepName } from "../steps/step-logic";

/**
 * The steps module, found from the program directory; free of captured values (see above). Cached on globalThis,
 * the only state a by-value serialized function keeps between calls. Comments stay outside the function bodies:
 * a checkout stores the bodies' text in the state.
 * Order: the program's node_modules (Node's own lookup, so hoisting and workspaces work), then the nearest
 * package.json named ours (a checkout of this package, or a program inside one such as examples/).
 */
function loadSteps(): any {
    const cache = globalThis as any;
    return (cache.__nodeUpgradeSteps ??= findSteps());
}

// The provider is serialized by value, so everything it uses is required inside the function.
/* eslint-disable @typescript-eslint/no-require-imports */
function findSteps(): any {
    const path = require("path"),
        fs = require("fs"),
        cwd = process.cwd();
    try {
        return require(require.resolve("pulumi-node-upgrade/dist/components/steps/index.js", { paths: [cwd] }));
    } catch (err: any) {
        if (err?.code !== "MODULE_NOT_FOUND") throw err;
    }
    for (let dir = cwd; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "pulumi-node-upgrade") {
            const file = path.join(dir, "dist/components/steps/index.js");
            if (!fs.existsSync(file)) throw new Error(`node-upgrade: ${file} does not exist; run \`npm run build\` in ${dir} first`);
            return require(file);
        }
    }
    throw new Error(
        `node-upgrade: cannot find the pulumi-node-upgrade package from ${cwd}. Run Pulumi in the program's directory, after \`npm install\` there.`,
    );
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** The provider object for one step type. Each per-type module exports exactly this object. */
export function stepProvider(step: StepName): pulumi.dynamic.ResourceProvider {
    return {
        // The engine gives dynamic providers the whole stack configuration (pkg/resource/deploy/target.go
        // GetPackageConfig); steps read a kubeconfig named by `kubeconfigConfigKey` from it.
        configure: async (req: pulumi.dynamic.ConfigureRequest) => loadSteps().configure(req.config),
        check: (olds: any, news: any) => loadSteps().steps[step].check(olds, news),
        diff: (id: string, olds: any, news: any) => loadSteps().steps[step].diff(id, olds, news),
        create: (inputs: any) => loadSteps().steps[step].create(inputs),
        update: (id: string, olds: any, news: any) => loadSteps().steps[step].update(id, olds, news),
        read: (id: string, props: any) => loadSteps().steps[step].read(id, props),
        // No delete: removing a step from the stack never touches the node, and the host then runs no code at all.
    };
}
