// Where the compiled package lives. Dynamic providers run in a separate host process that loads them from
// serialized text and can only `require` compiled JavaScript, so the providers load the drain engine and
// their helpers from `<package root>/dist` by absolute path. The same lookup works for the tests
// (dist/components), for the root program under ts-node (components/*.ts) and for users
// (node_modules/pulumi-node-upgrade/dist/components).
import * as fs from "fs";
import * as path from "path";

export const PACKAGE_NAME = "pulumi-node-upgrade";

/** Walks up from `startDir` to the directory whose package.json is named "pulumi-node-upgrade". */
export function findPackageRoot(startDir: string = __dirname): string {
    let dir = path.resolve(startDir);
    for (;;) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest)) {
            try {
                if (JSON.parse(fs.readFileSync(manifest, "utf8")).name === PACKAGE_NAME) return dir;
            } catch {
                // An unreadable package.json on the way up is not ours; keep walking.
            }
        }
        const parent = path.dirname(dir);
        if (parent === dir) throw new Error(`node-upgrade: cannot find the ${PACKAGE_NAME} package root above ${startDir}`);
        dir = parent;
    }
}

/** Absolute path of the compiled output directory (`<root>/dist`). Captured by the providers as a plain string. */
export const COMPILED_DIR: string = path.join(findPackageRoot(), "dist");

/** The error shown when compiled code is missing (e.g. running the TypeScript program before building). */
export function notBuiltMessage(file: string, compiledDir: string = COMPILED_DIR): string {
    return (
        `node-upgrade: ${file} does not exist; run \`npm run build\` in ${path.dirname(compiledDir)} first ` +
        `(the Pulumi dynamic-provider host can only load compiled JavaScript)`
    );
}

/** Loads a compiled module of this package (program side), e.g. loadCompiled("drain/index.js"). */
export function loadCompiled<T>(relativePath: string): T {
    const file = path.join(COMPILED_DIR, relativePath);
    if (!fs.existsSync(file)) throw new Error(notBuiltMessage(file));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the path is known only at run time
    return require(file) as T;
}
