// A local Pulumi engine: runs a Pulumi program where no Pulumi CLI exists (the tests, `npm run demo`). The
// program runs under `pulumi.runtime.setMocks`; the mock's newResource IS the engine:
//   - dynamic resources go to the REAL dynamic-provider host (provider-host.ts): Check, then Diff against the
//     state saved from the previous run, then Create / Update (or nothing), returning the real outputs;
//   - `command:remote:Command` runs its `create` script as a LOCAL `sh -c` (aimed at the simulated cluster),
//     re-running it when `create` changed, like the command provider does over SSH;
//   - components are recorded and echoed.
// Because the SDK awaits every `dependsOn` URN before registering a resource, this sees resources in true
// dependency order, and a failed step never lets its dependents register, as with the real engine.
// Not reproduced: the engine's own diff fallback for DIFF_UNKNOWN beyond input equality, replace
// orchestration beyond create-then-delete, customTimeouts, parallelism limits, and persisted state (the
// state lives in memory for the life of the LocalEngine object). See README.md.
import { spawn } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { DynamicProviderHost } from "./provider-host";
import { isSecretEnvelope, SECRET_SIG, SECRET_VALUE, stripSecrets } from "./secrets";

export type Op = "create" | "update" | "same" | "replace" | "delete" | "plan-create" | "plan-update" | "plan-same";

export interface OpRecord {
    op: Op;
    type: string;
    name: string;
    start: number;
    end: number;
}

export interface StateEntry {
    type: string;
    name: string;
    id: string;
    /** Checked inputs, plain (secrets unwrapped, as the provider saw them). */
    inputs: Record<string, any>;
    outputs: Record<string, any>;
    /** Output keys the engine keeps secret (same-named secret inputs, additionalSecretOutputs). */
    secretOutputs: string[];
    order: number;
}

export interface RunResult<T> {
    ok: boolean;
    value?: T;
    error?: Error;
    ops: OpRecord[];
    /** Resources registered in this run, by "type::name". */
    registered: string[];
}

export interface LocalEngineOptions {
    project?: string;
    stack?: string;
    /** Working directory and extra environment for the local commands. */
    cwd: string;
    env?: NodeJS.ProcessEnv;
    /**
     * Called around every custom resource operation (dynamic resources and commands; not in preview). The
     * engine awaits them, so the resource's dependents wait too: a hook can show the cluster between steps.
     */
    hooks?: EngineHooks;
}

/** One operation of the engine on one resource, as the hooks see it. */
export interface StepEvent {
    /** "create", "update", "same" or "replace". */
    op: Op;
    type: string;
    name: string;
    /** Checked inputs, plain (secrets unwrapped). */
    inputs: Record<string, any>;
    /** After the operation: the resource's outputs (for a command, with its stdout and stderr). */
    outputs?: Record<string, any>;
}

export interface EngineHooks {
    /** Before the operation runs (only for operations that do something: create, update, replace). */
    beforeStep?(event: StepEvent): void | Promise<void>;
    /** After the operation succeeded (also for "same"). */
    afterStep?(event: StepEvent): void | Promise<void>;
    /** A command failed (the error is then thrown as usual). */
    stepFailed?(event: StepEvent, error: Error): void | Promise<void>;
}

const key = (type: string, name: string) => `${type}::${name}`;
const isDynamic = (type: string) => type.startsWith("pulumi-nodejs:dynamic");

export class LocalEngine {
    readonly state = new Map<string, StateEntry>();
    /** Every operation of every run, in order. */
    readonly history: OpRecord[] = [];
    /** stdout of each command run, by resource name. */
    readonly commandOutput = new Map<string, string>();
    private counter = 0;
    private t0 = Date.now();

    constructor(
        readonly host: DynamicProviderHost,
        private readonly opts: LocalEngineOptions,
    ) {}

    private urn(type: string, name: string) {
        return `urn:pulumi:${this.opts.stack ?? "test"}::${this.opts.project ?? "node-upgrade"}::${type}::${name}`;
    }

    /**
     * Runs `program` as `pulumi up` (or `pulumi preview` with preview=true) would, with the given stack
     * config, and waits until every registration has finished. `program` returns the Output to wait for.
     */
    async run<T>(
        program: () => pulumi.Output<T>,
        opts: { preview?: boolean; config?: Record<string, string>; secretKeys?: string[] } = {},
    ): Promise<RunResult<T>> {
        const preview = !!opts.preview;
        const ops: OpRecord[] = [];
        const registered: string[] = [];
        let pending = 0;
        const errors: Error[] = [];
        const mocks: pulumi.runtime.Mocks = {
            newResource: async (args) => {
                pending++;
                try {
                    registered.push(key(args.type, args.name));
                    return await this.register(args, preview, ops);
                } catch (err: any) {
                    errors.push(err);
                    throw err;
                } finally {
                    pending--;
                }
            },
            call: (args) => {
                throw new Error(`unexpected invoke ${args.token}`);
            },
        };
        const project = this.opts.project ?? "node-upgrade";
        await pulumi.runtime.setMocks(mocks, project, this.opts.stack ?? "test", preview);
        pulumi.runtime.setAllConfig(
            Object.fromEntries(Object.entries(opts.config ?? {}).map(([k, v]) => [k.includes(":") ? k : `${project}:${k}`, v])),
            (opts.secretKeys ?? []).map((k) => (k.includes(":") ? k : `${project}:${k}`)),
        );

        // A failed step rejects promises the SDK never awaits (its dependents' registrations); swallow those.
        const swallow = () => undefined;
        process.on("unhandledRejection", swallow);
        let value: T | undefined;
        let error: Error | undefined;
        // Like the engine, a failed registration ends the run once in-flight operations finish: resources
        // that depend on the failed one only through `dependsOn` would otherwise leave the outputs pending.
        let markSettled!: () => void;
        const settled = new Promise<void>((r) => (markSettled = r));
        let quietSince = 0;
        const failedAndQuiet = new Promise<void>((resolve) => {
            const timer = setInterval(() => {
                if (errors.length === 0 || pending > 0) return void (quietSince = 0);
                if (!quietSince) quietSince = Date.now();
                if (Date.now() - quietSince >= 200) {
                    clearInterval(timer);
                    resolve();
                }
            }, 20);
            settled.then(() => clearInterval(timer));
        });
        try {
            const output = program();
            const result = await Promise.race([(output as any).promise().then((v: T) => ({ v })), failedAndQuiet.then(() => undefined)]);
            if (result) value = result.v;
        } catch (err: any) {
            error = err;
        } finally {
            markSettled();
        }
        // Let in-flight registrations (other members of a batch) finish, as the engine would.
        for (let idle = 0; idle < 5; ) {
            await new Promise((r) => setTimeout(r, 20));
            idle = pending === 0 ? idle + 1 : 0;
        }
        process.off("unhandledRejection", swallow);
        if (!error && errors.length) error = errors[0];
        // Resources no longer in the program are deleted after a successful update, like the engine does.
        if (!error && !preview) {
            for (const [k, entry] of [...this.state.entries()].sort((a, b) => b[1].order - a[1].order)) {
                if (!registered.includes(k)) await this.deleteEntry(entry, ops);
            }
        }
        this.history.push(...ops);
        return { ok: !error, value, error, ops, registered };
    }

    /** `pulumi destroy`: deletes every resource in reverse creation order. */
    async destroy(): Promise<OpRecord[]> {
        const ops: OpRecord[] = [];
        for (const entry of [...this.state.values()].sort((a, b) => b.order - a.order)) await this.deleteEntry(entry, ops);
        this.history.push(...ops);
        return ops;
    }

    private async deleteEntry(entry: StateEntry, ops: OpRecord[]) {
        const start = this.now();
        // remote.Command without a `delete` command does nothing on delete.
        if (isDynamic(entry.type)) await this.host.delete(this.urn(entry.type, entry.name), entry.id, entry.outputs);
        this.state.delete(key(entry.type, entry.name));
        ops.push({ op: "delete", type: entry.type, name: entry.name, start, end: this.now() });
    }

    private now() {
        return Date.now() - this.t0;
    }

    private async register(args: pulumi.runtime.MockResourceArgs, preview: boolean, ops: OpRecord[]): Promise<pulumi.runtime.MockResourceResult> {
        const start = this.now();
        const record = (op: Op) => ops.push({ op, type: args.type, name: args.name, start, end: this.now() });
        if (!args.custom) {
            record("same");
            return { id: undefined as any, state: {} };
        }
        if (isDynamic(args.type)) return this.registerDynamic(args, preview, record);
        if (args.type === "command:remote:Command") return this.registerCommand(args, preview, record);
        record("same");
        return { id: `${args.name}-id`, state: args.inputs };
    }

    private async registerDynamic(args: pulumi.runtime.MockResourceArgs, preview: boolean, record: (op: Op) => void): Promise<pulumi.runtime.MockResourceResult> {
        const k = key(args.type, args.name);
        const urn = this.urn(args.type, args.name);
        // The engine unwraps secrets for providers that do not accept them, and re-marks same-named outputs.
        const secretInputs = Object.keys(args.inputs).filter((x) => isSecretEnvelope(args.inputs[x]));
        const news = stripSecrets(args.inputs);
        const old = this.state.get(k);
        const checked = await this.host.check(urn, old?.inputs ?? {}, news);
        if (checked.failures.length) {
            throw new Error(`${args.name}: ${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
        }
        const inputs = checked.inputs;
        const secretOutputs = [...new Set([...secretInputs, "kubeconfig"])];

        let op: "create" | "update" | "same" | "replace" = "create";
        if (old) {
            const diff = await this.host.diff(urn, old.id, old.outputs, inputs, old.inputs);
            const changed = diff.changes === "some" || (diff.changes === "unknown" && JSON.stringify(old.inputs) !== JSON.stringify(inputs));
            op = !changed ? "same" : diff.replaces.length ? "replace" : "update";
        }
        if (op === "same") {
            old!.inputs = inputs;
            record(preview ? "plan-same" : "same");
            if (!preview) await this.opts.hooks?.afterStep?.({ op, type: args.type, name: args.name, inputs, outputs: old!.outputs });
            return { id: old!.id, state: this.withSecrets(old!.outputs, old!.secretOutputs) };
        }
        if (preview) {
            // The engine echoes checked inputs as state for providers without preview support.
            record(op === "create" ? "plan-create" : "plan-update");
            return { id: old?.id ?? "", state: this.withSecrets(inputs, secretOutputs) };
        }
        const event: StepEvent = { op, type: args.type, name: args.name, inputs };
        await this.opts.hooks?.beforeStep?.(event);
        let id: string;
        let outputs: Record<string, any>;
        try {
            if (op === "update") {
                id = old!.id;
                outputs = await this.host.update(urn, id, old!.outputs, inputs);
            } else {
                const created = await this.host.create(urn, inputs);
                id = created.id;
                outputs = created.outs;
                if (old) await this.host.delete(urn, old.id, old.outputs); // replace: create, then delete the old
            }
        } catch (err: any) {
            await this.opts.hooks?.stepFailed?.(event, err);
            throw err;
        }
        this.state.set(k, { type: args.type, name: args.name, id, inputs, outputs, secretOutputs, order: old?.order ?? this.counter++ });
        record(op);
        await this.opts.hooks?.afterStep?.({ ...event, outputs });
        return { id, state: this.withSecrets(outputs, secretOutputs) };
    }

    private async registerCommand(args: pulumi.runtime.MockResourceArgs, preview: boolean, record: (op: Op) => void): Promise<pulumi.runtime.MockResourceResult> {
        const k = key(args.type, args.name);
        const inputs = stripSecrets(args.inputs);
        const old = this.state.get(k);
        // remote.Command re-runs when `create` changes (connection changes too; not modelled here).
        if (old && old.inputs.create === inputs.create) {
            record(preview ? "plan-same" : "same");
            if (!preview) await this.opts.hooks?.afterStep?.({ op: "same", type: args.type, name: args.name, inputs, outputs: old.outputs });
            return { id: old.id, state: this.withSecrets(old.outputs, ["connection"]) };
        }
        if (preview) {
            record(old ? "plan-update" : "plan-create");
            return { id: old?.id ?? "", state: this.withSecrets(inputs, ["connection"]) };
        }
        const event: StepEvent = { op: old ? "update" : "create", type: args.type, name: args.name, inputs };
        await this.opts.hooks?.beforeStep?.(event);
        let ran: { stdout: string; stderr: string };
        try {
            ran = await this.runLocally(args.name, inputs.create);
        } catch (err: any) {
            await this.opts.hooks?.stepFailed?.(event, err);
            throw err;
        }
        const outputs = { ...inputs, stdout: ran.stdout, stderr: ran.stderr };
        this.state.set(k, { type: args.type, name: args.name, id: old?.id ?? `${args.name}-${this.counter}`, inputs, outputs, secretOutputs: ["connection"], order: old?.order ?? this.counter++ });
        record(old ? "update" : "create");
        await this.opts.hooks?.afterStep?.({ ...event, outputs });
        return { id: this.state.get(k)!.id, state: this.withSecrets(outputs, ["connection"]) };
    }

    /** Runs the command line with sh -c, as sshd would run it for remote.Command. */
    private runLocally(name: string, commandLine: string): Promise<{ stdout: string; stderr: string }> {
        return new Promise((resolve, reject) => {
            const child = spawn("sh", ["-c", commandLine], { cwd: this.opts.cwd, env: { ...process.env, ...this.opts.env } });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("error", reject);
            child.on("close", (code) => {
                this.commandOutput.set(name, stdout);
                // Same shape as the command provider's error: the command and its combined output.
                if (code !== 0) reject(new Error(`${name}: running "${commandLine}":\n${stdout}${stderr}`));
                else resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") });
            });
        });
    }

    private withSecrets(values: Record<string, any>, secretKeys: string[]): Record<string, any> {
        const out: Record<string, any> = { ...values };
        for (const k of secretKeys) if (out[k] !== undefined) out[k] = { [SECRET_SIG]: SECRET_VALUE, value: out[k] };
        return out;
    }
}
