// This package as a user gets it: a Pulumi program directory whose node_modules holds pulumi-node-upgrade
// (a copy of the compiled library, not a link to this checkout) next to its dependencies. Used to check what
// Pulumi stores for an installed package (the provider as a require() by package name) and that state written
// from one directory works from another (`pulumi up` on a laptop, `pulumi refresh` in CI).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "./provider-host";

/** The compiled folders a user's install holds (package.json "files"). */
const SHIPPED = ["components", "kube-rules", "drain", "planner"];

/**
 * Makes `<tmp>/<name>/node_modules/pulumi-node-upgrade` with a copy of dist/{components,drain,planner} and this
 * checkout's package.json; the dependencies are symlinks to this checkout's node_modules (Node resolves them to
 * the same files, so the SDK is one copy, as npm's peer dependencies guarantee for users).
 */
export function makeInstalledProgram(
    name: string,
    root: string = fs.mkdtempSync(path.join(os.tmpdir(), "node-upgrade-installed-")),
): string {
    const program = path.join(root, name);
    const pkg = path.join(program, "node_modules", "pulumi-node-upgrade");
    fs.mkdirSync(pkg, { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, "package.json"), path.join(pkg, "package.json"));
    for (const dir of SHIPPED) fs.cpSync(path.join(REPO_ROOT, "dist", dir), path.join(pkg, "dist", dir), { recursive: true });
    for (const entry of fs.readdirSync(path.join(REPO_ROOT, "node_modules"))) {
        if (entry.startsWith(".") || entry === "pulumi-node-upgrade") continue;
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules", entry), path.join(program, "node_modules", entry));
    }
    fs.writeFileSync(path.join(program, "package.json"), JSON.stringify({ name: `program-${name}`, private: true }));
    return program;
}

/** Loads the installed copy of a compiled module of the package (e.g. "components/index.js"). */
export function requireInstalled<T>(program: string, relative: string): T {
    return require(path.join(program, "node_modules", "pulumi-node-upgrade", "dist", relative)) as T;
}
