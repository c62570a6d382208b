// Reading Input values at program time (inside a component's async initialize), e.g. the node list or the
// kubeconfig needed to list nodes by selector. Values unknown in preview are reported as such instead of
// hanging forever (an `apply` callback never runs for an unknown value).
import * as pulumi from "@pulumi/pulumi";

export type Resolved<T> = { known: true; value: T } | { known: false };

/** The value of an Input, or {known:false} when it is unknown (preview). Secrets are unwrapped. */
export async function resolveInput<T>(input: pulumi.Input<T> | undefined): Promise<Resolved<T | undefined>> {
    if (input === undefined) return { known: true, value: undefined };
    // isKnown/promise are @internal in the SDK's typings, but they are how the SDK itself awaits Outputs.
    const output = pulumi.output(input) as unknown as { isKnown: Promise<boolean>; promise(): Promise<T> };
    if (!(await output.isKnown)) return { known: false };
    return { known: true, value: await output.promise() };
}

/** Like resolveInput, but throws a clear error when the value is unknown at program time. */
export async function requireKnown<T>(what: string, input: pulumi.Input<T> | undefined): Promise<T | undefined> {
    const r = await resolveInput(input);
    if (!r.known) throw new Error(`${what} must be known when the program runs (it is read before any resource is created)`);
    return r.value;
}

/** A plain (non-Output, non-Promise) value, for validating what can be validated synchronously. */
export function plainValue<T>(input: pulumi.Input<T> | undefined): T | undefined {
    if (input === undefined || pulumi.Output.isInstance(input) || input instanceof Promise) return undefined;
    return input as T;
}

/**
 * The value of a stack configuration key ("project:kubeconfig"), for reading the cluster at program time. The
 * steps themselves read the same key from the provider's configuration, so the value never enters the state.
 */
export function stackConfigValue(what: string, key: string): string {
    if (!/^[^:\s]+:[^:\s]+$/.test(key)) throw new Error(`${what} must look like "project:key", got ${JSON.stringify(key)}`);
    const value = pulumi.runtime.getConfig(key);
    if (value === undefined || value.trim() === "") {
        throw new Error(
            `${what}: the stack configuration has no value for "${key}"; set it with \`pulumi config set --secret ${key.split(":")[1]} < ~/.kube/config\``,
        );
    }
    return value;
}
