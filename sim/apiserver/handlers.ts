// REST verbs: turn a routed request into Registry calls and shape the
// response (lists with paging, Tables, watch streams, subresources).

import type { ServerResponse } from "node:http";
import * as YAML from "yaml";
import type { SimClock } from "../clock";
import { selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview } from "./access-reviews";
import type { Authorizer, UserInfo } from "./authorizer";
import { DeleteOptions } from "./deletion";
import { aheadOfWallMs, eventAsServed } from "./event-time";
import { evictPod } from "./eviction";
import { LIST_TOO_OLD, listResourceVersion, validateListOptions } from "./list-options";
import { jsonPatch, mergePatch, patchTypeFromContentType, strategicMergePatch } from "./patch";
import { decodeK8sProtobuf, isK8sProtobuf, UnsupportedProtobuf } from "./protobuf";
import { queryBool } from "./query";
import { Registry } from "./registry";
import { apiVersionOf, resourceByPlural, ResourceInfo } from "./resources";
import type { RequestInfo } from "./router";
import { parseFieldSelector, parseLabelSelector } from "./selectors";
import { ApiError, badRequest, expired, methodNotAllowed, notFound, pathNotFound, unsupportedBodyType } from "./status-errors";
import { K8sObject, clone, jsonOf, keyOf } from "./store";
import { buildTable, IncludeObject, wantsTable } from "./tables";
import type { ServiceAccountTokens } from "./sa-tokens";
import { ExpiredError, WatchHub, Watcher, WatchEventType } from "./watch";
import type { DropWatchDecision } from "../faults";

export interface HandlerContext {
    registry: Registry;
    watchHub: WatchHub;
    clock: SimClock;
    authorizer: Authorizer;
    tokens: ServiceAccountTokens;
}

export interface Reply {
    status: number;
    /** an object to JSON-encode, or a pre-encoded JSON string */
    body?: any;
    raw?: string;
    headers?: Record<string, string>;
    /** set when the handler took over the response (watch) */
    streaming?: boolean;
}

export interface IncomingRequest {
    method: string;
    info: RequestInfo;
    query: URLSearchParams;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
    res: ServerResponse;
    /** who is asking (SelfSubjectAccessReview answers for this user) */
    user: UserInfo;
    /** fault decision for watches */
    dropWatch?: DropWatchDecision;
    /** the watch was cut by a fault: by the dropWatch decision ("rule") or by cluster.dropWatches() */
    onDropped?: (by: "rule" | "dropWatches") => void;
    /** a 410 Expired was served; `compacted`: because compactWatchHistory() dropped that resourceVersion */
    onExpired?: (compacted: boolean) => void;
}

function isDryRun(q: URLSearchParams): boolean {
    const v = q.getAll("dryRun");
    for (const x of v) if (x !== "All") throw badRequest(`Invalid dry run value: ${x}`);
    return v.includes("All");
}

export function parseBody(req: IncomingRequest, allowEmpty = false): any {
    const ct = String(req.headers["content-type"] ?? "application/json")
        .split(";")[0]
        .trim();
    if (ct.includes("protobuf") || isK8sProtobuf(req.body)) {
        // kubectl's typed clients send protobuf (see protobuf.ts for what is decoded)
        if (!isK8sProtobuf(req.body)) throw unsupportedBodyType("the protobuf body lacks the k8s envelope");
        try {
            return decodeK8sProtobuf(req.body);
        } catch (e) {
            if (e instanceof UnsupportedProtobuf) throw unsupportedBodyType(e.message);
            throw badRequest(`the object provided is unrecognized: ${(e as Error).message}`);
        }
    }
    if (ct.includes("cbor")) throw unsupportedBodyType();
    const text = req.body.toString("utf8");
    if (!text.trim()) {
        if (allowEmpty) return undefined;
        throw badRequest("the object provided is unrecognized");
    }
    try {
        if (ct.includes("yaml")) return YAML.parse(text);
        return JSON.parse(text);
    } catch (e) {
        throw badRequest(`the object provided is unrecognized: ${(e as Error).message}`);
    }
}

export function handle(ctx: HandlerContext, req: IncomingRequest): Reply {
    const { info } = req;
    const r = info.resource;
    if (info.subresource) return handleSubresource(ctx, req);
    if (r.verbs && !r.verbs.includes(info.verb)) throw methodNotAllowed();
    if (r.plural === "selfsubjectaccessreviews")
        return { status: 201, body: selfSubjectAccessReview(ctx.authorizer, req.user, parseBody(req)) };
    if (r.plural === "selfsubjectrulesreviews")
        return { status: 201, body: selfSubjectRulesReview(ctx.authorizer, req.user, parseBody(req)) };
    if (r.plural === "selfsubjectreviews") return { status: 201, body: selfSubjectReview(req.user) };
    switch (info.verb) {
        case "get":
            return single(req, ctx, ctx.registry.get(r, info.namespace, info.name!));
        case "list":
            return list(ctx, req);
        case "watch":
            return watch(ctx, req);
        case "create":
            if (info.name) throw methodNotAllowed();
            return {
                status: 201,
                raw: served(ctx, r, ctx.registry.create(r, info.namespace, parseBody(req), { dryRun: isDryRun(req.query) })),
            };
        case "update":
            return {
                status: 200,
                raw: served(ctx, r, ctx.registry.update(r, info.namespace, info.name!, parseBody(req), { dryRun: isDryRun(req.query) })),
            };
        case "patch": {
            const type = patchTypeFromContentType(req.headers["content-type"] as string | undefined);
            if (type === "apply" && !req.query.get("fieldManager")) {
                throw badRequest("PATCH requests with apply content type must specify field manager");
            }
            const body = parseBodyForPatch(req, type === "apply");
            return {
                status: 200,
                raw: served(ctx, r, ctx.registry.patch(r, info.namespace, info.name!, type, body, { dryRun: isDryRun(req.query) })),
            };
        }
        case "delete": {
            const opts = deleteOptionsFrom(req);
            const result = ctx.registry.delete(r, info.namespace, info.name!, opts, {
                dryRun: isDryRun(req.query) || (opts.dryRun ?? []).includes("All"),
            });
            return { status: 200, body: result.body };
        }
        case "deletecollection": {
            const items = ctx.registry.list(r, listQuery(req));
            const opts = deleteOptionsFrom(req);
            const dryRun = isDryRun(req.query);
            const out: K8sObject[] = [];
            for (const o of items) {
                try {
                    out.push(ctx.registry.delete(r, o.metadata.namespace, o.metadata.name, opts, { dryRun }).object);
                } catch (e) {
                    if (!(e instanceof ApiError && e.code === 404)) throw e;
                }
            }
            return {
                status: 200,
                body: {
                    kind: `${r.kind}List`,
                    apiVersion: apiVersionOf(r),
                    metadata: { resourceVersion: String(ctx.registry.store.currentRv()) },
                    items: out,
                },
            };
        }
    }
    throw methodNotAllowed();
}

function parseBodyForPatch(req: IncomingRequest, yaml: boolean): any {
    const text = req.body.toString("utf8");
    try {
        return yaml ? YAML.parse(text) : JSON.parse(text);
    } catch (e) {
        throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
}

function deleteOptionsFrom(req: IncomingRequest): DeleteOptions {
    const body = parseBody(req, true) ?? {};
    if (body.kind !== undefined && body.kind !== "DeleteOptions") throw badRequest(`expected DeleteOptions, got ${body.kind}`);
    const opts: DeleteOptions = {
        gracePeriodSeconds: body.gracePeriodSeconds ?? undefined,
        preconditions: body.preconditions ?? undefined,
        propagationPolicy: body.propagationPolicy ?? undefined,
        orphanDependents: body.orphanDependents ?? undefined,
        dryRun: body.dryRun ?? undefined,
    };
    const q = req.query;
    if (q.has("gracePeriodSeconds")) {
        const n = Number(q.get("gracePeriodSeconds"));
        if (!Number.isInteger(n)) throw badRequest(`invalid gracePeriodSeconds: ${q.get("gracePeriodSeconds")}`);
        opts.gracePeriodSeconds = n;
    }
    if (q.has("propagationPolicy")) opts.propagationPolicy = q.get("propagationPolicy") as any;
    if (q.has("orphanDependents")) opts.orphanDependents = queryBool(q, "orphanDependents");
    if (q.has("preconditions.uid") || q.has("preconditions.resourceVersion")) {
        opts.preconditions = {
            ...(opts.preconditions ?? {}),
            ...(q.has("preconditions.uid") ? { uid: q.get("preconditions.uid")! } : {}),
            ...(q.has("preconditions.resourceVersion") ? { resourceVersion: q.get("preconditions.resourceVersion")! } : {}),
        };
    }
    return opts;
}

function listQuery(req: IncomingRequest) {
    const r = req.info.resource;
    return {
        namespace: req.info.namespace,
        labels: parseLabelSelector(req.query.get("labelSelector")),
        fields: parseFieldSelector(r.plural, req.query.get("fieldSelector")),
    };
}

function includeObject(q: URLSearchParams): IncludeObject {
    const v = q.get("includeObject");
    return v === "None" || v === "Object" ? v : "Metadata";
}

/** JSON of an object as served: Events with their times in wall-clock terms (event-time.ts). */
function served(ctx: HandlerContext, r: ResourceInfo, o: K8sObject): string {
    if (r.plural !== "events") return jsonOf(o);
    const ahead = aheadOfWallMs(ctx.clock.nowMs());
    return ahead ? JSON.stringify(eventAsServed(o, ahead)) : jsonOf(o);
}

function single(req: IncomingRequest, ctx: HandlerContext, obj: K8sObject): Reply {
    const t = wantsTable(req.headers.accept as string | undefined);
    if (t.table) {
        return {
            status: 200,
            body: buildTable(req.info.resource, [obj], ctx.clock.nowMs(), {
                includeObject: includeObject(req.query),
                resourceVersion: obj.metadata.resourceVersion,
                apiVersion: t.apiVersion,
            }),
        };
    }
    return { status: 200, raw: served(ctx, req.info.resource, obj) };
}

interface ContinueToken {
    rv: number;
    start: string;
}

function encodeContinue(t: ContinueToken): string {
    return Buffer.from(JSON.stringify(t)).toString("base64url");
}

function decodeContinue(s: string): ContinueToken {
    try {
        const t = JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
        if (typeof t.rv !== "number" || typeof t.start !== "string") throw new Error();
        return t;
    } catch {
        throw badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
    }
}

const CONTINUE_EXPIRED =
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

function list(ctx: HandlerContext, req: IncomingRequest): Reply {
    const r = req.info.resource;
    validateListOptions(req.query);
    const rvNow = ctx.registry.store.currentRv();
    const cont = req.query.get("continue");
    const tok = cont ? decodeContinue(cont) : undefined;
    if (tok && tok.rv < ctx.watchHub.oldestValidRv()) {
        req.onExpired?.(ctx.watchHub.compactedAway(tok.rv));
        throw expired(CONTINUE_EXPIRED);
    }
    const at = tok ? tok.rv : listResourceVersion(req.query, rvNow);
    let items: K8sObject[];
    if (at === undefined || at >= rvNow) items = ctx.registry.list(r, listQuery(req));
    else {
        let all: K8sObject[];
        try {
            all = ctx.watchHub.listAt(r.plural, at);
        } catch (e) {
            if (!(e instanceof ExpiredError)) throw e;
            req.onExpired?.(e.compacted);
            throw expired(LIST_TOO_OLD);
        }
        const q = listQuery(req);
        const w = new Watcher(
            { resource: r.plural, namespace: r.namespaced ? q.namespace : undefined, labels: q.labels, fields: q.fields },
            () => {},
        );
        items = all.filter((o) => w.matches(o));
    }
    const listRv = at ?? rvNow;
    if (tok) items = items.filter((o) => keyOf(o) > tok.start);
    const limit = Number(req.query.get("limit") ?? 0);
    const meta: any = { resourceVersion: String(listRv) };
    if (limit > 0 && items.length > limit) {
        const remaining = items.length - limit;
        items = items.slice(0, limit);
        meta.continue = encodeContinue({ rv: listRv, start: keyOf(items[items.length - 1]) });
        meta.remainingItemCount = remaining;
    }
    const t = wantsTable(req.headers.accept as string | undefined);
    if (t.table) {
        return {
            status: 200,
            body: buildTable(r, items, ctx.clock.nowMs(), {
                includeObject: includeObject(req.query),
                resourceVersion: meta.resourceVersion,
                continueToken: meta.continue,
                apiVersion: t.apiVersion,
            }),
        };
    }
    const raw = `{"kind":"${r.kind}List","apiVersion":"${apiVersionOf(r)}","metadata":${JSON.stringify(meta)},"items":[${items.map((o) => served(ctx, r, o)).join(",")}]}`;
    return { status: 200, raw };
}

// ---- watch -------------------------------------------------------------------

function watch(ctx: HandlerContext, req: IncomingRequest): Reply {
    const { info, query, res } = req;
    const r = info.resource;
    const q = listQuery(req);
    if (info.name) q.fields = [...q.fields, { field: "metadata.name", op: "=", value: info.name }];
    const t = wantsTable(req.headers.accept as string | undefined);
    const rvParam = query.get("resourceVersion");
    const sendInitial = queryBool(query, "sendInitialEvents") === true;
    const bookmarks = queryBool(query, "allowWatchBookmarks") === true;
    let fromRv: number | undefined;
    if (rvParam && rvParam !== "0" && !sendInitial) {
        fromRv = Number(rvParam);
        if (!Number.isFinite(fromRv)) throw badRequest(`invalid resource version: ${rvParam}`);
    }

    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    res.flushHeaders?.();
    let first = true;
    const encode = (type: WatchEventType, obj: K8sObject): string => {
        let o: any = obj;
        if (t.table && (type === "ADDED" || type === "MODIFIED" || type === "DELETED")) {
            o = buildTable(r, [obj], ctx.clock.nowMs(), {
                includeObject: includeObject(query),
                apiVersion: t.apiVersion,
                noHeaders: !first,
                resourceVersion: obj.metadata?.resourceVersion,
            });
            first = false;
            return `{"type":"${type}","object":${JSON.stringify(o)}}\n`;
        }
        return `{"type":"${type}","object":${served(ctx, r, o)}}\n`;
    };
    // A dropWatch fault cuts the stream after N events and/or N ms; it counts only if it really cuts it.
    let cutByRule = false;
    const cut = () => {
        if (watcher.closed) return;
        cutByRule = true;
        watcher.close("dropped");
    };
    const watcher = new Watcher({ resource: r.plural, namespace: q.namespace, labels: q.labels, fields: q.fields }, (type, obj) => {
        if (!res.writableEnded) res.write(encode(type, obj));
        if (req.dropWatch?.afterEvents !== undefined && watcher.sent >= req.dropWatch.afterEvents) cut();
    });
    const timers: NodeJS.Timeout[] = [];
    watcher.onClose(() => {
        for (const x of timers) {
            clearTimeout(x);
            clearInterval(x);
        }
        if (watcher.closeReason === "dropped") req.onDropped?.(cutByRule ? "rule" : "dropWatches");
        if (cutByRule) req.dropWatch?.fired();
        else req.dropWatch?.release();
        if (!res.writableEnded) res.end();
    });
    res.on("close", () => watcher.close());

    try {
        ctx.watchHub.start(watcher, fromRv, () => ctx.registry.list(r, { namespace: q.namespace }));
    } catch (e) {
        if (e instanceof ExpiredError) {
            req.onExpired?.(e.compacted);
            res.write(
                `{"type":"ERROR","object":${JSON.stringify({
                    kind: "Status",
                    apiVersion: "v1",
                    metadata: {},
                    status: "Failure",
                    message: e.message,
                    reason: "Expired",
                    code: 410,
                })}}\n`,
            );
            watcher.close();
            return { status: 200, streaming: true };
        }
        throw e;
    }
    if (sendInitial && bookmarks) {
        res.write(
            encode("BOOKMARK", {
                kind: r.kind,
                apiVersion: apiVersionOf(r),
                metadata: { resourceVersion: String(ctx.registry.store.currentRv()), annotations: { "k8s.io/initial-events-end": "true" } },
            }),
        );
    }
    const timeout = Number(query.get("timeoutSeconds") ?? 0);
    if (timeout > 0) timers.push(setTimeout(() => watcher.close(), timeout * 1000));
    if (req.dropWatch?.afterMs !== undefined) timers.push(setTimeout(cut, req.dropWatch.afterMs));
    if (bookmarks) {
        const iv = setInterval(() => {
            const rv = Math.max(watcher.lastRv, ctx.registry.store.currentRv());
            res.write(encode("BOOKMARK", { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(rv) } }));
        }, 5000);
        iv.unref();
        timers.push(iv);
    }
    return { status: 200, streaming: true };
}

// ---- subresources ------------------------------------------------------------

function handleSubresource(ctx: HandlerContext, req: IncomingRequest): Reply {
    const { info } = req;
    const r = info.resource;
    const dryRun = isDryRun(req.query);
    const sub = info.subresource!;
    if (!info.name) throw pathNotFound();
    switch (sub) {
        case "status":
            if (info.verb === "get") return single(req, ctx, ctx.registry.get(r, info.namespace, info.name));
            if (info.verb === "update") {
                return {
                    status: 200,
                    body: ctx.registry.update(r, info.namespace, info.name, parseBody(req), { dryRun, subresource: "status" }),
                };
            }
            if (info.verb === "patch") {
                const type = patchTypeFromContentType(req.headers["content-type"] as string | undefined);
                return {
                    status: 200,
                    body: ctx.registry.patch(r, info.namespace, info.name, type, parseBodyForPatch(req, type === "apply"), {
                        dryRun,
                        subresource: "status",
                    }),
                };
            }
            throw methodNotAllowed();
        case "eviction":
            if (info.verb !== "create") throw methodNotAllowed();
            return {
                status: 201,
                body: evictPod(ctx.registry, { namespace: info.namespace!, name: info.name, body: parseBody(req), queryDryRun: dryRun }),
            };
        case "token":
            if (info.verb !== "create") throw methodNotAllowed();
            return { status: 201, body: ctx.tokens.request(info.namespace!, info.name, parseBody(req)) };
        case "binding":
            if (info.verb !== "create") throw methodNotAllowed();
            return bind(ctx, info, parseBody(req), dryRun);
        case "scale":
            return scale(ctx, req, r, dryRun);
        case "finalize": {
            if (info.verb !== "update") throw methodNotAllowed();
            const body = parseBody(req);
            const out = ctx.registry.mutate(r, undefined, info.name, (ns) => {
                ns.spec = { ...(ns.spec ?? {}), finalizers: body.spec?.finalizers ?? [] };
            });
            if (!out) throw notFound(r, info.name);
            return { status: 200, body: out };
        }
    }
    throw pathNotFound();
}

function bind(ctx: HandlerContext, info: RequestInfo, body: any, dryRun: boolean): Reply {
    const pods = resourceByPlural("pods")!;
    const pod = ctx.registry.get(pods, info.namespace, info.name!);
    const target = body?.target?.name;
    if (!target) throw badRequest("Binding target must be specified");
    if (pod.spec?.nodeName) {
        throw new ApiError(
            409,
            "Conflict",
            `Operation cannot be fulfilled on pods/binding "${info.name}": pod ${info.name} is already assigned to node "${pod.spec.nodeName}"`,
            { name: info.name, kind: "pods/binding" },
        );
    }
    if (!dryRun) {
        const copy = clone(pod);
        copy.spec.nodeName = target;
        ctx.registry.replaceDirect(pods, copy);
    }
    return { status: 201, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 } };
}

function scaleOf(obj: K8sObject): any {
    return {
        kind: "Scale",
        apiVersion: "autoscaling/v1",
        metadata: {
            name: obj.metadata.name,
            namespace: obj.metadata.namespace,
            uid: obj.metadata.uid,
            resourceVersion: obj.metadata.resourceVersion,
            creationTimestamp: obj.metadata.creationTimestamp,
        },
        spec: { replicas: obj.spec?.replicas ?? 0 },
        status: { replicas: obj.status?.replicas ?? 0, selector: selectorString(obj.spec?.selector) },
    };
}

function selectorString(sel: any): string {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) parts.push(`${k}=${v}`);
    return parts.join(",");
}

function scale(ctx: HandlerContext, req: IncomingRequest, r: ResourceInfo, dryRun: boolean): Reply {
    const { info } = req;
    const obj = ctx.registry.get(r, info.namespace, info.name!);
    if (info.verb === "get") return { status: 200, body: scaleOf(obj) };
    let replicas: number | undefined;
    if (info.verb === "update") replicas = parseBody(req)?.spec?.replicas;
    else if (info.verb === "patch") {
        const type = patchTypeFromContentType(req.headers["content-type"] as string | undefined);
        const cur = scaleOf(obj);
        const body = parseBodyForPatch(req, type === "apply");
        const next = type === "json" ? jsonPatch(cur, body) : type === "merge" ? mergePatch(cur, body) : strategicMergePatch(cur, body);
        replicas = next?.spec?.replicas;
    } else throw methodNotAllowed();
    if (typeof replicas !== "number" || replicas < 0) throw badRequest("spec.replicas must be a non-negative integer");
    const out = dryRun
        ? obj
        : ctx.registry.mutate(r, info.namespace, info.name!, (o) => {
              o.spec.replicas = replicas;
          })!;
    return { status: 200, body: scaleOf(out) };
}
