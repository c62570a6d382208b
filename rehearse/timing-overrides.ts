// Per-workload start-up and shut-down overrides from a small JSON file (the CLI's --timings; its
// `--startup-seconds ns/name=N` flags go on top):
//   { "startupSeconds": { "default": 5, "shop/web": 40 }, "shutdownSeconds": { "shop/web": 10 } }
import { readFileSync } from "node:fs";
import { RehearsalInputError, type TimingOverrides } from "./types";

function section(file: string, name: string, v: unknown): Record<string, number> | undefined {
    if (v === undefined) return undefined;
    if (!v || typeof v !== "object" || Array.isArray(v))
        throw new RehearsalInputError(`${file}: "${name}" must be an object of "namespace/name": seconds`);
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(v as Record<string, unknown>)) {
        if (typeof n !== "number" || !Number.isFinite(n) || n < 0)
            throw new RehearsalInputError(`${file}: ${name}["${k}"] must be a number of seconds, 0 or more`);
        out[k] = n;
    }
    return out;
}

/** Reads a timings JSON file. */
export function readTimingsFile(file: string): TimingOverrides {
    let data: any;
    try {
        data = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
        throw new RehearsalInputError(`cannot read timings file ${file}: ${(err as Error).message}`);
    }
    if (!data || typeof data !== "object" || Array.isArray(data))
        throw new RehearsalInputError(`${file}: expected {"startupSeconds": {...}, "shutdownSeconds": {...}}`);
    const unknown = Object.keys(data).filter((k) => k !== "startupSeconds" && k !== "shutdownSeconds");
    if (unknown.length > 0)
        throw new RehearsalInputError(
            `${file}: unknown key ${unknown.map((k) => `"${k}"`).join(", ")} (expected startupSeconds, shutdownSeconds)`,
        );
    return {
        startupSeconds: section(file, "startupSeconds", data.startupSeconds),
        shutdownSeconds: section(file, "shutdownSeconds", data.shutdownSeconds),
    };
}

/** A file's overrides, then the flags' on top. */
export function mergeTimings(...parts: (TimingOverrides | undefined)[]): TimingOverrides {
    const out: TimingOverrides = {};
    for (const p of parts) {
        if (p?.startupSeconds) out.startupSeconds = { ...(out.startupSeconds ?? {}), ...p.startupSeconds };
        if (p?.shutdownSeconds) out.shutdownSeconds = { ...(out.shutdownSeconds ?? {}), ...p.shutdownSeconds };
    }
    return out;
}
