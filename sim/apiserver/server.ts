// The HTTPS front door: TLS, bearer-token auth, the request log, fault
// injection, body reading, and writing JSON/Status responses. What a request
// *means* is decided in handlers.ts (REST) and by the /sim/v1 handler the
// cluster plugs in.

import * as https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SimClock } from "../clock";
import type { FaultInjector } from "../faults";
import { bearerToken, isPublicPath, tokenMatches, TlsMaterial } from "./auth-tls";
import { ADMIN_USER, UserInfo, userInfo } from "./authorizer";
import { forbidden, nonResourceAttributes, RbacIdentity, resourceAttributes } from "./rbac";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, DiscoveryOptions, versionInfo } from "./discovery";
import { handle, HandlerContext, Reply } from "./handlers";
import { openapiV3GroupVersion, openapiV3Root } from "./openapi";
import { route } from "./router";
import { ApiError, internalError, pathNotFound, unauthorized } from "./status-errors";

export interface RequestLogEntry {
    method: string;
    path: string;
    query: string;
    status: number;
    /** simulated epoch ms when the response started */
    time: number;
    verb?: string;
    resource?: string;
    /** API group of a resource request ("" = core) */
    apiGroup?: string;
    /** the user when it was not the admin: the RBAC identity or a service account token's (absent: the admin token) */
    user?: string;
    /** the connection was reset by a "reset" fault (status 0) */
    reset?: boolean;
    /** simulated epoch ms when the request arrived (before any injected latency) */
    received?: number;
    /** real milliseconds of latency a "latency" fault added before the answer */
    latencyMs?: number;
    /** the watch stream was cut by a fault (a dropWatch rule or cluster.dropWatches()) */
    dropped?: boolean;
    /** answered 410 Expired (a watch's ERROR event, or a list's stale continue token) */
    expired?: boolean;
    /** the answer was an injected "error" fault (its status is `status`) */
    injected?: boolean;
    /** the Retry-After (seconds) sent with an injected error */
    retryAfterSeconds?: number;
}

/** Handler for the simulator's own endpoints under /sim/v1. */
export type SimHandler = (method: string, parts: string[], body: any) => Promise<{ status: number; body: any }>;

export interface ApiServerOptions {
    tls: TlsMaterial;
    token: string;
    clock: SimClock;
    faults: FaultInjector;
    ctx: HandlerContext;
    gitVersion: string;
    simHandler: SimHandler;
    /** keep at most this many request-log entries (oldest dropped) */
    requestLogLimit?: number;
    /** a second bearer token whose requests are checked against RBAC rules */
    rbac?: RbacIdentity & { token: string };
}

export class ApiServer {
    private server: https.Server;
    private log: RequestLogEntry[] = [];
    private port = 0;

    /** Replace the admin token: requests with the old one get 401 from now on. */
    setToken(token: string): void {
        this.o.token = token;
    }

    constructor(private readonly o: ApiServerOptions) {
        this.server = https.createServer({ cert: o.tls.cert, key: o.tls.key }, (req, res) => {
            this.serve(req, res).catch((e) => {
                if (!res.headersSent) this.sendError(res, internalError(String(e?.message ?? e)));
                else res.end();
            });
        });
        this.server.keepAliveTimeout = 60_000;
    }

    listen(port: number): Promise<number> {
        return new Promise((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(port, "127.0.0.1", () => {
                this.port = (this.server.address() as AddressInfo).port;
                resolve(this.port);
            });
        });
    }

    url(): string {
        return `https://127.0.0.1:${this.port}`;
    }

    requestLog(): RequestLogEntry[] {
        return this.log.slice();
    }

    clearRequestLog(): void {
        this.log = [];
    }

    async close(): Promise<void> {
        this.o.ctx.watchHub.closeAll();
        await new Promise<void>((resolve) => {
            this.server.close(() => resolve());
            this.server.closeAllConnections?.();
        });
    }

    private authenticate(authorization: string | undefined): UserInfo | undefined {
        if (tokenMatches(authorization, this.o.token)) return ADMIN_USER;
        if (this.o.rbac && tokenMatches(authorization, this.o.rbac.token)) return userInfo(this.o.rbac.user);
        const bearer = bearerToken(authorization);
        const sa = bearer ? this.o.ctx.tokens.verify(bearer) : undefined;
        return sa ? userInfo(sa) : undefined;
    }

    private discoveryOptions(): DiscoveryOptions {
        return {
            serverAddress: `127.0.0.1:${this.port}`,
            gitVersion: this.o.gitVersion,
            hideEviction: () => this.o.faults.hideEviction(),
        };
    }

    private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const url = new URL(req.url ?? "/", "https://localhost");
        const path = url.pathname;
        const method = (req.method ?? "GET").toUpperCase();
        const entry: RequestLogEntry = {
            method,
            path,
            query: url.search.replace(/^\?/, ""),
            status: 0,
            time: 0,
            received: this.o.clock.nowMs(),
        };
        // log when the status line is written, so watches show up while they are open
        const writeHead = res.writeHead.bind(res);
        (res as any).writeHead = (status: number, ...rest: any[]) => {
            if (!entry.status) {
                entry.status = status;
                entry.time = this.o.clock.nowMs();
                this.log.push(entry);
                const limit = this.o.requestLogLimit ?? 200_000;
                if (this.log.length > limit) this.log.splice(0, this.log.length - limit);
            }
            return writeHead(status, ...rest);
        };

        // Who is asking: the admin (system:masters), the RBAC identity, a service account token, or nobody
        // (public paths only). Everyone but the admin is authorized per request (authorizer.ts).
        const user = this.authenticate(req.headers.authorization);
        if (!user && !isPublicPath(path)) {
            await drain(req);
            return this.sendError(res, unauthorized());
        }
        const checked = user && user !== ADMIN_USER ? user : undefined;
        if (checked) entry.user = checked.name;
        const r = route(method, path, url.searchParams);
        const body = await readBody(req);
        try {
            if (checked) {
                const attrs = r.kind === "resource" ? resourceAttributes(r, url.searchParams, path) : nonResourceAttributes(method, path);
                if (r.kind === "resource") {
                    entry.verb = r.verb;
                    entry.apiGroup = r.group;
                    entry.resource = r.subresource ? `${r.resource.plural}/${r.subresource}` : r.resource.plural;
                }
                if (!this.o.ctx.authorizer.authorize(checked, attrs).allowed) throw forbidden(checked.name, attrs);
            }
            switch (r.kind) {
                case "notFound":
                    throw pathNotFound();
                case "discovery":
                    return this.sendJson(res, 200, this.discovery(r.doc, r.group, r.version));
                case "sim": {
                    let parsed: any;
                    if (body.length) {
                        try {
                            parsed = JSON.parse(body.toString("utf8"));
                        } catch {
                            throw new ApiError(400, "BadRequest", "request body must be JSON");
                        }
                    }
                    const out = await this.o.simHandler(method, r.parts, parsed);
                    return this.sendJson(res, out.status, out.body);
                }
                case "resource": {
                    entry.verb = r.verb;
                    entry.apiGroup = r.group;
                    entry.resource = r.subresource ? `${r.resource.plural}/${r.subresource}` : r.resource.plural;
                    const fault = this.o.faults.onRequest(r.verb, entry.resource, r.namespace, r.name);
                    // a dropWatch decision the watch handler does not take over injects nothing
                    const unusedDrop = () => fault.dropWatch?.release();
                    if (fault.latencyMs > 0) {
                        entry.latencyMs = fault.latencyMs;
                        await new Promise((x) => setTimeout(x, fault.latencyMs));
                    }
                    if (fault.reset) {
                        // A connection reset: the socket dies without a response (a load balancer or apiserver restart).
                        unusedDrop();
                        entry.reset = true;
                        entry.time = this.o.clock.nowMs();
                        this.log.push(entry);
                        req.socket.destroy();
                        return;
                    }
                    if (fault.error) {
                        unusedDrop();
                        entry.injected = true;
                        if (fault.error.retryAfterSeconds) entry.retryAfterSeconds = fault.error.retryAfterSeconds;
                        return this.sendFault(res, fault.error);
                    }
                    let reply: Reply;
                    try {
                        reply = handle(this.o.ctx, {
                            method,
                            info: r,
                            user: user ?? ADMIN_USER,
                            query: url.searchParams,
                            headers: req.headers,
                            body,
                            res,
                            dropWatch: fault.dropWatch,
                            onDropped: (by) => {
                                entry.dropped = true;
                                if (by === "dropWatches") this.o.faults.record("dropWatch");
                            },
                            onExpired: (compacted) => {
                                entry.expired = true;
                                if (compacted) this.o.faults.record("expired");
                            },
                        });
                    } catch (e) {
                        unusedDrop();
                        throw e;
                    }
                    if (reply.streaming) return;
                    unusedDrop();
                    if (reply.raw !== undefined) return this.sendRaw(res, reply.status, reply.raw, reply.headers);
                    return this.sendJson(res, reply.status, reply.body, reply.headers);
                }
            }
        } catch (e) {
            if (e instanceof ApiError) return this.sendError(res, e);
            throw e;
        }
    }

    private discovery(doc: string, group?: string, version?: string): any {
        const o = this.discoveryOptions();
        switch (doc) {
            case "version":
                return versionInfo(this.o.gitVersion);
            case "health":
                return "ok";
            case "openapi": {
                const doc = group === "/openapi/v3" ? openapiV3Root() : openapiV3GroupVersion(group!);
                if (!doc) throw pathNotFound();
                return doc;
            }
            case "api":
                return apiVersions(o);
            case "apis":
                return apiGroupList();
            case "group": {
                const g = apiGroup(group!);
                if (!g) throw pathNotFound();
                return g;
            }
            case "groupVersion": {
                const l = apiResourceList(group ?? "", version!, o);
                if (!l) throw pathNotFound();
                return l;
            }
        }
        throw pathNotFound();
    }

    private sendFault(res: ServerResponse, f: { status: number; message?: string; retryAfterSeconds?: number; plainText?: boolean }): void {
        const headers: Record<string, string> = {};
        if (f.retryAfterSeconds) headers["Retry-After"] = String(f.retryAfterSeconds);
        if (f.plainText) {
            res.writeHead(f.status, { "Content-Type": "text/plain; charset=utf-8", ...headers });
            res.end(f.message ?? "Too many requests, please try again later.\n");
            return;
        }
        const reasons: Record<number, [string, string]> = {
            429: ["TooManyRequests", "Too many requests, please try again later."],
            500: ["InternalError", "Internal error occurred: injected fault"],
            503: ["ServiceUnavailable", "the server is currently unable to handle the request"],
            504: ["Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request"],
            409: ["Conflict", "Operation cannot be fulfilled: injected conflict"],
            404: ["NotFound", "the server could not find the requested resource"],
            403: ["Forbidden", "forbidden: injected fault"],
        };
        const [reason, msg] = reasons[f.status] ?? ["", `injected fault (HTTP ${f.status})`];
        const details: any = {};
        if (f.retryAfterSeconds) details.retryAfterSeconds = f.retryAfterSeconds;
        if (f.status === 500) details.causes = [{ message: "injected fault" }];
        this.sendError(
            res,
            new ApiError(f.status, reason || undefined, f.message ?? msg, Object.keys(details).length ? details : undefined, headers),
        );
    }

    private sendError(res: ServerResponse, e: ApiError): void {
        this.sendJson(res, e.code, e.status, e.headers);
    }

    private sendJson(res: ServerResponse, status: number, body: any, headers?: Record<string, string>): void {
        this.sendRaw(res, status, typeof body === "string" && status === 200 && body === "ok" ? "ok" : JSON.stringify(body), headers);
    }

    private sendRaw(res: ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
        const buf = Buffer.from(text, "utf8");
        res.writeHead(status, {
            "Content-Type": text === "ok" ? "text/plain; charset=utf-8" : "application/json",
            "Content-Length": String(buf.length),
            "Cache-Control": "no-cache, private",
            ...(headers ?? {}),
        });
        res.end(buf);
    }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}

function drain(req: IncomingMessage): Promise<void> {
    return readBody(req).then(() => undefined);
}
