// A simulated cluster in its own process (`node dist/sim/cli.js`), so its API server and controllers never share
// an event loop (or a CPU time slice) with the measuring process, which only spawns tools and watches.
import { spawn, type ChildProcess } from "node:child_process";
import * as https from "node:https";
import * as path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { loadKubeConfig } from "../drain";
import type { RequestLogEntry } from "../sim";

const SIM_CLI = path.resolve(__dirname, "../sim/cli.js");

export interface SimProcess {
    kubeconfigPath: string;
    kc: KubeConfig;
    /** The server's request log (GET /sim/v1/requests); `received` is the server's clock, the wall clock at time scale 1. */
    requestLog(): Promise<RequestLogEntry[]>;
    /** SIGTERM, resolved when the process has exited. */
    stop(): Promise<void>;
}

export interface SimProcessOptions {
    scenarioFile: string;
    kubeconfigPath: string;
    startupDelaySeconds: number;
}

/** Start `node dist/sim/cli.js --scenario FILE --time-scale 1` and resolve once it says it is ready. */
export async function startSimProcess(o: SimProcessOptions): Promise<SimProcess> {
    const args = ["--scenario", o.scenarioFile, "--kubeconfig", o.kubeconfigPath, "--time-scale", "1"];
    const child = spawn(process.execPath, [SIM_CLI, ...args, "--startup-delay", String(o.startupDelaySeconds)], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await readyLine(child);
    const kc = loadKubeConfig({ kubeconfigPath: o.kubeconfigPath });
    return {
        kubeconfigPath: o.kubeconfigPath,
        kc,
        requestLog: async () => (await getJson(kc, "/sim/v1/requests")).items,
        stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            await exited;
        },
    };
}

/** The CLI prints `simulated cluster "..." ready at URL` after the kubeconfig is written and the server answers. */
function readyLine(child: ChildProcess): Promise<void> {
    return new Promise((resolve, reject) => {
        let out = "";
        const onData = (d: Buffer) => {
            out += d;
            if (out.includes(" ready at ")) {
                child.stdout!.off("data", onData);
                resolve();
            }
        };
        let err = "";
        child.stdout!.on("data", onData);
        child.stderr!.on("data", (d) => (err += d));
        child.once("exit", (code) => reject(new Error(`simulated cluster exited (${code}) before it was ready: ${err || out}`)));
    });
}

async function getJson(kc: KubeConfig, urlPath: string): Promise<any> {
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const url = new URL(urlPath, kc.getCurrentCluster()!.server);
    return new Promise((resolve, reject) => {
        https
            .get(url, opts, (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (d) => (body += d));
                res.on("end", () =>
                    res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`GET ${urlPath}: ${res.statusCode} ${body}`)),
                );
            })
            .on("error", reject);
    });
}
