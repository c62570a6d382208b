// resourceVersion, resourceVersionMatch and continue on a LIST, as kube-apiserver reads them:
//  - ValidateListOptions (k8s.io/apimachinery/pkg/apis/meta/internalversion/validation): a bad combination is a
//    422 Invalid of ListOptions.meta.k8s.io, e.g. resourceVersionMatch without resourceVersion;
//  - resourceVersionMatch=Exact lists the state AT that resourceVersion (etcd's revision read); older than the
//    history → 410 Expired "The resourceVersion for the provided list is too old."; newer than the store → 504
//    "Too large resource version";
//  - unset, "0" or NotOlderThan: the current state (never older than asked; a version from the future → 504);
//  - a continue token lists the rest of its first page's snapshot, as etcd does.

import { queryBool } from "./query";
import { ResourceInfo } from "./resources";
import { ApiError, badRequest, invalid } from "./status-errors";

const LIST_OPTIONS = { kind: "ListOptions", group: "meta.k8s.io" } as ResourceInfo;

export function validateListOptions(q: URLSearchParams): void {
    const errs: { field: string; reason: string; message: string }[] = [];
    const forbid = (field: string, detail: string) => errs.push({ field, reason: "FieldValueForbidden", message: `Forbidden: ${detail}` });
    const match = q.get("resourceVersionMatch") ?? "";
    if (match) {
        if (!q.get("resourceVersion"))
            forbid("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided");
        if (q.get("continue")) forbid("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided");
        if (match !== "Exact" && match !== "NotOlderThan") {
            errs.push({
                field: "resourceVersionMatch",
                reason: "FieldValueNotSupported",
                message: `Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan", ""`,
            });
        }
        if (match === "Exact" && q.get("resourceVersion") === "0") {
            forbid("resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
        }
    }
    if (queryBool(q, "sendInitialEvents") !== undefined) forbid("sendInitialEvents", "sendInitialEvents is forbidden for list");
    if (errs.length) throw invalid(LIST_OPTIONS, "", errs);
}

/** The resourceVersion to list at (undefined: now), for a list without a continue token. */
export function listResourceVersion(q: URLSearchParams, currentRv: number): number | undefined {
    const param = q.get("resourceVersion") ?? "";
    if (param === "" || param === "0") return undefined;
    const rv = Number(param);
    if (!/^\d+$/.test(param)) throw badRequest(`invalid resource version: ${param}`);
    if (rv > currentRv) throw tooLargeResourceVersion(rv, currentRv);
    return q.get("resourceVersionMatch") === "Exact" ? rv : undefined;
}

/** storage.NewTooLargeResourceVersionError. */
function tooLargeResourceVersion(rv: number, current: number): ApiError {
    return new ApiError(504, "Timeout", `Timeout: Too large resource version: ${rv}, current: ${current}`, {
        causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
        retryAfterSeconds: 1,
    });
}

export const LIST_TOO_OLD = "The resourceVersion for the provided list is too old.";
