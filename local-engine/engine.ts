// A local Pulumi engine: runs a Pulumi program where no Pulumi CLI exists (the tests, `npm run demo`). The
// program runs under `pulumi.runtime.setMocks`; the mock's newResource IS the engine. It models the rules of
// the real engine (pulumi/pulumi v3.248) and of @pulumi/command v1.2.1 that decide what runs on a cluster and
// its nodes; each rule cites the source file it follows. What it does not model is listed in README.md.
import * as pulumi from "@pulumi/pulumi";
import { DynamicProviderHost } from "./provider-host";
import { isSecretEnvelope, SECRET_SIG, SECRET_VALUE, stripSecrets } from "./secrets";
import { CommandInputs, CommandState, diffCommand, RemoteCommandProvider } from "./remote-command";

export type Op = "create" | "update" | "same" | "replace" | "delete" | "plan-create" | "plan-update" | "plan-same" | "plan-replace";

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
    /** Resources the program registered after a step had failed: the engine started nothing for them. */
    notStarted: string[];
}

export interface LocalEngineOptions {
    project?: string;
    stack?: string;
    /** Working directory and extra environment for commands run with the "local" transport. */
    cwd: string;
    env?: NodeJS.ProcessEnv;
    /**
     * How `remote.Command` reaches the nodes: "ssh" connects with the connection the component built, as the
     * command provider does (tests start a real sshd); "local" runs the same command with `sh -c` on this machine
     * (the demo, which has no sshd). Default "local".
     */
    commandTransport?: "ssh" | "local";
    /** Each line a command prints, as the command provider logs it. */
    onCommandOutput?: (name: string, line: string) => void;
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
    /** An operation failed (the error is then thrown as usual). */
    stepFailed?(event: StepEvent, error: Error): void | Promise<void>;
}

/** The resource options the engine gets with a registration (RegisterResourceRequest), as far as modelled. */
interface ResourceOptions {
    ignoreChanges: string[];
    replaceOnChanges: string[];
    additionalSecretOutputs: string[];
}

const key = (type: string, name: string) => `${type}::${name}`;
const isDynamic = (type: string) => type.startsWith("pulumi-nodejs:dynamic");
const COMMAND = "command:remote:Command";
const equal = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export class LocalEngine {
    readonly state = new Map<string, StateEntry>();
    /** Replaced resources whose delete is still due (create-before-delete). */
    readonly pendingDeletes: StateEntry[] = [];
    /** Every operation of every run, in order. */
    readonly history: OpRecord[] = [];
    /** stdout of each command run, by resource name. */
    readonly commandOutput = new Map<string, string>();
    private counter = 0;
    private t0 = Date.now();
    private readonly commands: RemoteCommandProvider;
    /** Set by cancel(): the run starts no new step. */
    private cancelled = false;

    constructor(
        readonly host: DynamicProviderHost,
        private readonly opts: LocalEngineOptions,
    ) {
        this.commands = new RemoteCommandProvider({
            transport: opts.commandTransport ?? "local",
            localCwd: opts.cwd,
            localEnv: { ...process.env, ...opts.env },
            onOutput: (name, line) => opts.onCommandOutput?.(name, line),
        });
    }

    private urn(type: string, name: string) {
        return `urn:pulumi:${this.opts.stack ?? "test"}::${this.opts.project ?? "node-upgrade"}::${type}::${name}`;
    }

    /**
     * The first Ctrl-C of `pulumi up`: no new step starts, steps in flight run to their end (provider calls have
     * no deadline and the Node host ignores Cancel), then the run ends "canceled" (pkg/resource/deploy/
     * deployment_executor.go Execute, step_executor.go; cmd/dynamic-provider/index.js cancel).
     */
    cancel(): void {
        this.cancelled = true;
    }

    /** A second Ctrl-C: the engine stops waiting and kills the plugins (SIGINT to the group, then SIGKILL). */
    async terminate(): Promise<void> {
        this.cancelled = true;
        await this.host.interrupt();
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
        const notStarted: string[] = [];
        const options = new Map<string, ResourceOptions>();
        let pending = 0;
        const errors: Error[] = [];
        this.cancelled = false;
        const project = this.opts.project ?? "node-upgrade";
        const full = (k: string) => (k.includes(":") ? k : `${project}:${k}`);
        const config = Object.fromEntries(Object.entries(opts.config ?? {}).map(([k, v]) => [full(k), v]));
        const secretKeys = (opts.secretKeys ?? []).map(full);

        // One provider process per deployment, configured with the whole stack configuration.
        await this.host.restart();
        await this.host.configure(config, secretKeys);

        let wake!: () => void;
        let settledWork = new Promise<void>((r) => (wake = r));
        const mocks: pulumi.runtime.Mocks = {
            newResource: async (args) => {
                const k = key(args.type, args.name);
                // After a failed step (or a cancel) the step executor starts nothing, and the program's later
                // registrations are never answered (step_executor.go cancelDueToError; deployment_executor.go).
                if ((errors.length > 0 || this.cancelled) && args.custom) {
                    notStarted.push(k);
                    return new Promise<pulumi.runtime.MockResourceResult>(() => undefined);
                }
                pending++;
                try {
                    registered.push(k);
                    return await this.register(
                        args,
                        options.get(k) ?? { ignoreChanges: [], replaceOnChanges: [], additionalSecretOutputs: [] },
                        preview,
                        ops,
                    );
                } catch (err: any) {
                    errors.push(err);
                    throw err;
                } finally {
                    pending--;
                    wake();
                    settledWork = new Promise<void>((r) => (wake = r));
                }
            },
            call: (args) => {
                throw new Error(`unexpected invoke ${args.token}`);
            },
        };
        await pulumi.runtime.setMocks(mocks, project, this.opts.stack ?? "test", preview);
        this.captureResourceOptions(options);
        pulumi.runtime.setAllConfig(config, secretKeys);

        ignoreFailedRegistrations();
        let value: T | undefined;
        let error: Error | undefined;
        // The run ends when the program's output resolves, or once a step failed (or the run was cancelled) and
        // nothing is in flight any more: nothing new can start then.
        let stop = false;
        const haltedAndIdle = (async () => {
            for (;;) {
                if (stop) return;
                if ((errors.length > 0 || this.cancelled) && pending === 0) return;
                await Promise.race([settledWork, new Promise((r) => setTimeout(r, 50))]);
            }
        })();
        try {
            const output = program();
            // The program is done when its outputs are and the SDK has no registration left to send (the CLI waits
            // for the language host to exit the same way: runtime/settings.js waitForRPCs).
            const done = Promise.all([(output as any).promise(), require("@pulumi/pulumi/runtime/settings").waitForRPCs()]).then(([v]) => ({
                v: v as T,
            }));
            const result = await Promise.race([done, haltedAndIdle.then(() => undefined)]);
            if (result) value = result.v;
        } catch (err: any) {
            error = err;
        } finally {
            stop = true;
        }
        // Steps in flight (other members of a batch) run to their end, as the engine waits for them.
        while (pending > 0) await Promise.race([settledWork, new Promise((r) => setTimeout(r, 50))]);
        if (!error && errors.length) error = errors[0];
        if (!error && this.cancelled) error = new Error("update canceled");
        if (!error && !preview) {
            // After the program, the deletes: replaced resources (create-before-delete), then resources no longer in
            // the program, in reverse order (deployment_executor.go performPostSteps, step_generator.go GenerateDeletes).
            for (const entry of this.pendingDeletes.splice(0)) await this.deleteEntry(entry, ops, false);
            for (const [k, entry] of [...this.state.entries()].sort((a, b) => b[1].order - a[1].order)) {
                if (!registered.includes(k)) await this.deleteEntry(entry, ops);
            }
        }
        // The engine closes its plugins at the end of the deployment and reads what they printed to the end
        // (sdk/go/common/resource/plugin/plugin.go Close): every provider line has arrived when the run returns.
        await this.host.stop();
        this.history.push(...ops);
        return { ok: !error, value, error, ops, registered, notStarted };
    }

    /**
     * `pulumi refresh` (without --run-program, the default): Read for every resource in the state with its stored
     * outputs and inputs; an empty id removes the resource; a failed Read fails the refresh and leaves that
     * resource as it was (pkg/resource/deploy/step.go RefreshStep). The provider code is the `__provider` stored
     * in the outputs (cmd/dynamic-provider/index.js read). remote.Command's Read returns its state unchanged.
     */
    async refresh(
        opts: { config?: Record<string, string>; secretKeys?: string[] } = {},
    ): Promise<{ ok: boolean; errors: Error[]; removed: string[]; changed: string[] }> {
        const project = this.opts.project ?? "node-upgrade";
        const full = (k: string) => (k.includes(":") ? k : `${project}:${k}`);
        await this.host.restart();
        await this.host.configure(
            Object.fromEntries(Object.entries(opts.config ?? {}).map(([k, v]) => [full(k), v])),
            (opts.secretKeys ?? []).map(full),
        );
        const errors: Error[] = [];
        const removed: string[] = [];
        const changed: string[] = [];
        for (const [k, entry] of [...this.state.entries()]) {
            if (!isDynamic(entry.type)) continue;
            try {
                const read = await this.host.read(this.urn(entry.type, entry.name), entry.id, entry.outputs, entry.inputs);
                if (!read.id) {
                    this.state.delete(k);
                    removed.push(entry.name);
                } else if (!equal(read.props, entry.outputs)) {
                    entry.outputs = read.props;
                    changed.push(entry.name);
                }
            } catch (err: any) {
                errors.push(new Error(`${entry.name}: ${err.message}`));
            }
        }
        await this.host.stop();
        return { ok: errors.length === 0, errors, removed, changed };
    }

    /** `pulumi destroy`: deletes every resource in reverse creation order. */
    async destroy(): Promise<OpRecord[]> {
        const ops: OpRecord[] = [];
        await this.host.restart();
        for (const entry of this.pendingDeletes.splice(0)) await this.deleteEntry(entry, ops, false);
        for (const entry of [...this.state.values()].sort((a, b) => b.order - a.order)) await this.deleteEntry(entry, ops);
        this.history.push(...ops);
        return ops;
    }

    /** The options of each registration, read from the request the SDK sends to the (mock) monitor. */
    private captureResourceOptions(options: Map<string, ResourceOptions>): void {
        const monitor: any = require("@pulumi/pulumi/runtime/settings").getMonitor();
        const registerResource = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: any, callback: any) => {
            options.set(key(req.getType(), req.getName()), {
                ignoreChanges: req.getIgnorechangesList(),
                replaceOnChanges: req.getReplaceonchangesList(),
                additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            });
            return registerResource(req, callback);
        };
    }

    private async deleteEntry(entry: StateEntry, ops: OpRecord[], fromState = true) {
        const start = this.now();
        if (isDynamic(entry.type)) await this.host.delete(this.urn(entry.type, entry.name), entry.id, entry.outputs);
        else if (entry.type === COMMAND) await this.commands.delete(entry.name, entry.outputs as CommandState);
        if (fromState) this.state.delete(key(entry.type, entry.name));
        ops.push({ op: "delete", type: entry.type, name: entry.name, start, end: this.now() });
    }

    private now() {
        return Date.now() - this.t0;
    }

    private async register(
        args: pulumi.runtime.MockResourceArgs,
        options: ResourceOptions,
        preview: boolean,
        ops: OpRecord[],
    ): Promise<pulumi.runtime.MockResourceResult> {
        const start = this.now();
        const record = (op: Op) => ops.push({ op, type: args.type, name: args.name, start, end: this.now() });
        if (!args.custom) {
            record("same");
            return { id: undefined as any, state: {} };
        }
        if (isDynamic(args.type)) return this.registerDynamic(args, options, preview, record);
        if (args.type === COMMAND) return this.registerCommand(args, options, preview, record);
        record("same");
        return { id: `${args.name}-id`, state: args.inputs };
    }

    private async registerDynamic(
        args: pulumi.runtime.MockResourceArgs,
        options: ResourceOptions,
        preview: boolean,
        record: (op: Op) => void,
    ): Promise<pulumi.runtime.MockResourceResult> {
        const k = key(args.type, args.name);
        const urn = this.urn(args.type, args.name);
        // The engine unwraps secrets for providers that do not accept them, and re-marks same-named outputs
        // (sdk/go/common/resource/plugin/provider_plugin.go annotateSecrets).
        const secretInputs = Object.keys(args.inputs).filter((x) => isSecretEnvelope(args.inputs[x]));
        const old = this.state.get(k);
        const news = ignoreChanges(stripSecrets(args.inputs), old?.inputs, options.ignoreChanges);
        const checked = await this.host.check(urn, old?.inputs ?? {}, news);
        if (checked.failures.length) throw new Error(checkFailureMessage(args.type, args.name, args.inputs, checked.failures));
        let inputs = checked.inputs;
        const secretOutputs = [...new Set([...secretInputs, ...options.additionalSecretOutputs])];

        let op: "create" | "update" | "same" | "replace" = "create";
        if (old) {
            const diff = await this.host.diff(urn, old.id, old.outputs, inputs, old.inputs);
            // DIFF_UNKNOWN: the engine compares the old and new inputs itself, __provider included (step_generator.go diff).
            const changed = diff.changes === "some" || (diff.changes === "unknown" && !equal(old.inputs, inputs));
            const replace = diff.replaces.length > 0 || (changed && replaceOnChanges(options.replaceOnChanges, old.inputs, inputs));
            op = !changed ? "same" : replace ? "replace" : "update";
        }
        if (op === "replace" && options.ignoreChanges.length > 0) {
            // A replacement is checked again with the program's own values: ignoreChanges does not apply to it.
            const again = await this.host.check(urn, {}, stripSecrets(args.inputs));
            if (again.failures.length) throw new Error(checkFailureMessage(args.type, args.name, args.inputs, again.failures));
            inputs = again.inputs;
        }
        if (op === "same") {
            // A same step records the new inputs with the old outputs (pkg/resource/deploy/step.go SameStep).
            old!.inputs = inputs;
            record(preview ? "plan-same" : "same");
            if (!preview) await this.opts.hooks?.afterStep?.({ op, type: args.type, name: args.name, inputs, outputs: old!.outputs });
            return { id: old!.id, state: this.withSecrets(old!.outputs, old!.secretOutputs) };
        }
        if (preview) {
            // Without preview support the engine echoes the checked inputs as state (provider_plugin.go Create/Update).
            record(op === "create" ? "plan-create" : op === "replace" ? "plan-replace" : "plan-update");
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
            }
        } catch (err: any) {
            await this.opts.hooks?.stepFailed?.(event, err);
            throw err;
        }
        // Create-before-delete: the old one is deleted after the program (step.go CreateStep marks it pending).
        if (op === "replace") this.pendingDeletes.push(old!);
        this.state.set(k, { type: args.type, name: args.name, id, inputs, outputs, secretOutputs, order: old?.order ?? this.counter++ });
        record(op);
        await this.opts.hooks?.afterStep?.({ ...event, outputs });
        return { id, state: this.withSecrets(outputs, secretOutputs) };
    }

    /**
     * remote.Command as @pulumi/command 1.2.1 runs it: a change of any input is an update, which runs `update`
     * (or else `create`) again; a change of `triggers` is a replace, which runs `create` for the new resource and
     * `delete` for the old one at the end (provider/pkg/provider/remote/commandController.go; the diff is
     * pulumi-go-provider's infer default diff). Commands never run in preview.
     */
    private async registerCommand(
        args: pulumi.runtime.MockResourceArgs,
        options: ResourceOptions,
        preview: boolean,
        record: (op: Op) => void,
    ): Promise<pulumi.runtime.MockResourceResult> {
        const k = key(args.type, args.name);
        const old = this.state.get(k);
        let inputs = ignoreChanges(stripSecrets(args.inputs), old?.inputs, options.ignoreChanges) as CommandInputs;
        const secretOutputs = [...new Set(["connection", ...options.additionalSecretOutputs])];
        let op: "create" | "update" | "same" | "replace" = "create";
        if (old) {
            const diff = diffCommand(old.inputs as CommandInputs, inputs);
            op = !diff.changes
                ? "same"
                : diff.replace || replaceOnChanges(options.replaceOnChanges, old.inputs, inputs)
                  ? "replace"
                  : "update";
        }
        // A replacement gets the program's own values: ignoreChanges does not apply to it (step_generator.go).
        if (op === "replace") inputs = stripSecrets(args.inputs) as CommandInputs;
        if (op === "same") {
            old!.inputs = inputs;
            record(preview ? "plan-same" : "same");
            if (!preview) await this.opts.hooks?.afterStep?.({ op, type: args.type, name: args.name, inputs, outputs: old!.outputs });
            return { id: old!.id, state: this.withSecrets(old!.outputs, old!.secretOutputs) };
        }
        if (preview) {
            record(op === "create" ? "plan-create" : op === "replace" ? "plan-replace" : "plan-update");
            return { id: old?.id ?? "", state: this.withSecrets(inputs, secretOutputs) };
        }
        const event: StepEvent = { op, type: args.type, name: args.name, inputs };
        await this.opts.hooks?.beforeStep?.(event);
        let state: CommandState;
        try {
            state =
                op === "update"
                    ? await this.commands.update(args.name, old!.outputs as CommandState, inputs)
                    : await this.commands.create(args.name, inputs);
        } catch (err: any) {
            await this.opts.hooks?.stepFailed?.(event, err);
            throw new Error(`${args.name}: ${err.message}`);
        }
        this.commandOutput.set(args.name, state.stdout);
        if (op === "replace") this.pendingDeletes.push(old!);
        const id = op === "update" ? old!.id : `${args.name}-${(this.counter++).toString(16).padStart(8, "0")}`;
        this.state.set(k, {
            type: args.type,
            name: args.name,
            id,
            inputs,
            outputs: state,
            secretOutputs,
            order: old?.order ?? this.counter++,
        });
        record(op);
        await this.opts.hooks?.afterStep?.({ ...event, outputs: state });
        return { id, state: this.withSecrets(state, secretOutputs) };
    }

    private withSecrets(values: Record<string, any>, secretKeys: string[]): Record<string, any> {
        const out: Record<string, any> = { ...values };
        for (const k of secretKeys) if (out[k] !== undefined) out[k] = { [SECRET_SIG]: SECRET_VALUE, value: out[k] };
        return out;
    }
}

/**
 * A failed step rejects promises the SDK never awaits (its dependents' registrations, output chains), also after
 * the run returned; under the real CLI the program process just ends. Those rejections are ignored; any other
 * unhandled rejection still ends the process, as Node does by default.
 */
let ignoring = false;
function ignoreFailedRegistrations(): void {
    if (ignoring) return;
    ignoring = true;
    process.on("unhandledRejection", (reason: any) => {
        const text = String(reason?.message ?? reason);
        if (/failed to register new resource|error serializing property|resource monitor shut down/.test(text)) return;
        if (process.listenerCount("unhandledRejection") === 1) throw reason; // nobody else (e.g. mocha) reports it
    });
}

/**
 * ignoreChanges: each ignored top-level property keeps its stored value (pkg/resource/deploy/step_generator.go
 * processIgnoreChanges, applied before Check and Diff). A replacement is checked again with the program's own
 * values, so it gets the new ones (step_generator.go, the replace path): the callers do that.
 */
function ignoreChanges(news: Record<string, any>, olds: Record<string, any> | undefined, paths: string[]): Record<string, any> {
    if (!olds || paths.length === 0) return news;
    const out = { ...news };
    for (const p of paths) {
        if (p.includes(".") || p.includes("["))
            throw new Error(`local engine: ignoreChanges path "${p}" is not modelled (only top-level properties)`);
        if (p in olds) out[p] = olds[p];
        else delete out[p];
    }
    return out;
}

/** replaceOnChanges: a change under one of the given paths ("triggers[*]") makes it a replace (step_generator.go). */
function replaceOnChanges(paths: string[], olds: Record<string, any>, news: Record<string, any>): boolean {
    return paths.some((p) => {
        const top = p.replace(/[.[].*$/, "");
        return !equal(olds[top], news[top]);
    });
}

/**
 * The engine's text for Check failures: with a property, "<type> resource '<name>': property <p> value {<v>} has
 * a problem: <reason>", the value printed as the program sent it, secrets in clear; without one, "<type> resource
 * '<name>' has a problem: <reason>" (sdk/go/common/diag/errors.go, step_generator.go issueCheckFailures,
 * sdk/go/common/resource/properties.go PropertyValue.String).
 */
function checkFailureMessage(
    type: string,
    name: string,
    programInputs: Record<string, any>,
    failures: { property: string; reason: string }[],
): string {
    const lines = failures.map((f) => {
        if (!f.property) return `${type} resource '${name}' has a problem: ${f.reason}`;
        const raw = programInputs[f.property];
        const shown = isSecretEnvelope(raw)
            ? `&{{${String(raw.value)}}}`
            : raw === undefined
              ? "<nil>"
              : typeof raw === "object"
                ? JSON.stringify(raw)
                : String(raw);
        return `${type} resource '${name}': property ${f.property} value {${shown}} has a problem: ${f.reason}`;
    });
    return `${name}: ${lines.join("; ")}`;
}
