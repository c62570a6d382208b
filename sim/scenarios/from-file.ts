// Load a scenario from a file holding what `kubectl get ... -o json|yaml`
// prints: a List (JSON or YAML), a single object, or several YAML documents.

import * as fs from "node:fs";
import * as YAML from "yaml";

export function readScenarioFile(path: string): { kind: "List"; items: any[] } {
    const text = fs.readFileSync(path, "utf8");
    let docs: any[];
    const trimmed = text.trimStart();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) docs = [JSON.parse(text)];
    else
        docs = YAML.parseAllDocuments(text)
            .map((d) => d.toJSON())
            .filter((d) => d !== null && d !== undefined);
    const items: any[] = [];
    const add = (d: any) => {
        if (Array.isArray(d)) d.forEach(add);
        else if (d && typeof d === "object" && Array.isArray(d.items) && (d.kind === "List" || String(d.kind ?? "").endsWith("List"))) {
            // typed lists (PodList) omit kind on items
            const itemKind = d.kind !== "List" ? String(d.kind).replace(/List$/, "") : undefined;
            for (const it of d.items) add(itemKind && !it.kind ? { apiVersion: d.apiVersion, kind: itemKind, ...it } : it);
        } else if (d && typeof d === "object" && d.kind) items.push(d);
    };
    docs.forEach(add);
    return { kind: "List", items };
}
