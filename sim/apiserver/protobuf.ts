// Kubernetes protobuf request bodies, decoded into their JSON form. kubectl 1.32's typed clients always send
// `application/vnd.kubernetes.protobuf` (kubectl create namespace/deployment/pdb/token, auth can-i, delete,
// drain) and client-go never falls back to JSON on a 415 (it does so only for CBOR), so a server that wants
// those commands to work must decode protobuf, as kube-apiserver does for every built-in kind. The messages
// understood are listed in protobuf-schemas.ts; a body of another kind, or one that sets a field the
// simulator does not model, is refused with 415 rather than silently losing data.
//
// Wire format: "k8s\0" + runtime.Unknown{1: TypeMeta{1: apiVersion, 2: kind}, 2: raw bytes,
// 3: contentEncoding, 4: contentType}; raw holds the object's own message.

import { rfc3339 } from "../clock";
import { DeleteOptions, FieldType, KINDS, Message } from "./protobuf-schemas";

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { num: number; wire: number; value: number | Buffer };

export class UnsupportedProtobuf extends Error {}

function readVarint(buf: Buffer, pos: number): [number, number] {
    let result = 0;
    let shift = 0;
    for (;;) {
        if (pos >= buf.length) throw new Error("truncated varint");
        const b = buf[pos++];
        result += (b & 0x7f) * 2 ** shift;
        if (!(b & 0x80)) return [result, pos];
        shift += 7;
    }
}

function fields(buf: Buffer): Field[] {
    const out: Field[] = [];
    let pos = 0;
    while (pos < buf.length) {
        let key: number;
        [key, pos] = readVarint(buf, pos);
        const wire = key & 7;
        let value: number | Buffer;
        if (wire === 0) [value, pos] = readVarint(buf, pos);
        else if (wire === 2) {
            let len: number;
            [len, pos] = readVarint(buf, pos);
            if (pos + len > buf.length) throw new Error("truncated field");
            value = buf.subarray(pos, pos + len);
            pos += len;
        } else if (wire === 1) {
            value = buf.subarray(pos, pos + 8);
            pos += 8;
        } else if (wire === 5) {
            value = buf.subarray(pos, pos + 4);
            pos += 4;
        } else throw new Error(`unsupported protobuf wire type ${wire}`);
        out.push({ num: Math.floor(key / 8), wire, value });
    }
    return out;
}

const bytes = (f: Field): Buffer => {
    if (!Buffer.isBuffer(f.value)) throw new Error(`field ${f.num}: expected bytes`);
    return f.value;
};
const varint = (f: Field): number => {
    if (typeof f.value !== "number") throw new Error(`field ${f.num}: expected varint`);
    // int64 in two's complement: large values are negative numbers
    return f.value >= 2 ** 63 ? f.value - 2 ** 64 : f.value;
};

function isZero(v: unknown): boolean {
    return v === "" || v === 0 || v === false || v === undefined || (typeof v === "object" && v !== null && Object.keys(v).length === 0);
}

function decodeValue(t: FieldType, f: Field, path: string): unknown {
    switch (t) {
        case "string":
            return bytes(f).toString("utf8");
        case "int":
            return varint(f);
        case "bool":
            return varint(f) !== 0;
        case "quantity":
            return decodeMessage({ 1: ["s", "string"] }, bytes(f), path).s ?? "0";
        case "time": {
            const t = decodeMessage({ 1: ["s", "int"], 2: ["n", "int"] }, bytes(f), path);
            return t.s || t.n ? rfc3339((t.s ?? 0) * 1000) : undefined;
        }
        case "intOrString": {
            const v = decodeMessage({ 1: ["type", "int"], 2: ["i", "int"], 3: ["s", "string"] }, bytes(f), path);
            return v.type === 1 ? (v.s ?? "") : (v.i ?? 0);
        }
    }
    if (typeof t === "object" && !("repeated" in t) && !("map" in t)) return decodeMessage(t as Message, bytes(f), path);
    throw new Error(`${path}: bad schema`);
}

function decodeMessage(schema: Message, buf: Buffer, path: string): any {
    const out: any = {};
    for (const f of fields(buf)) {
        const def = schema[f.num];
        if (!def) {
            // gogo protobuf writes every non-pointer field; zero values carry nothing
            if (f.value === 0 || (Buffer.isBuffer(f.value) && f.value.length === 0)) continue;
            throw new UnsupportedProtobuf(`${path}: protobuf field ${f.num} is not decoded by the simulator`);
        }
        const [name, type, flag] = def;
        const at = `${path}.${name}`;
        if (type === "skip") continue;
        if (typeof type === "object" && "repeated" in type) {
            (out[name] ??= []).push(decodeValue(type.repeated, f, at));
        } else if (typeof type === "object" && "map" in type) {
            const e = decodeMessage({ 1: ["k", "string"], 2: ["v", type.map] }, bytes(f), at);
            (out[name] ??= {})[e.k ?? ""] = e.v ?? (type.map === "string" ? "" : undefined);
        } else if (flag === "inline") {
            Object.assign(out, decodeValue(type, f, path));
        } else {
            const v = decodeValue(type, f, at);
            if (v === undefined || (flag !== "ptr" && isZero(v))) delete out[name];
            else out[name] = v;
        }
    }
    return out;
}

export function isK8sProtobuf(body: Buffer): boolean {
    return body.length >= 4 && body.subarray(0, 4).equals(MAGIC);
}

/** Decode a protobuf body into its JSON form; throws UnsupportedProtobuf for kinds or fields not modelled. */
export function decodeK8sProtobuf(body: Buffer): any {
    const envelope = decodeMessage(
        {
            1: ["typeMeta", { 1: ["apiVersion", "string"], 2: ["kind", "string"] }],
            2: ["raw", "skip"],
            3: ["contentEncoding", "string"],
            4: ["contentType", "string"],
        },
        body.subarray(4),
        "Unknown",
    );
    const { apiVersion = "", kind = "" } = envelope.typeMeta ?? {};
    const schema = kind === "DeleteOptions" ? DeleteOptions : KINDS[`${apiVersion}/${kind}`];
    if (!schema) throw new UnsupportedProtobuf(`protobuf bodies of ${apiVersion}/${kind} are not decoded by the simulator`);
    const rawField = fields(body.subarray(4)).find((f) => f.num === 2);
    const raw = rawField && Buffer.isBuffer(rawField.value) ? rawField.value : Buffer.alloc(0);
    return { apiVersion, kind, ...decodeMessage(schema, raw, kind) };
}
