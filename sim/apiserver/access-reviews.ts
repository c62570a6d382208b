// SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE`) and SelfSubjectRulesReview (`kubectl auth
// can-i --list`): the requesting user asks what it may do, and gets the very decision the server enforces on
// its requests (authorizer.ts). SelfSubjectReview (`kubectl auth whoami`): who the server takes it for.
// Nothing is stored; the answer echoes the spec with a status, as kube-apiserver's.

import { Authorizer, UserInfo } from "./authorizer";
import type { RequestAttributes } from "./rbac";
import { badRequest } from "./status-errors";

export function selfSubjectAccessReview(authz: Authorizer, user: UserInfo, body: any): any {
    const spec = body?.spec ?? {};
    const ra = spec.resourceAttributes;
    const nra = spec.nonResourceAttributes;
    if (!ra === !nra) throw badRequest("exactly one of nonResourceAttributes or resourceAttributes must be specified");
    const a: RequestAttributes = ra
        ? {
              resourceRequest: true,
              verb: ra.verb ?? "",
              apiGroup: ra.group ?? "",
              resource: ra.resource ?? "",
              subresource: ra.subresource ?? "",
              namespace: ra.namespace ?? "",
              name: ra.name ?? "",
              path: "",
          }
        : {
              resourceRequest: false,
              verb: nra.verb ?? "",
              apiGroup: "",
              resource: "",
              subresource: "",
              namespace: "",
              name: "",
              path: nra.path ?? "",
          };
    const d = authz.authorize(user, a);
    return {
        kind: "SelfSubjectAccessReview",
        apiVersion: "authorization.k8s.io/v1",
        metadata: { creationTimestamp: null },
        spec,
        status: d.reason ? { allowed: d.allowed, reason: d.reason } : { allowed: d.allowed },
    };
}

export function selfSubjectRulesReview(authz: Authorizer, user: UserInfo, body: any): any {
    const namespace = body?.spec?.namespace ?? "";
    const resourceRules: any[] = [];
    const nonResourceRules: any[] = [];
    for (const b of authz.rulesFor(user, namespace)) {
        for (const r of b.rules) {
            if (r.nonResourceURLs) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
            else {
                resourceRules.push({
                    verbs: r.verbs,
                    ...(r.apiGroups ? { apiGroups: r.apiGroups } : {}),
                    ...(r.resources ? { resources: r.resources } : {}),
                    ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
                });
            }
        }
    }
    return {
        kind: "SelfSubjectRulesReview",
        apiVersion: "authorization.k8s.io/v1",
        metadata: { creationTimestamp: null },
        spec: { namespace },
        status: { resourceRules, nonResourceRules, incomplete: false },
    };
}

export function selfSubjectReview(user: UserInfo): any {
    return {
        kind: "SelfSubjectReview",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { creationTimestamp: null },
        status: { userInfo: { username: user.name, groups: user.groups } },
    };
}
