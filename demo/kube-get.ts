// What the demo reads from the (simulated) API server, the way kubectl reads it: plain GETs, and the server's
// own Table rendering (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) printed in kubectl's layout.
import * as https from "https";
import { KubeConfig } from "@kubernetes/client-node";

const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

export interface Table {
    columnDefinitions: { name: string }[];
    rows: { cells: (string | number | boolean)[] }[];
}

export class KubeGet {
    private readonly kc = new KubeConfig();

    constructor(kubeconfigYaml: string) {
        this.kc.loadFromString(kubeconfigYaml);
    }

    /** GET `path` as JSON. Rejects on a non-2xx answer. */
    async json<T = any>(path: string, accept = "application/json"): Promise<T> {
        const url = new URL(path, this.kc.getCurrentCluster()!.server);
        const opts: https.RequestOptions = { method: "GET", headers: { Accept: accept } };
        await this.kc.applyToHTTPSOptions(opts);
        opts.headers = { ...(opts.headers ?? {}), Accept: accept };
        return new Promise<T>((resolve, reject) => {
            const req = https.request(url, opts, (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (d) => (body += d));
                res.on("end", () => {
                    if ((res.statusCode ?? 0) >= 300)
                        return reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
                    try {
                        resolve(JSON.parse(body));
                    } catch (err) {
                        reject(err);
                    }
                });
            });
            req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path}: no answer within 30s`)));
            req.on("error", reject);
            req.end();
        });
    }

    table(path: string): Promise<Table> {
        return this.json<Table>(path, TABLE);
    }

    /** `kubectl get nodes` */
    async nodesTable(): Promise<string> {
        return renderTable(await this.table("/api/v1/nodes"), ["Name", "Status", "Roles", "Age", "Version"]);
    }

    /** `kubectl get pods -o wide [-n NS] [-l SELECTOR]` (without the NOMINATED NODE and READINESS GATES columns). */
    async podsTable(namespace: string, labelSelector?: string): Promise<string> {
        const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : "";
        const table = await this.table(`/api/v1/namespaces/${namespace}/pods${query}`);
        if (table.rows.length === 0) return `No resources found in ${namespace} namespace.`;
        return renderTable(table, ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"]);
    }

    /** `kubectl get pdb [-n NS]` */
    async pdbTable(namespace: string): Promise<string> {
        const table = await this.table(`/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets`);
        if (table.rows.length === 0) return `No resources found in ${namespace} namespace.`;
        return renderTable(
            table,
            table.columnDefinitions.map((c) => c.name),
        );
    }

    /** `kubectl get lease -n NS NAME` */
    async leaseTable(namespace: string, name: string): Promise<string> {
        const table = await this.table(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`);
        const rows = table.rows.filter((r) => r.cells[0] === name);
        if (rows.length === 0) return `Error from server (NotFound): leases.coordination.k8s.io "${name}" not found`;
        return renderTable({ ...table, rows }, ["Name", "Holder", "Age"]);
    }

    /** The Lease, or undefined when there is none. */
    async lease(namespace: string, name: string): Promise<any | undefined> {
        return (await this.json(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`)).items?.find(
            (l: any) => l.metadata?.name === name,
        );
    }

    async nodes(): Promise<any[]> {
        return (await this.json("/api/v1/nodes")).items ?? [];
    }

    async pods(namespace: string, labelSelector?: string): Promise<any[]> {
        const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : "";
        return (await this.json(`/api/v1/namespaces/${namespace}/pods${query}`)).items ?? [];
    }
}

/** kubectl's layout: upper-case headers, columns padded to their widest cell plus three spaces. */
export function renderTable(table: Table, columns: string[]): string {
    const index = columns.map((name) => {
        const i = table.columnDefinitions.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
        if (i < 0) throw new Error(`the server's table has no column ${name}`);
        return i;
    });
    const rows = [columns.map((c) => c.toUpperCase()), ...table.rows.map((r) => index.map((i) => String(r.cells[i] ?? "")))];
    const widths = columns.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    return rows
        .map((r) =>
            r
                .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 3)))
                .join("")
                .trimEnd(),
        )
        .join("\n");
}

export function isReady(obj: any): boolean {
    return (obj?.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}
