#!/usr/bin/env node
// node dist/rehearse/dump-scenario.js seed|pdb|large|FILE [--nodes N --pods-per-node M] > snapshot.json
// Starts the simulated cluster of a scenario, lets its controllers settle, and prints its nodes, pods, budgets
// and workloads as `kubectl get nodes,pods,pdb,deploy,rs,sts,ds -A -o json` would.
import { startCluster } from "../sim";
import { snapshotListOf } from "./snapshot-dump";

async function main(argv: string[]): Promise<number> {
    const scenario = argv[0];
    const opt = (name: string) => {
        const i = argv.indexOf(name);
        return i >= 0 ? Number(argv[i + 1]) : undefined;
    };
    if (!scenario || scenario.startsWith("-")) {
        process.stderr.write(
            "usage: node dist/rehearse/dump-scenario.js seed|pdb|large|FILE [--nodes N --pods-per-node M] > snapshot.json\n",
        );
        return 1;
    }
    const cluster = await startCluster({ scenario, nodes: opt("--nodes"), podsPerNode: opt("--pods-per-node"), recordEvents: false });
    try {
        await cluster.settle();
        process.stdout.write(JSON.stringify(snapshotListOf(cluster), null, 2) + "\n");
        return 0;
    } finally {
        await cluster.stop();
    }
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(1);
    },
);
