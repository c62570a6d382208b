// metav1.Status error bodies, with the exact texts kube-apiserver uses.
// Handlers throw ApiError; the server turns it into a JSON response.

import { ResourceInfo, groupKind, groupResource } from "./resources";

export interface StatusCause {
    reason?: string;
    message?: string;
    field?: string;
}

export interface StatusDetails {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
}

export interface Status {
    kind: "Status";
    apiVersion: "v1";
    metadata: Record<string, unknown>;
    status: "Failure" | "Success";
    message?: string;
    reason?: string;
    details?: StatusDetails;
    code: number;
}

export class ApiError extends Error {
    readonly code: number;
    readonly status: Status;
    readonly headers: Record<string, string>;

    constructor(code: number, reason: string | undefined, message: string, details?: StatusDetails, headers?: Record<string, string>) {
        super(message);
        this.code = code;
        const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message } as Status;
        if (reason) status.reason = reason;
        if (details) status.details = details;
        status.code = code;
        this.status = status;
        this.headers = { ...(headers ?? {}) };
        if (details?.retryAfterSeconds && details.retryAfterSeconds > 0 && !this.headers["Retry-After"]) {
            this.headers["Retry-After"] = String(details.retryAfterSeconds);
        }
    }
}

function rdetails(r: ResourceInfo, name: string): StatusDetails {
    const d: StatusDetails = { name };
    if (r.group) d.group = r.group;
    d.kind = r.plural;
    return d;
}

export function notFound(r: ResourceInfo, name: string): ApiError {
    return new ApiError(404, "NotFound", `${groupResource(r)} "${name}" not found`, rdetails(r, name));
}

export function alreadyExists(r: ResourceInfo, name: string): ApiError {
    return new ApiError(409, "AlreadyExists", `${groupResource(r)} "${name}" already exists`, rdetails(r, name));
}

/** Optimistic-concurrency conflict on update. */
export function conflictModified(r: ResourceInfo, name: string): ApiError {
    return new ApiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${groupResource(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        rdetails(r, name),
    );
}

/** Delete precondition failures: kube-apiserver names the *kind* here ("Pod"). */
export function preconditionUid(r: ResourceInfo, name: string, want: string, have: string): ApiError {
    return new ApiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${groupKind(r)} "${name}": the UID in the precondition (${want}) does not match the UID in record (${have}). The object might have been deleted and then recreated`,
        { name, ...(r.group ? { group: r.group } : {}), kind: r.kind },
    );
}

export function preconditionRv(r: ResourceInfo, name: string, want: string, have: string): ApiError {
    return new ApiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${groupKind(r)} "${name}": the ResourceVersion in the precondition (${want}) does not match the ResourceVersion in record (${have}). The object might have been modified`,
        { name, ...(r.group ? { group: r.group } : {}), kind: r.kind },
    );
}

export function badRequest(message: string): ApiError {
    return new ApiError(400, "BadRequest", message);
}

export function invalid(r: ResourceInfo, name: string, causes: { field: string; reason: string; message: string }[]): ApiError {
    const text = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
    const msg = causes.length > 1 ? `[${text}]` : text;
    return new ApiError(422, "Invalid", `${groupKind(r)} "${name}" is invalid: ${msg}`, {
        ...(name ? { name } : {}),
        ...(r.group ? { group: r.group } : {}),
        kind: r.kind,
        causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
    });
}

export function methodNotAllowed(): ApiError {
    return new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {});
}

export function pathNotFound(): ApiError {
    return new ApiError(404, "NotFound", "the server could not find the requested resource", {});
}

export function unsupportedPatchType(): ApiError {
    return new ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
    );
}

/** 415 for a body the simulator cannot read; `why` says which part (the simulator decodes only some protobuf kinds). */
export function unsupportedBodyType(why?: string): ApiError {
    return new ApiError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf${why ? ` (${why})` : ""}`,
    );
}

export function unauthorized(): ApiError {
    return new ApiError(401, "Unauthorized", "Unauthorized");
}

export function internalError(message: string): ApiError {
    return new ApiError(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function namespaceTerminating(r: ResourceInfo, name: string, namespace: string): ApiError {
    return new ApiError(
        403,
        "Forbidden",
        `${groupResource(r)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
            name,
            ...(r.group ? { group: r.group } : {}),
            kind: r.plural,
            causes: [
                { reason: "NamespaceTerminating", message: `namespace ${namespace} is being terminated`, field: "metadata.namespace" },
            ],
        },
    );
}

export function namespaceNotFound(namespace: string): ApiError {
    return new ApiError(404, "NotFound", `namespaces "${namespace}" not found`, { name: namespace, kind: "namespaces" });
}

export function expired(message: string): ApiError {
    return new ApiError(410, "Expired", message);
}

export function statusSuccess(code: number, details?: StatusDetails): Status {
    const s: any = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" };
    if (details) s.details = details;
    s.code = code;
    return s;
}
