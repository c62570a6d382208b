// Drives the REAL Pulumi dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) over gRPC, without
// the Pulumi engine: the same process and code path `pulumi up` uses for our providers. The provider text is
// the SDK's own serialization, so a provider that does not serialize or does not load fails here (under
// mocks it would only hang). What the providers print (console.log in the host) is kept, and can be
// followed live with `onOutput`, as the Pulumi CLI shows it.
import { spawn, ChildProcess } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { findPackageRoot } from "../components/package-root";
import { SECRET_SIG, SECRET_VALUE } from "./secrets";

const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
// The same grpc-js / protobuf copies the SDK uses.
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [pulumiDir] }));
const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] }));
const P = require("@pulumi/pulumi/proto/provider_pb");
const { ResourceProviderClient } = require("@pulumi/pulumi/proto/provider_grpc_pb");

/** The package root: the host runs with it as cwd, as the engine runs it with the program directory. */
export const REPO_ROOT = findPackageRoot(__dirname);

/** The unknown-value sentinel the engine sends for values not known in preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type DiffChanges = "unknown" | "none" | "some";

export interface DiffAnswer {
    changes: DiffChanges;
    replaces: string[];
    deleteBeforeReplace: boolean;
}

/** The provider text exactly as `pulumi.dynamic.Resource` stores it in `__provider`. */
export async function serializeProvider(provider: unknown): Promise<string> {
    const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    return sf.text;
}

export class ProviderHostError extends Error {
    constructor(
        message: string,
        public readonly code: number,
    ) {
        super(message);
        this.name = "ProviderHostError";
    }
}

const S = (o: object) => Struct.fromJavaScript(JSON.parse(JSON.stringify(o)));

type HostOptions = { cwd?: string; env?: NodeJS.ProcessEnv; onOutput?: (line: string, stream: "stdout" | "stderr") => void };

export class DynamicProviderHost {
    private readonly lines: string[] = [];
    private readonly errLines: string[] = [];

    private child!: ChildProcess;
    private client: any;
    public port = 0;

    private constructor(private readonly options: HostOptions) {}

    /**
     * Starts the host process (cwd = repo root, like the engine's program directory) and connects to it.
     * `onOutput` receives every line the providers print, as it arrives.
     */
    static async start(opts: HostOptions = {}): Promise<DynamicProviderHost> {
        const host = new DynamicProviderHost(opts);
        await host.launch();
        return host;
    }

    /**
     * A new host process for the next deployment, as the engine starts one plugin process per deployment
     * (pkg/resource/deploy/plugins, sdk/go/common/resource/plugin/plugin.go): nothing a provider kept in memory
     * (its configuration, caches) survives from one `pulumi up` to the next. Output keeps going to this object.
     */
    async restart(): Promise<void> {
        await this.stop();
        await this.launch();
    }

    /** Spawns the process, reads the port it prints, connects, and follows its output line by line. */
    private async launch(): Promise<void> {
        const script = require.resolve("@pulumi/pulumi/cmd/dynamic-provider");
        const child = spawn(process.execPath, [script, "127.0.0.1:1"], {
            cwd: this.options.cwd ?? REPO_ROOT,
            env: { ...process.env, ...this.options.env },
            stdio: ["ignore", "pipe", "pipe"],
            // Its own process group, as the engine starts plugins (plugin.go cmdutil.RegisterProcessGroup).
            detached: true,
        });
        let buffered = "";
        let stderr = "";
        const port = await new Promise<number>((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new Error(`the dynamic-provider host printed no port within 20s; stderr: ${stderr}`)),
                20_000,
            );
            child.stderr!.on("data", (d) => (stderr += d.toString()));
            child.once("exit", (code) =>
                reject(new Error(`the dynamic-provider host exited (${code}) before printing its port; stderr: ${stderr}`)),
            );
            const onData = (d: Buffer) => {
                buffered += d.toString();
                const nl = buffered.indexOf("\n");
                if (nl < 0) return;
                clearTimeout(timer);
                child.stdout!.off("data", onData);
                resolve(parseInt(buffered.slice(0, nl), 10));
            };
            child.stdout!.on("data", onData);
        });
        child.removeAllListeners("exit");
        // Lines, not chunks: a chunk can end in the middle of a line.
        const splitter = (stream: "stdout" | "stderr", into: string[]) => {
            let partial = "";
            return (text: string) => {
                const parts = (partial + text).split("\n");
                partial = parts.pop()!;
                for (const line of parts.filter(Boolean)) {
                    into.push(line);
                    this.options.onOutput?.(line, stream);
                }
            };
        };
        const onStdout = splitter("stdout", this.lines);
        const rest = buffered.slice(buffered.indexOf("\n") + 1);
        if (rest) onStdout(rest);
        child.stdout!.on("data", (d: Buffer) => onStdout(d.toString()));
        const onStderr = splitter("stderr", this.errLines);
        child.stderr!.on("data", (d: Buffer) => onStderr(d.toString()));
        this.child = child;
        this.port = port;
        this.client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    }

    /**
     * Configure, as the engine sends it to a dynamic-provider host: the WHOLE stack configuration, keys with
     * their namespace ("project:key"), secrets marked (pkg/resource/deploy/target.go GetPackageConfig: "For
     * dynamic providers, we always pass the full configuration"). The host unwraps the secrets and gives the
     * config to each provider's configure() when it first loads it (cmd/dynamic-provider/index.js).
     */
    async configure(config: Record<string, string>, secretKeys: string[] = []): Promise<void> {
        const args: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(config)) {
            args[k] = secretKeys.includes(k) ? { [SECRET_SIG]: SECRET_VALUE, value: v } : v;
        }
        const r = new P.ConfigureRequest();
        r.setArgs(S(args));
        r.setAcceptsecrets(true);
        r.setAcceptresources(true);
        await this.call("configure", r);
    }

    /**
     * What `pulumi up` does to plugins when it is terminated (a second Ctrl-C) or shuts down: SIGINT to the
     * plugin's whole process group, then SIGKILL after 5 s (sdk/go/common/resource/plugin/plugin.go Kill).
     */
    async interrupt(): Promise<void> {
        if (!this.isRunning()) return;
        const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
        try {
            process.kill(-this.child.pid!, "SIGINT");
        } catch {
            this.child.kill("SIGINT");
        }
        const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
        this.client.close();
    }

    /** Whether the host process is alive. */
    isRunning(): boolean {
        return this.child.exitCode === null && this.child.signalCode === null;
    }

    /** Lines the providers printed (console.log inside the host), in order. */
    output(): string[] {
        return [...this.lines];
    }

    stderr(): string[] {
        return [...this.errLines];
    }

    clearOutput(): void {
        this.lines.length = 0;
        this.errLines.length = 0;
    }

    /**
     * One RPC. No deadline: the engine runs provider calls on a context that has none (pkg/resource/deploy/
     * step_executor.go, provider_plugin.go), so a 30-minute drain is one Create call.
     */
    private async call<T>(method: string, request: any): Promise<T> {
        // A host stopped at the end of a deployment comes back for calls made outside one (tests call Read directly).
        if (!this.isRunning()) await this.restart();
        return new Promise((resolve, reject) => {
            this.client[method](request, (err: any, response: T) => {
                if (err) reject(new ProviderHostError(err.details || err.message, err.code));
                else resolve(response);
            });
        });
    }

    async check(
        urn: string,
        olds: object,
        news: object,
    ): Promise<{ inputs: Record<string, any>; failures: { property: string; reason: string }[] }> {
        const r = new P.CheckRequest();
        r.setUrn(urn);
        r.setOlds(S(olds));
        r.setNews(S(news));
        const resp: any = await this.call("check", r);
        return {
            inputs: resp.getInputs()?.toJavaScript() ?? {},
            failures: resp.getFailuresList().map((f: any) => ({ property: f.getProperty(), reason: f.getReason() })),
        };
    }

    async diff(urn: string, id: string, olds: object, news: object, oldInputs: object = olds): Promise<DiffAnswer> {
        const r = new P.DiffRequest();
        r.setUrn(urn);
        r.setId(id);
        r.setOlds(S(olds));
        r.setNews(S(news));
        r.setOldInputs(S(oldInputs));
        const resp: any = await this.call("diff", r);
        const changes = resp.getChanges();
        return {
            changes:
                changes === P.DiffResponse.DiffChanges.DIFF_SOME
                    ? "some"
                    : changes === P.DiffResponse.DiffChanges.DIFF_NONE
                      ? "none"
                      : "unknown",
            replaces: resp.getReplacesList(),
            deleteBeforeReplace: resp.getDeletebeforereplace(),
        };
    }

    async create(urn: string, properties: object): Promise<{ id: string; outs: Record<string, any> }> {
        const r = new P.CreateRequest();
        r.setUrn(urn);
        r.setProperties(S(properties));
        const resp: any = await this.call("create", r);
        return { id: resp.getId(), outs: resp.getProperties()?.toJavaScript() ?? {} };
    }

    async update(urn: string, id: string, olds: object, news: object): Promise<Record<string, any>> {
        const r = new P.UpdateRequest();
        r.setUrn(urn);
        r.setId(id);
        r.setOlds(S(olds));
        r.setNews(S(news));
        const resp: any = await this.call("update", r);
        return resp.getProperties()?.toJavaScript() ?? {};
    }

    /** Read, as refresh sends it: the old outputs and the old inputs (provider_plugin.go Read). */
    async read(urn: string, id: string, properties: object, inputs?: object): Promise<{ id: string; props: Record<string, any> }> {
        const r = new P.ReadRequest();
        r.setUrn(urn);
        r.setId(id);
        r.setProperties(S(properties));
        if (inputs) r.setInputs(S(inputs));
        const resp: any = await this.call("read", r);
        return { id: resp.getId(), props: resp.getProperties()?.toJavaScript() ?? {} };
    }

    async delete(urn: string, id: string, properties: object): Promise<void> {
        const r = new P.DeleteRequest();
        r.setUrn(urn);
        r.setId(id);
        r.setProperties(S(properties));
        await this.call("delete", r);
    }

    /** Ends the host process and waits until everything it printed has been read (its pipes closed). */
    async stop(): Promise<void> {
        this.client.close();
        const closed = new Promise<void>((resolve) => {
            if (this.child.stdout!.closed && this.child.stderr!.closed) resolve();
            else this.child.once("close", () => resolve());
        });
        if (this.isRunning()) this.child.kill("SIGTERM");
        await closed;
    }
}
