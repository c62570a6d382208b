// Loading a kubeconfig and making API clients from it.
// Two things client-node does not do for us: it builds a fresh https.Agent (a new TLS handshake) for every
// request, and it puts no time limit on a request. A small middleware fixes both: one keep-alive agent per
// KubeConfig, and an AbortSignal with a timeout on every call.
import * as https from "node:https";
import {
    AppsV1Api,
    CoreV1Api,
    KubeConfig,
    Observable,
    PolicyV1Api,
    type ConfigurationOptions,
    type ObservableMiddleware,
} from "@kubernetes/client-node";

export interface KubeConfigSource {
    /** Kubeconfig YAML text. */
    kubeconfig?: string;
    /** Path of a kubeconfig file. */
    kubeconfigPath?: string;
    /** Context to use instead of current-context. */
    context?: string;
}

/** Error about the kubeconfig. Never contains its content (it holds credentials). */
export class KubeConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "KubeConfigError";
    }
}

/** Position-only summary of a YAML/JSON parse error: parser messages quote the offending text. */
function parseErrorSummary(err: any): string {
    const mark = err?.mark;
    if (mark && typeof mark.line === "number") return `not valid YAML (line ${mark.line + 1}, column ${mark.column + 1})`;
    const linePos = err?.linePos?.[0];
    if (linePos && typeof linePos.line === "number") return `not valid YAML (line ${linePos.line}, column ${linePos.col})`;
    return "not valid YAML";
}

/**
 * Loads a kubeconfig from YAML text, a file, or (neither given) KUBECONFIG / ~/.kube/config, like kubectl.
 * Errors name the source and the problem, never the content.
 */
export function loadKubeConfig(src: KubeConfigSource = {}): KubeConfig {
    const kc = new KubeConfig();
    const where =
        src.kubeconfig !== undefined
            ? "the kubeconfig text"
            : src.kubeconfigPath
              ? `kubeconfig file ${src.kubeconfigPath}`
              : "the default kubeconfig";
    try {
        if (src.kubeconfig !== undefined) {
            if (!src.kubeconfig.trim()) throw new KubeConfigError("the kubeconfig text is empty");
            kc.loadFromString(src.kubeconfig);
        } else if (src.kubeconfigPath) {
            kc.loadFromFile(src.kubeconfigPath);
        } else {
            kc.loadFromDefault();
        }
    } catch (err: any) {
        if (err instanceof KubeConfigError) throw err;
        if (err?.code === "ENOENT") throw new KubeConfigError(`${where}: file not found`);
        if (err?.code === "EACCES") throw new KubeConfigError(`${where}: permission denied`);
        const isParse = err?.name === "YAMLException" || err?.mark || err?.linePos || err instanceof SyntaxError;
        throw new KubeConfigError(`${where} is ${isParse ? parseErrorSummary(err) : "not a usable kubeconfig"}`);
    }
    if (src.context) {
        if (!kc.getContextObject(src.context)) {
            throw new KubeConfigError(`context "${src.context}" not found in ${where}`);
        }
        kc.setCurrentContext(src.context);
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster || !cluster.server) {
        throw new KubeConfigError(
            kc.getContexts().length === 0 && kc.getClusters().length === 0
                ? `${where} defines no cluster (no KUBECONFIG set and no ~/.kube/config?)`
                : `${where}: the current context has no cluster with a server address`,
        );
    }
    return kc;
}

/** Raised when a single request takes longer than its time limit. Treated as transient. */
export class RequestTimeoutError extends Error {
    constructor(ms: number) {
        super(`request timed out after ${Math.round(ms / 1000)}s`);
        this.name = "RequestTimeoutError";
    }
}

export interface KubeClientOptions {
    /** Time limit of one API request (not watches). Default 30 s. */
    requestTimeoutMs?: number;
}

/** One keep-alive agent per KubeConfig, shared by every client made from it. */
const agents = new WeakMap<KubeConfig, https.Agent>();

function sharedAgent(kc: KubeConfig, perRequest: unknown): unknown {
    // Only plain https agents are replaced; proxy agents and plain http are left as client-node made them.
    if (!(perRequest instanceof https.Agent) || perRequest.constructor !== https.Agent) return perRequest;
    let agent = agents.get(kc);
    if (!agent) {
        const o = (perRequest as any).options ?? {};
        agent = new https.Agent({
            ca: o.ca,
            cert: o.cert,
            key: o.key,
            pfx: o.pfx,
            passphrase: o.passphrase,
            servername: o.servername,
            rejectUnauthorized: o.rejectUnauthorized,
            keepAlive: true,
            maxSockets: 64,
        });
        agents.set(kc, agent);
    }
    return agent;
}

/** The API clients the drain engine uses, all sharing one connection pool and per-request timeouts. */
export class KubeClient {
    readonly core: CoreV1Api;
    readonly apps: AppsV1Api;
    readonly policy: PolicyV1Api;
    private readonly requestTimeoutMs: number;

    constructor(
        readonly kc: KubeConfig,
        options: KubeClientOptions = {},
    ) {
        this.core = kc.makeApiClient(CoreV1Api);
        this.apps = kc.makeApiClient(AppsV1Api);
        this.policy = kc.makeApiClient(PolicyV1Api);
        this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    }

    /**
     * Per-call options: keep-alive agent, a timeout, optional extra headers (e.g. the patch Content-Type) and
     * an optional caller signal that cancels the request.
     */
    options(
        extra: { headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number } = {},
    ): ConfigurationOptions<ObservableMiddleware> {
        const kc = this.kc;
        const timeoutMs = extra.timeoutMs ?? this.requestTimeoutMs;
        const middleware: ObservableMiddleware = {
            pre: (ctx) => {
                ctx.setAgent(sharedAgent(kc, ctx.getAgent()) as any);
                for (const [k, v] of Object.entries(extra.headers ?? {})) ctx.setHeaderParam(k, v);
                const signals: AbortSignal[] = [timeoutSignal(timeoutMs)];
                if (extra.signal) signals.push(extra.signal);
                ctx.setSignal(AbortSignal.any(signals) as any);
                return of(ctx);
            },
            post: (rsp) => of(rsp),
        };
        return { middleware: [middleware], middlewareMergeStrategy: "append" };
    }

    /** Runs one API call; a timeout abort is turned into RequestTimeoutError so retry logic can see it. */
    async call<T>(
        fn: (opts: ConfigurationOptions<ObservableMiddleware>) => Promise<T>,
        extra: { headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number } = {},
    ): Promise<T> {
        try {
            return await fn(this.options(extra));
        } catch (err: any) {
            if (extra.signal?.aborted) throw extra.signal.reason;
            if (err?.name === "AbortError" || err?.type === "aborted")
                throw new RequestTimeoutError(extra.timeoutMs ?? this.requestTimeoutMs);
            throw err;
        }
    }
}

function timeoutSignal(ms: number): AbortSignal {
    return AbortSignal.timeout(ms);
}

// client-node's middleware contract uses its own minimal Observable.
function of<T>(value: T): Observable<T> {
    return new Observable(Promise.resolve(value));
}

/** Cached KubeClient per KubeConfig, so repeated calls reuse connections. */
const clients = new WeakMap<KubeConfig, KubeClient>();
export function clientFor(kc: KubeConfig): KubeClient {
    let c = clients.get(kc);
    if (!c) {
        c = new KubeClient(kc);
        clients.set(kc, c);
    }
    return c;
}
