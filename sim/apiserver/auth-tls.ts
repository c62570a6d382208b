// TLS material and bearer-token authentication.
//
// One self-signed certificate (SAN IP 127.0.0.1 / ::1, DNS localhost, CA:true)
// serves as both the server certificate and the kubeconfig's CA; Go's TLS
// (kubectl) accepts a root that is also the leaf. Generating a key is the slow
// part of starting a cluster, so it is done once per process and reused.

import * as crypto from "node:crypto";
import { generate } from "selfsigned";

export interface TlsMaterial {
    cert: string; // PEM
    key: string; // PEM
}

let cached: Promise<TlsMaterial> | undefined;

export function tlsMaterial(): Promise<TlsMaterial> {
    if (!cached) {
        cached = (async () => {
            const notBefore = new Date(Date.now() - 24 * 3600 * 1000);
            const notAfter = new Date(Date.now() + 3650 * 24 * 3600 * 1000);
            const pems = await generate([{ name: "commonName", value: "sim-node-upgrade-apiserver" }], {
                keyType: "ec",
                curve: "P-256",
                algorithm: "sha256",
                notBeforeDate: notBefore,
                notAfterDate: notAfter,
                extensions: [
                    { name: "basicConstraints", cA: true, critical: true },
                    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
                    { name: "extKeyUsage", serverAuth: true, clientAuth: true },
                    {
                        name: "subjectAltName",
                        altNames: [
                            { type: 2, value: "localhost" },
                            { type: 7, ip: "127.0.0.1" },
                            { type: 7, ip: "::1" },
                        ],
                    },
                ],
            });
            return { cert: pems.cert, key: pems.private };
        })();
    }
    return cached;
}

export function newToken(): string {
    return `sim-${crypto.randomBytes(24).toString("hex")}`;
}

/** Paths a real cluster serves to anonymous users (system:public-info-viewer). */
const PUBLIC_PATHS = new Set(["/version", "/healthz", "/livez", "/readyz"]);

export function isPublicPath(path: string): boolean {
    return PUBLIC_PATHS.has(path);
}

/** The bearer token of an Authorization header, if any. */
export function bearerToken(authorization: string | undefined): string | undefined {
    return authorization?.match(/^Bearer\s+(.+)$/i)?.[1].trim();
}

/** Whether the Authorization header carries exactly this bearer token. */
export function tokenMatches(authorization: string | undefined, token: string): boolean {
    const bearer = bearerToken(authorization);
    if (bearer === undefined) return false;
    const given = Buffer.from(bearer);
    const want = Buffer.from(token);
    return given.length === want.length && crypto.timingSafeEqual(given, want);
}

export function kubeconfigYaml(
    server: string,
    caPem: string,
    token: string,
    contextName = "sim",
    userName = `${contextName}-admin`,
): string {
    const ca = Buffer.from(caPem).toString("base64");
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: ${contextName}`,
        "  cluster:",
        `    server: ${server}`,
        `    certificate-authority-data: ${ca}`,
        "users:",
        `- name: ${userName}`,
        "  user:",
        `    token: ${token}`,
        "contexts:",
        `- name: ${contextName}`,
        "  context:",
        `    cluster: ${contextName}`,
        `    user: ${userName}`,
        "    namespace: default",
        `current-context: ${contextName}`,
        "preferences: {}",
        "",
    ].join("\n");
}
