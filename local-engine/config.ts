// Stack configuration for programs run by the local engine (tests, the demo), built like the CLI builds it: the defaults declared in Pulumi.yaml, then the
// stack's own values. Values are strings, as the engine passes them to the program.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { findPackageRoot } from "../components/package-root";

export interface DeclaredKey {
    type: "string" | "integer" | "boolean" | "array";
    default?: unknown;
    description?: string;
    secret?: boolean;
    items?: { type: string };
}

export function declaredConfig(): Record<string, DeclaredKey> {
    const project = YAML.parse(fs.readFileSync(path.join(findPackageRoot(__dirname), "Pulumi.yaml"), "utf8"));
    return project.config ?? {};
}

const asConfigString = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** Declared defaults overlaid with `values`. Throws for a key Pulumi.yaml does not declare. */
export function stackConfig(values: Record<string, unknown>): Record<string, string> {
    const declared = declaredConfig();
    const out: Record<string, string> = {};
    for (const [k, d] of Object.entries(declared)) if (d.default !== undefined) out[k] = asConfigString(d.default);
    for (const [k, v] of Object.entries(values)) {
        if (!declared[k]) throw new Error(`config key "${k}" is not declared in Pulumi.yaml`);
        out[k] = asConfigString(v);
    }
    return out;
}
