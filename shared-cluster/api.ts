// How shared-cluster/ reads failed Kubernetes API calls. The calls themselves go through the drain engine's
// client (clientFor: one keep-alive agent per kubeconfig, per-request timeouts, a one-line 401, fail-fast on a
// wrong address in the CLI); this only keeps each failure's HTTP status on the errors we rethrow, so that a
// gate can tell a 403 (waiting cannot help) from a 503 (worth waiting out).
import { errorMessage, isTransient, KubeApiError, toApiFailure, type ApiFailure } from "../drain";

/** "<what>: <the server's message> (HTTP 403 Forbidden); <what to do>", carrying the failure. */
export function apiFailed(what: string, err: unknown): KubeApiError {
    return new KubeApiError(`${what}: ${errorMessage(err)}`, toApiFailure(err));
}

/** 409: "the object has been modified" (resourceVersion mismatch) or "already exists" (create race). */
export const isConflict = (err: unknown): boolean => !!err && typeof err === "object" && toApiFailure(err).code === 409;

/**
 * The failure of a Kubernetes API call that the same request will always get (403 without the permission, 401,
 * 400, 422, a 404 for a path the server does not serve, a TLS error or a wrong address), or undefined for one
 * worth retrying (429, 5xx, timeouts, resets) and for errors that did not come from the API at all.
 */
export function permanentApiFailure(err: unknown): ApiFailure | undefined {
    const e = err as any;
    const fromApi = err instanceof KubeApiError || (!!e && typeof e === "object" && typeof e.code === "number" && "body" in e);
    if (!fromApi) return undefined;
    const f = toApiFailure(err);
    return isTransient(f) ? undefined : f;
}
