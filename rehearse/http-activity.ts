// Which API requests of this process are in flight, from Node's built-in HTTP diagnostics channel (the
// Kubernetes client sends every request through node:https). The clock driver must not jump while the roll's
// clients wait for an answer: the answer is "now", and what they do with it comes before any timer. Watches are
// not counted (they stay open); what they deliver follows a store write, which the observer sees.
import * as diagnostics from "node:diagnostics_channel";
import type { ClientRequest, IncomingMessage } from "node:http";

const REQUEST_START = "http.client.request.start";

export class HttpActivity {
    private inFlight = 0;
    private readonly listener = (message: unknown) => this.onStart((message as { request: ClientRequest }).request);

    constructor(private readonly onActivity: () => void) {}

    start(): void {
        diagnostics.subscribe(REQUEST_START, this.listener);
    }

    stop(): void {
        diagnostics.unsubscribe(REQUEST_START, this.listener);
    }

    /** Requests sent whose answers have not been read to the end. */
    busy(): boolean {
        return this.inFlight > 0;
    }

    private onStart(request: ClientRequest): void {
        this.onActivity();
        // A watch stays open by design, so it never counts as in flight. kube-apiserver reads any value of the
        // watch parameter except "0" and "false" as true (as the simulated server does).
        const watch = new URL(request.path ?? "/", "http://x").searchParams.get("watch");
        if (watch !== null && !/^(0|false)$/i.test(watch)) return;
        this.inFlight++;
        let done = false;
        const finish = () => {
            if (done) return;
            done = true;
            this.inFlight--;
            this.onActivity();
        };
        let answered = false;
        request.once("response", (response: IncomingMessage) => {
            answered = true;
            this.onActivity();
            response.once("end", finish);
            response.once("close", finish);
            response.once("error", finish);
        });
        request.once("error", finish);
        request.once("close", () => {
            // A request closed without a response (aborted, reset) is over too; with a response, "end" decides.
            if (!answered) finish();
        });
    }
}
