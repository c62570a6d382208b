// Who may do what: the one decision both request handling (403) and SelfSubjectAccessReview answer from.
//  - the admin token is in system:masters: everything is allowed (kube-apiserver's privileged-group rule);
//  - without RBAC mode (StartClusterOptions.rbac) every authenticated user may do everything (AlwaysAllow);
//  - in RBAC mode other users get what kube-apiserver's RBAC authorizer grants: the rules bound to them by the
//    stored ClusterRoleBindings and RoleBindings (kubectl apply -f deploy/rbac.yaml), the simulator's static
//    rules for the RBAC identity's user, and the defaults every authenticated user has (discovery, reviews).

import { DEFAULT_RULES, PolicyRule, RbacIdentity, RequestAttributes, ruleAllows } from "./rbac";
import type { Store } from "./store";

export interface UserInfo {
    name: string;
    groups: string[];
}

export const ADMIN_USER: UserInfo = { name: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] };

/** The groups kube-apiserver gives a user: service accounts get system:serviceaccounts[:NAMESPACE]. */
export function userInfo(name: string): UserInfo {
    const sa = /^system:serviceaccount:([^:]+):[^:]+$/.exec(name);
    return { name, groups: [...(sa ? ["system:serviceaccounts", `system:serviceaccounts:${sa[1]}`] : []), "system:authenticated"] };
}

export interface Decision {
    allowed: boolean;
    reason: string;
}

interface BoundRules {
    rules: PolicyRule[];
    reason: string;
}

export class Authorizer {
    constructor(
        private readonly store: Store,
        /** RBAC mode: the static identity (its rules apply to its user); undefined = AlwaysAllow */
        readonly rbac?: RbacIdentity,
    ) {}

    authorize(user: UserInfo, a: RequestAttributes): Decision {
        if (user.groups.includes("system:masters") || !this.rbac) return { allowed: true, reason: "" };
        for (const b of this.rulesFor(user, a.namespace)) {
            if (b.rules.some((r) => ruleAllows(r, a))) return { allowed: true, reason: b.reason };
        }
        return { allowed: false, reason: "" };
    }

    /** Every rule that applies to `user` in `namespace` ("" = cluster scope only), with why (RBAC's reason text). */
    rulesFor(user: UserInfo, namespace: string): BoundRules[] {
        if (user.groups.includes("system:masters") || !this.rbac) {
            return [
                {
                    rules: [
                        { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
                        { verbs: ["*"], nonResourceURLs: ["*"] },
                    ],
                    reason: "",
                },
            ];
        }
        const out: BoundRules[] = [{ rules: DEFAULT_RULES, reason: "RBAC: allowed by the defaults of every authenticated user" }];
        if (user.name === this.rbac.user) out.push({ rules: this.rbac.rules, reason: "allowed by the simulator's RBAC rules" });
        const bindings = [
            ...this.store.list("clusterrolebindings").map((b) => ({ b, kind: "ClusterRoleBinding", name: `"${b.metadata.name}"` })),
            ...(namespace ? this.store.list("rolebindings", namespace) : []).map((b) => ({
                b,
                kind: "RoleBinding",
                name: `"${b.metadata.name}/${namespace}"`,
            })),
        ];
        for (const { b, kind, name } of bindings) {
            const subject = (b.subjects ?? []).find((s: any) => appliesTo(user, s, b.metadata.namespace));
            if (!subject) continue;
            const ref = b.roleRef ?? {};
            const role =
                ref.kind === "ClusterRole"
                    ? this.store.get("clusterroles", undefined, ref.name)
                    : ref.kind === "Role" && kind === "RoleBinding"
                      ? this.store.get("roles", namespace, ref.name)
                      : undefined;
            if (!role) continue;
            const who = subject.kind === "ServiceAccount" ? `${subject.name}/${subject.namespace ?? b.metadata.namespace}` : subject.name;
            out.push({
                rules: role.rules ?? [],
                reason: `RBAC: allowed by ${kind} ${name} of ${ref.kind} "${ref.name}" to ${subject.kind} "${who}"`,
            });
        }
        return out;
    }
}

/** rbac/v1 subject matching (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac appliesToUser). */
function appliesTo(user: UserInfo, s: any, bindingNamespace: string | undefined): boolean {
    switch (s?.kind) {
        case "User":
            return s.name === user.name;
        case "Group":
            return user.groups.includes(s.name);
        case "ServiceAccount": {
            const ns = s.namespace || bindingNamespace;
            return !!ns && user.name === `system:serviceaccount:${ns}:${s.name}`;
        }
    }
    return false;
}
