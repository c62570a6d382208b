#!/usr/bin/env node
// Command line for the simulated cluster.
//
//   node dist/sim/cli.js --scenario seed --kubeconfig /tmp/kc [--time-scale N] [--port N] [--nodes N --pods-per-node M]
//        [--rbac deploy/rbac.yaml --rbac-kubeconfig /tmp/kc-restricted [--rbac-user U] [--rbac-role NAME]]
//   node dist/sim/cli.js upgrade-node --kubeconfig /tmp/kc --node worker1 --version v1.20.0 [--down-seconds N]
//
// The server runs in the foreground; the kubeconfig is written (atomically)
// only once it answers; SIGTERM/SIGINT stop it with exit code 0.

import * as fs from "node:fs";
import * as https from "node:https";
import { Command, InvalidArgumentError } from "commander";
import * as YAML from "yaml";
import * as semver from "semver";
import { startCluster } from "./cluster";
import { clusterRoleRulesFromFile } from "./apiserver/rbac";

const DEFAULT_RBAC_USER = "system:serviceaccount:kube-system:node-upgrade";

function num(name: string, min = 0) {
    return (v: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number >= ${min}`);
        return n;
    };
}

interface KubeconfigTarget {
    server: string;
    ca: Buffer;
    token: string;
}

function readKubeconfig(file: string): KubeconfigTarget {
    const kc = YAML.parse(fs.readFileSync(file, "utf8"));
    const ctxName = kc["current-context"];
    const ctx = (kc.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? kc.contexts?.[0]?.context;
    const cluster = (kc.clusters ?? []).find((c: any) => c.name === ctx?.cluster)?.cluster ?? kc.clusters?.[0]?.cluster;
    const user = (kc.users ?? []).find((u: any) => u.name === ctx?.user)?.user ?? kc.users?.[0]?.user;
    if (!cluster?.server || !user?.token) throw new Error(`kubeconfig ${file} has no server or token`);
    return { server: cluster.server, ca: Buffer.from(cluster["certificate-authority-data"] ?? "", "base64"), token: user.token };
}

function post(t: KubeconfigTarget, path: string, body: unknown): Promise<{ status: number; body: any }> {
    const url = new URL(path, t.server);
    const data = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
        const req = https.request(
            url,
            {
                method: "POST",
                ca: t.ca,
                headers: { Authorization: `Bearer ${t.token}`, "Content-Type": "application/json", "Content-Length": data.length },
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: any = text;
                    try {
                        parsed = JSON.parse(text);
                    } catch {
                        /* keep text */
                    }
                    resolve({ status: res.statusCode ?? 0, body: parsed });
                });
            },
        );
        req.on("error", reject);
        req.end(data);
    });
}

async function main(argv: string[]): Promise<void> {
    const program = new Command();
    program
        .name("sim")
        .enablePositionalOptions()
        .description("simulated Kubernetes API server + controllers for node-upgrade tests")
        .option("--scenario <name>", "seed | pdb | large | path to a List file (JSON or YAML)", "seed")
        .option("--kubeconfig <path>", "where to write the kubeconfig once the server answers")
        .option("--time-scale <n>", "simulated time runs N times faster", num("--time-scale", 0.000001), 1)
        .option("--port <n>", "port on 127.0.0.1 (0 = random)", num("--port"), 0)
        .option("--nodes <n>", "nodes for the large scenario", num("--nodes", 1))
        .option("--pods-per-node <n>", "pods per node for the large scenario", num("--pods-per-node", 1))
        .option("--seed <n>", "PRNG seed", num("--seed"))
        .option("--startup-delay <seconds>", "simulated seconds before a new pod is Ready", num("--startup-delay"))
        .option("--rbac <file>", "a YAML file with a ClusterRole (e.g. deploy/rbac.yaml): a second token gets exactly its rules")
        .option("--rbac-role <name>", "which ClusterRole or Role of the file, when it has several")
        .option("--rbac-user <name>", "user name of the restricted token (shown in 403 messages)", DEFAULT_RBAC_USER)
        .option("--rbac-kubeconfig <path>", "where to write the kubeconfig of the restricted token (required with --rbac)")
        .action(async (o) => {
            if (!o.kubeconfig) program.error("error: required option '--kubeconfig <path>' not specified");
            if (!!o.rbac !== !!o.rbacKubeconfig) program.error("error: --rbac and --rbac-kubeconfig go together");
            let rbac;
            if (o.rbac) {
                try {
                    rbac = { rules: clusterRoleRulesFromFile(o.rbac, o.rbacRole), user: o.rbacUser, kubeconfigPath: o.rbacKubeconfig };
                } catch (e) {
                    program.error(`error: ${(e as Error).message}`);
                }
            }
            const cluster = await startCluster({
                scenario: o.scenario,
                timeScale: o.timeScale,
                port: o.port,
                kubeconfigPath: o.kubeconfig,
                nodes: o.nodes,
                podsPerNode: o.podsPerNode,
                seed: o.seed,
                startupDelaySeconds: o.startupDelay,
                rbac,
            }).catch((e) => {
                process.stderr.write(`error: ${(e as Error).message}\n`);
                process.exit(1);
            });
            process.stdout.write(`simulated cluster "${cluster.scenario}" ready at ${cluster.url} (kubeconfig: ${o.kubeconfig})\n`);
            if (cluster.rbac) {
                process.stdout.write(
                    `restricted user "${cluster.rbac.user}" with ${cluster.rbac.rules.length} RBAC rule(s) from ${o.rbac} (kubeconfig: ${o.rbacKubeconfig})\n`,
                );
            }
            let stopping = false;
            const stop = async () => {
                if (stopping) return;
                stopping = true;
                await cluster.stop().catch(() => undefined);
                process.exit(0);
            };
            process.on("SIGTERM", stop);
            process.on("SIGINT", stop);
            // keep the process alive
            setInterval(() => undefined, 1 << 30);
        });

    program
        .command("upgrade-node")
        .description("restart a node's kubelet at a new version (POST /sim/v1/nodes/NAME/upgrade)")
        .requiredOption("--kubeconfig <path>", "kubeconfig of a running simulated cluster")
        .requiredOption("--node <name>", "node to upgrade")
        .requiredOption("--version <version>", "new kubelet version, e.g. v1.20.0")
        .option("--down-seconds <n>", "simulated seconds the node stays NotReady", num("--down-seconds"))
        .action(async (o) => {
            if (!semver.valid(String(o.version))) {
                process.stderr.write(`error: invalid version "${o.version}": expected a semantic version such as v1.20.0\n`);
                process.exit(1);
            }
            let target: KubeconfigTarget;
            try {
                target = readKubeconfig(o.kubeconfig);
            } catch (e) {
                process.stderr.write(`error: cannot read kubeconfig: ${(e as Error).message}\n`);
                process.exit(1);
            }
            try {
                const r = await post(target, `/sim/v1/nodes/${encodeURIComponent(o.node)}/upgrade`, {
                    version: o.version,
                    ...(o.downSeconds !== undefined ? { downSeconds: o.downSeconds } : {}),
                });
                if (r.status >= 200 && r.status < 300) {
                    process.stdout.write(`node/${o.node} upgrade to ${r.body?.version ?? o.version} accepted\n`);
                    process.exit(0);
                }
                const msg = typeof r.body === "object" && r.body?.message ? r.body.message : String(r.body);
                process.stderr.write(`error: upgrade of node "${o.node}" refused (HTTP ${r.status}): ${msg}\n`);
                process.exit(1);
            } catch (e) {
                process.stderr.write(`error: cannot reach the simulated cluster at ${target.server}: ${(e as Error).message}\n`);
                process.exit(1);
            }
        });

    await program.parseAsync(argv);
}

main(process.argv).catch((e) => {
    process.stderr.write(`error: ${(e as Error)?.message ?? e}\n`);
    process.exit(1);
});
