// Drives the REAL Pulumi dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) over gRPC, without
// the Pulumi engine: the same process and code path `pulumi up` uses for our providers. The provider text is
// the SDK's own serialization, so a provider that does not serialize or does not load fails here (under
// mocks it would only hang). What the providers print (console.log in the host) is kept, and can be
// followed live with `onOutput`, as the Pulumi CLI shows it.
import { spawn, ChildProcess } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { findPackageRoot } from "../components/package-root";

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

export class DynamicProviderHost {
    private lines: string[] = [];
    private errLines: string[] = [];

    private constructor(
        private readonly child: ChildProcess,
        private readonly client: any,
        readonly port: number,
    ) {}

    /**
     * Starts the host process (cwd = repo root, like the engine's program directory) and connects to it.
     * `onOutput` receives every line the providers print, as it arrives.
     */
    static async start(
        opts: { cwd?: string; env?: NodeJS.ProcessEnv; onOutput?: (line: string, stream: "stdout" | "stderr") => void } = {},
    ): Promise<DynamicProviderHost> {
        const script = require.resolve("@pulumi/pulumi/cmd/dynamic-provider");
        const child = spawn(process.execPath, [script, "127.0.0.1:1"], {
            cwd: opts.cwd ?? REPO_ROOT,
            env: { ...process.env, ...opts.env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let buffered = "";
        let stderr = "";
        const port = await new Promise<number>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`the dynamic-provider host printed no port within 20s; stderr: ${stderr}`)), 20_000);
            child.stderr!.on("data", (d) => (stderr += d.toString()));
            child.once("exit", (code) => reject(new Error(`the dynamic-provider host exited (${code}) before printing its port; stderr: ${stderr}`)));
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
        const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        const host = new DynamicProviderHost(child, client, port);
        // Lines, not chunks: a chunk can end in the middle of a line.
        // (clearOutput replaces the arrays, so they are looked up at each line.)
        const splitter = (stream: "stdout" | "stderr", into: () => string[]) => {
            let partial = "";
            return (text: string) => {
                const parts = (partial + text).split("\n");
                partial = parts.pop()!;
                for (const line of parts.filter(Boolean)) {
                    into().push(line);
                    opts.onOutput?.(line, stream);
                }
            };
        };
        const onStdout = splitter("stdout", () => host.lines);
        const rest = buffered.slice(buffered.indexOf("\n") + 1);
        if (rest) onStdout(rest);
        child.stdout!.on("data", (d: Buffer) => onStdout(d.toString()));
        const onStderr = splitter("stderr", () => host.errLines);
        child.stderr!.on("data", (d: Buffer) => onStderr(d.toString()));
        child.removeAllListeners("exit");
        return host;
    }

    /** Lines the providers printed (console.log inside the host), in order. */
    output(): string[] {
        return [...this.lines];
    }

    stderr(): string[] {
        return [...this.errLines];
    }

    clearOutput(): void {
        this.lines = [];
        this.errLines = [];
    }

    private call<T>(method: string, request: any, timeoutSeconds = 300): Promise<T> {
        return new Promise((resolve, reject) => {
            const deadline = new Date(Date.now() + timeoutSeconds * 1000);
            this.client[method](request, { deadline }, (err: any, response: T) => {
                if (err) reject(new ProviderHostError(err.details || err.message, err.code));
                else resolve(response);
            });
        });
    }

    async check(urn: string, olds: object, news: object): Promise<{ inputs: Record<string, any>; failures: { property: string; reason: string }[] }> {
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
            changes: changes === P.DiffResponse.DiffChanges.DIFF_SOME ? "some" : changes === P.DiffResponse.DiffChanges.DIFF_NONE ? "none" : "unknown",
            replaces: resp.getReplacesList(),
            deleteBeforeReplace: resp.getDeletebeforereplace(),
        };
    }

    async create(urn: string, properties: object, timeoutSeconds?: number): Promise<{ id: string; outs: Record<string, any> }> {
        const r = new P.CreateRequest();
        r.setUrn(urn);
        r.setProperties(S(properties));
        const resp: any = await this.call("create", r, timeoutSeconds);
        return { id: resp.getId(), outs: resp.getProperties()?.toJavaScript() ?? {} };
    }

    async update(urn: string, id: string, olds: object, news: object, timeoutSeconds?: number): Promise<Record<string, any>> {
        const r = new P.UpdateRequest();
        r.setUrn(urn);
        r.setId(id);
        r.setOlds(S(olds));
        r.setNews(S(news));
        const resp: any = await this.call("update", r, timeoutSeconds);
        return resp.getProperties()?.toJavaScript() ?? {};
    }

    async read(urn: string, id: string, properties: object): Promise<{ id: string; props: Record<string, any> }> {
        const r = new P.ReadRequest();
        r.setUrn(urn);
        r.setId(id);
        r.setProperties(S(properties));
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

    async stop(): Promise<void> {
        this.client.close();
        if (this.child.exitCode !== null) return;
        await new Promise<void>((resolve) => {
            this.child.once("exit", () => resolve());
            this.child.kill("SIGTERM");
        });
    }
}
