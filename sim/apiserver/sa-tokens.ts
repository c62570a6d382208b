// Service account tokens: POST serviceaccounts/NAME/token (TokenRequest, what `kubectl create token` sends)
// issues a JWT-shaped token whose bearer the server then authenticates as
// system:serviceaccount:NAMESPACE:NAME, like kube-apiserver's bound tokens: it stops working when it expires
// (on the simulated clock) or when the ServiceAccount is deleted (its UID is in the token). Signed with
// HMAC-SHA256 under a per-cluster key, so nothing needs to be remembered per token.

import * as crypto from "node:crypto";
import type { SimClock } from "../clock";
import { rfc3339 } from "../clock";
import type { Store } from "./store";
import { badRequest, invalid, notFound } from "./status-errors";
import { resourceByPlural } from "./resources";

const ISSUER = "https://kubernetes.default.svc.cluster.local";
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

export class ServiceAccountTokens {
    private readonly key = crypto.randomBytes(32);

    constructor(
        private readonly store: Store,
        private readonly clock: SimClock,
    ) {}

    /** The TokenRequest answer for serviceaccounts/NAME/token (201 body). */
    request(namespace: string, name: string, body: any): any {
        if (body?.kind !== undefined && body.kind !== "TokenRequest") throw badRequest(`expected TokenRequest, got ${body.kind}`);
        const sa = this.store.get("serviceaccounts", namespace, name);
        if (!sa) throw notFound(resourceByPlural("serviceaccounts")!, name);
        const spec = { ...(body?.spec ?? {}) };
        spec.audiences = spec.audiences?.length ? spec.audiences : [ISSUER];
        spec.expirationSeconds ??= 3600;
        spec.boundObjectRef ??= null;
        if (spec.expirationSeconds < 600) {
            throw invalid({ ...resourceByPlural("serviceaccounts")!, kind: "TokenRequest", group: "authentication.k8s.io" }, name, [
                {
                    field: "spec.expirationSeconds",
                    reason: "FieldValueInvalid",
                    message: `Invalid value: ${spec.expirationSeconds}: may not specify a duration less than 10 minutes`,
                },
            ]);
        }
        const now = Math.floor(this.clock.nowMs() / 1000);
        const exp = now + spec.expirationSeconds;
        const claims = {
            aud: spec.audiences,
            exp,
            iat: now,
            iss: ISSUER,
            jti: crypto.randomUUID(),
            "kubernetes.io": { namespace, serviceaccount: { name, uid: sa.metadata.uid } },
            nbf: now,
            sub: `system:serviceaccount:${namespace}:${name}`,
        };
        const unsigned = `${b64({ alg: "HS256", kid: "sim" })}.${b64(claims)}`;
        return {
            kind: "TokenRequest",
            apiVersion: "authentication.k8s.io/v1",
            metadata: { name, namespace, creationTimestamp: null },
            spec,
            status: { token: `${unsigned}.${this.sign(unsigned)}`, expirationTimestamp: rfc3339(exp * 1000) },
        };
    }

    /** The user a bearer token authenticates as, or undefined (bad signature, expired, ServiceAccount gone). */
    verify(token: string): string | undefined {
        const parts = token.split(".");
        if (parts.length !== 3) return undefined;
        const want = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
        const got = Buffer.from(parts[2]);
        if (want.length !== got.length || !crypto.timingSafeEqual(want, got)) return undefined;
        let c: any;
        try {
            c = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
        } catch {
            return undefined;
        }
        if (!(c.exp * 1000 > this.clock.nowMs())) return undefined;
        const k = c["kubernetes.io"];
        const sa = this.store.get("serviceaccounts", k?.namespace, k?.serviceaccount?.name);
        if (!sa || sa.metadata.uid !== k.serviceaccount.uid) return undefined;
        return c.sub;
    }

    private sign(text: string): string {
        return crypto.createHmac("sha256", this.key).update(text).digest("base64url");
    }
}
