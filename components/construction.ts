// Keeping the construction of many resources cheap.
//
// For every property of every resource, the Pulumi SDK creates four "debuggable" promises, and each captures
// `new Error().stack` at once (runtime/debuggable.js, used by transferProperties in runtime/rpc.js). Those
// stack traces are only ever printed by its promise-leak report (PULUMI_DEBUG_PROMISE_LEAKS). In a roll of
// 1,000 nodes (6,000 resources, all waiting in one dependency chain) they were half of the CPU time of
// constructing the program and a third of its memory (bench/scale.ts). Capturing them with a stack-trace
// limit of 0 makes them empty strings; nothing else changes: the SDK sets its own limit when it records a
// resource's source position, and the limit is restored before anything else runs (all of it is synchronous).
import * as pulumi from "@pulumi/pulumi";

/** Runs `construct` (synchronous resource construction) without the SDK's per-promise stack traces. */
export function withoutPromiseStackTraces<T>(construct: () => T): T {
    // Someone debugging leaked promises wants those traces.
    if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) return construct();
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return construct();
    } finally {
        Error.stackTraceLimit = limit;
    }
}

/**
 * `pulumi.all(values).apply(fn)` with the same meaning (unknown if any value is unknown, secret if any is secret,
 * depending on every value's resources) but cheaper. `pulumi.all` wraps every Output it is given into two new
 * Outputs before combining them; this chains one `apply` per Output instead, and only when the previous one has
 * resolved, so a chain waiting for its resources costs one pending Output, not 2n+2. Plain values (strings,
 * numbers, booleans, undefined) are passed through; objects and promises go through `pulumi.output` (which
 * unwraps Outputs nested in them).
 */
export function applyAll<V extends readonly unknown[], T>(
    values: readonly [...V],
    fn: (resolved: { -readonly [K in keyof V]: pulumi.Unwrap<V[K]> }) => T,
): pulumi.Output<pulumi.Unwrap<T>> {
    const next = (i: number, acc: unknown[]): any => {
        for (; i < values.length; i++) {
            const v = values[i];
            if (pulumi.Output.isInstance(v) || (v !== null && typeof v === "object")) break;
            acc.push(v);
        }
        if (i === values.length) return fn(acc as any);
        const v = values[i];
        const output: pulumi.Output<unknown> = pulumi.Output.isInstance(v) ? v : pulumi.output(v as any);
        return output.apply((resolved: unknown) => next(i + 1, [...acc, resolved]));
    };
    const result = next(0, []);
    return pulumi.Output.isInstance(result) ? (result as any) : (pulumi.output(result) as any);
}

const secretOf = new WeakMap<object, pulumi.Output<unknown>>();

/**
 * `pulumi.secret(value)`, made once per value object: every node of a roll passes the same kubeconfig and SSH
 * key to its five resources, and each `pulumi.secret` call costs three Outputs. A secret made here is its own
 * secret. Strings (not shareable by identity) get a new secret each time.
 */
export function secretOnce<T>(value: pulumi.Input<T> | undefined): pulumi.Output<T> | undefined {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== "object") return pulumi.secret(value) as any;
    const cached = secretOf.get(value as object);
    if (cached) return cached as any;
    const made = pulumi.secret(value) as pulumi.Output<unknown>;
    secretOf.set(value as object, made);
    secretOf.set(made, made);
    return made as any;
}
