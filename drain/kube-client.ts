// Loading a kubeconfig and making API clients from it.
// Two things client-node does not do for us: it builds a fresh https.Agent (a new TLS handshake) for every
// request, and it puts no time limit on a request. A small middleware fixes both: one keep-alive agent per
// KubeConfig, and an AbortSignal with a timeout on every call.
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import {
    AppsV1Api,
    CoordinationV1Api,
    CoreV1Api,
    KubeConfig,
    Observable,
    PolicyV1Api,
    VersionApi,
    type ConfigurationOptions,
    type ObservableMiddleware,
} from "@kubernetes/client-node";
import { formatDuration } from "../kube-rules";
import { type ApiFailure, KubeApiError, describeFailure, redactUrl, toApiFailure } from "./api-errors";
import { type RetryListener, reportRetriesTo } from "./retry";

export interface KubeConfigSource {
    /** Kubeconfig YAML text. */
    kubeconfig?: string;
    /** Path of a kubeconfig file. */
    kubeconfigPath?: string;
    /**
     * How the user gave kubeconfigPath, for messages: with "--kubeconfig", a missing file is
     * "--kubeconfig /x/y: no such file" (default "kubeconfig file /x/y: file not found"), and "no kubeconfig
     * found" lists it among the places looked at.
     */
    kubeconfigPathOption?: string;
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

/** Where a KubeConfig came from, for messages about it (a 401 names the file and context whose credentials failed). */
interface KubeConfigOrigin {
    /** "--kubeconfig /x/y", "$KUBECONFIG=/x/y", "/home/me/.kube/config", "the in-cluster service account"... */
    where: string;
    /** The file, when there is one. */
    file?: string;
}
const origins = new WeakMap<KubeConfig, KubeConfigOrigin>();

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** " (i.e. /abs/path)" for a relative path, so the message says which file was meant. */
function absoluteHint(file: string): string {
    return path.isAbsolute(file) ? "" : ` (${path.resolve(file)})`;
}

/**
 * Where kubectl and client-node look when no kubeconfig is given: $KUBECONFIG (files joined by ":"),
 * ~/.kube/config, then the in-cluster service account. client-node's loadFromDefault falls back to
 * http://localhost:8080 after that (as kubectl does), which only fails at the first request, after the retries
 * and with a message about TLS; here a missing file or no kubeconfig at all fails at once, naming what was looked at.
 */
function loadDefault(kc: KubeConfig, pathOption: string | undefined): KubeConfigOrigin {
    const env = process.env.KUBECONFIG;
    if (env) {
        const files = env.split(path.delimiter).filter(Boolean);
        const where = `$KUBECONFIG=${env}`;
        for (const file of files) {
            if (!fs.existsSync(file)) {
                throw new KubeConfigError(
                    `${where}: ${files.length > 1 ? `${file}: ` : ""}no such file${absoluteHint(file)}; ` +
                        "point KUBECONFIG at an existing kubeconfig, or unset it to use ~/.kube/config",
                );
            }
        }
        kc.loadFromDefault();
        return { where, file: files.length === 1 ? files[0] : env };
    }
    const home = process.env.HOME || os.homedir();
    const config = home ? path.join(home, ".kube", "config") : undefined;
    if (config && fs.existsSync(config)) {
        kc.loadFromFile(config);
        return { where: config, file: config };
    }
    if (fs.existsSync(SERVICE_ACCOUNT_TOKEN) && process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT) {
        kc.loadFromCluster();
        return { where: "the in-cluster service account" };
    }
    const looked = [
        `  ${pathOption ? `${pathOption} FILE` : "a kubeconfig path"}: not given`,
        "  $KUBECONFIG: not set",
        `  ${config ?? "~/.kube/config"}: ${config ? "no such file" : "no home directory"}`,
        "  the in-cluster service account: " +
            (fs.existsSync(SERVICE_ACCOUNT_TOKEN)
                ? "$KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT are not set"
                : `not running in a pod (no ${SERVICE_ACCOUNT_TOKEN})`),
    ];
    throw new KubeConfigError(
        `no kubeconfig found; looked at:\n${looked.join("\n")}\n` +
            `Give one with ${pathOption ? `${pathOption} FILE or ` : ""}KUBECONFIG=FILE, or copy the cluster's kubeconfig to ` +
            "~/.kube/config (on a kubeadm control-plane node it is /etc/kubernetes/admin.conf).",
    );
}

/**
 * Loads a kubeconfig from YAML text, a file, or (neither given) KUBECONFIG / ~/.kube/config / the in-cluster
 * service account, like kubectl. Errors name the source and the problem, never the content.
 */
export function loadKubeConfig(src: KubeConfigSource = {}): KubeConfig {
    const kc = new KubeConfig();
    const pathOption = src.kubeconfigPathOption;
    let origin: KubeConfigOrigin =
        src.kubeconfig !== undefined
            ? { where: "the kubeconfig text" }
            : src.kubeconfigPath
              ? {
                    where: pathOption ? `${pathOption} ${src.kubeconfigPath}` : `kubeconfig file ${src.kubeconfigPath}`,
                    file: src.kubeconfigPath,
                }
              : { where: "the default kubeconfig" };
    const where = () => origin.where;
    try {
        if (src.kubeconfig !== undefined) {
            if (!src.kubeconfig.trim()) throw new KubeConfigError("the kubeconfig text is empty");
            kc.loadFromString(src.kubeconfig);
        } else if (src.kubeconfigPath) {
            kc.loadFromFile(src.kubeconfigPath);
        } else {
            origin = loadDefault(kc, pathOption);
        }
    } catch (err: any) {
        if (err instanceof KubeConfigError) throw err;
        if (err?.code === "ENOENT") {
            if (pathOption && src.kubeconfigPath) throw new KubeConfigError(`${where()}: no such file${absoluteHint(src.kubeconfigPath)}`);
            throw new KubeConfigError(`${where()}: file not found`);
        }
        if (err?.code === "EACCES") throw new KubeConfigError(`${where()}: permission denied`);
        if (err?.code === "EISDIR") throw new KubeConfigError(`${where()}: is a directory, not a kubeconfig file`);
        const isParse = err?.name === "YAMLException" || err?.mark || err?.linePos || err instanceof SyntaxError;
        throw new KubeConfigError(`${where()} is ${isParse ? parseErrorSummary(err) : "not a usable kubeconfig"}`);
    }
    if (src.context) {
        if (!kc.getContextObject(src.context)) {
            throw new KubeConfigError(`context "${src.context}" not found in ${where()}`);
        }
        kc.setCurrentContext(src.context);
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster || !cluster.server) {
        throw new KubeConfigError(
            kc.getContexts().length === 0 && kc.getClusters().length === 0
                ? `${where()} defines no cluster (an empty kubeconfig?)`
                : `${where()}: the current context has no cluster with a server address`,
        );
    }
    origins.set(kc, origin);
    return kc;
}

/** Raised when a single request takes longer than its time limit. Treated as transient. */
export class RequestTimeoutError extends Error {
    constructor(ms: number) {
        super(`request timed out after ${formatDuration(ms / 1000)}`);
        this.name = "RequestTimeoutError";
    }
}

export interface KubeClientOptions {
    /** Time limit of one API request (not watches). Default 30 s. */
    requestTimeoutMs?: number;
    /**
     * Until the API server has answered this client once, a refused connection or a host name that does not
     * resolve (ECONNREFUSED, ENOTFOUND, EAI_AGAIN) is not retried: it throws at once, naming the server.
     *
     * Why only until the first answer: at first contact these errors almost always mean a wrong address or port,
     * a wrong kubeconfig, or no cluster at all, and ten retries only delay the same message by ~20 s (kubectl
     * fails at once too). Once the server has answered, the same errors mean it is restarting (a control-plane
     * upgrade, a load balancer failing over) and a running drain must ride that out, so they are retried as before.
     * Why opt-in: the Pulumi steps load a fresh KubeConfig per step, so their "first contact" can be the read right
     * after a control-plane node's upgrade, while its API server restarts. The CLI turns it on.
     */
    failFastUntilReached?: boolean;
    /**
     * Told about each retry withRetry makes of this client's calls when the caller reports none itself
     * (the CLI prints "retrying in 2s: ..."). See reportRetriesTo.
     */
    onRetry?: RetryListener;
}

/** Network error codes that, before the server ever answered, mean "wrong address" rather than "try again". */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

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

/**
 * The API clients the drain engine (and shared-cluster/'s locks and gates) use, all sharing one connection pool
 * and per-request timeouts.
 */
export class KubeClient {
    readonly core: CoreV1Api;
    readonly apps: AppsV1Api;
    readonly policy: PolicyV1Api;
    readonly version: VersionApi;
    /** Leases: shared-cluster/'s roll lock. */
    readonly coordination: CoordinationV1Api;
    private readonly requestTimeoutMs: number;
    /** The API server has answered at least one request of this client (any HTTP status). */
    private reached = false;

    constructor(
        readonly kc: KubeConfig,
        private readonly clientOptions: KubeClientOptions = {},
    ) {
        this.core = kc.makeApiClient(CoreV1Api);
        this.apps = kc.makeApiClient(AppsV1Api);
        this.policy = kc.makeApiClient(PolicyV1Api);
        this.version = kc.makeApiClient(VersionApi);
        this.coordination = kc.makeApiClient(CoordinationV1Api);
        this.requestTimeoutMs = clientOptions.requestTimeoutMs ?? 30_000;
    }

    /** The API server's address (userinfo and query dropped). */
    get server(): string {
        return redactUrl(this.kc.getCurrentCluster()?.server ?? "");
    }

    /**
     * Whether the error says this client cannot talk to its API server at all, so that neither retrying nor
     * waiting can help: refused or unknown at first contact (failFastUntilReached), a TLS failure, a plain
     * http:// address client-node will not use, or credentials refused (401).
     */
    isConnectionProblem(err: unknown): boolean {
        const f = toApiFailure(err);
        return f.code === 401 || (f.code === 0 && (f.reason === "Unreachable" || f.reason === "TLSError" || f.reason === "ClientConfig"));
    }

    /**
     * The error as a person should read it, from anything an API call of this client threw: network failures
     * name the API server ("cannot reach the API server https://10.0.0.1:6443: connection refused (ECONNREFUSED)"),
     * a 401 says whose credentials were refused, and before the first answer a refused connection or unknown
     * host is not transient (failFastUntilReached). Other errors are returned as they are.
     */
    explain(err: unknown): unknown {
        if (err instanceof KubeApiError || !err || typeof err !== "object") return err;
        const f = toApiFailure(err);
        const server = this.server;
        if (f.code === 401) {
            const origin = origins.get(this.kc);
            const context = this.kc.getCurrentContext();
            const user = this.kc.getCurrentUser()?.name;
            const which = [context && `context "${context}"`, user && `user "${user}"`].filter(Boolean).join(", ");
            const credentials = `${origin?.file ?? origin?.where ?? "the kubeconfig"}${which ? ` (${which})` : ""}`;
            const failure = { ...f, reason: f.reason || "Unauthorized", server, credentials };
            return new KubeApiError(describeFailure(failure), failure);
        }
        if (f.code !== 0 || f.reason === "Timeout") return err;
        const e = err as any;
        if (/HTTP protocol is not allowed/i.test(String(e.message))) {
            // client-node refuses plain http:// unless the cluster has insecure-skip-tls-verify (kubectl does not).
            const failure: ApiFailure = {
                ...f,
                reason: "ClientConfig",
                server,
                message:
                    `the API server address ${server} is plain http://, which @kubernetes/client-node only uses with ` +
                    "insecure-skip-tls-verify: true on the kubeconfig's cluster; use the https:// address",
            };
            return new KubeApiError(failure.message, failure);
        }
        const code = String(e.code ?? e.cause?.code ?? "");
        const named = f.message.replace(/^cannot reach the API server(?=:)/, `cannot reach the API server ${server}`);
        const unreachable = !this.reached && !!this.clientOptions.failFastUntilReached && UNREACHABLE_CODES.has(code);
        const where = origins.get(this.kc)?.where;
        const failure: ApiFailure = {
            ...f,
            reason: unreachable ? "Unreachable" : f.reason,
            server,
            message: unreachable
                ? `${named}; check the server address${where ? ` in ${where}` : ""}${this.kc.getCurrentContext() ? ` (context "${this.kc.getCurrentContext()}")` : ""}` +
                  (code === "ECONNREFUSED" ? " and that the API server is running" : "")
                : named,
        };
        return new KubeApiError(failure.message, failure);
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
        let thrown: unknown;
        try {
            const result = await fn(this.options(extra));
            this.reached = true;
            return result;
        } catch (err: any) {
            if (extra.signal?.aborted) throw extra.signal.reason;
            if (typeof err?.code === "number" || typeof err?.statusCode === "number") this.reached = true; // an HTTP answer
            thrown =
                // AbortSignal.timeout's reason is a TimeoutError; node-fetch reports an AbortError (type "aborted")
                err?.name === "AbortError" || err?.name === "TimeoutError" || err?.type === "aborted"
                    ? new RequestTimeoutError(extra.timeoutMs ?? this.requestTimeoutMs)
                    : this.explain(err);
        }
        if (this.clientOptions.onRetry) reportRetriesTo(thrown, this.clientOptions.onRetry);
        throw thrown;
    }
}

function timeoutSignal(ms: number): AbortSignal {
    return AbortSignal.timeout(ms);
}

// client-node's middleware contract uses its own minimal Observable.
function of<T>(value: T): Observable<T> {
    return new Observable(Promise.resolve(value));
}

/**
 * Cached KubeClient per KubeConfig, so repeated calls reuse connections. With `options`, a new client with
 * them replaces the cached one: every later clientFor(kc), the engine's included, gets it (the CLI sets
 * failFastUntilReached and onRetry this way right after loading the kubeconfig).
 */
const clients = new WeakMap<KubeConfig, KubeClient>();
export function clientFor(kc: KubeConfig, options?: KubeClientOptions): KubeClient {
    let c = clients.get(kc);
    if (!c || options) {
        c = new KubeClient(kc, options);
        clients.set(kc, c);
    }
    return c;
}
