// Just enough Kubernetes protobuf decoding for the bodies kubectl's typed
// clients send that the simulator must understand: DeleteOptions (kubectl
// drain --disable-eviction, kubectl delete) and Eviction. Other kinds are
// refused with 415 by the caller.
//
// Wire format: "k8s\0" + runtime.Unknown{1: TypeMeta{1: apiVersion, 2: kind}, 2: raw bytes,
// 3: contentEncoding, 4: contentType}; raw holds the object's own message.

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { wire: number; value: number | Buffer };

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

function parseMessage(buf: Buffer): Map<number, Field[]> {
    const out = new Map<number, Field[]>();
    let pos = 0;
    while (pos < buf.length) {
        let key: number;
        [key, pos] = readVarint(buf, pos);
        const field = Math.floor(key / 8);
        const wire = key & 7;
        let value: number | Buffer;
        if (wire === 0) [value, pos] = readVarint(buf, pos);
        else if (wire === 2) {
            let len: number;
            [len, pos] = readVarint(buf, pos);
            value = buf.subarray(pos, pos + len);
            pos += len;
        } else if (wire === 1) {
            value = buf.subarray(pos, pos + 8);
            pos += 8;
        } else if (wire === 5) {
            value = buf.subarray(pos, pos + 4);
            pos += 4;
        } else throw new Error(`unsupported protobuf wire type ${wire}`);
        if (!out.has(field)) out.set(field, []);
        out.get(field)!.push({ wire, value });
    }
    return out;
}

const str = (m: Map<number, Field[]>, f: number): string | undefined => {
    const v = m.get(f)?.[0]?.value;
    return Buffer.isBuffer(v) ? v.toString("utf8") : undefined;
};
const int = (m: Map<number, Field[]>, f: number): number | undefined => {
    const v = m.get(f)?.[0]?.value;
    if (typeof v !== "number") return undefined;
    // int64 in two's complement: large values are negative numbers
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
};
const msg = (m: Map<number, Field[]>, f: number): Map<number, Field[]> | undefined => {
    const v = m.get(f)?.[0]?.value;
    return Buffer.isBuffer(v) ? parseMessage(v) : undefined;
};

export function isK8sProtobuf(body: Buffer): boolean {
    return body.length >= 4 && body.subarray(0, 4).equals(MAGIC);
}

function deleteOptions(m: Map<number, Field[]>): any {
    const o: any = {};
    const grace = int(m, 1);
    if (grace !== undefined) o.gracePeriodSeconds = grace;
    const pre = msg(m, 2);
    if (pre) {
        o.preconditions = {};
        const uid = str(pre, 1);
        const rv = str(pre, 2);
        if (uid !== undefined) o.preconditions.uid = uid;
        if (rv !== undefined) o.preconditions.resourceVersion = rv;
    }
    if (m.has(3)) o.orphanDependents = int(m, 3) === 1;
    const pp = str(m, 4);
    if (pp !== undefined) o.propagationPolicy = pp;
    const dry = (m.get(5) ?? []).map((f) => (f.value as Buffer).toString("utf8"));
    if (dry.length) o.dryRun = dry;
    return o;
}

/** Decode a protobuf body into its JSON form, or return undefined if the kind is not supported. */
export function decodeK8sProtobuf(body: Buffer): any | undefined {
    const unknown = parseMessage(body.subarray(4));
    const typeMeta = msg(unknown, 1);
    const apiVersion = typeMeta ? str(typeMeta, 1) : undefined;
    const kind = typeMeta ? str(typeMeta, 2) : undefined;
    const raw = unknown.get(2)?.[0]?.value;
    const m = Buffer.isBuffer(raw) ? parseMessage(raw) : new Map();
    if (kind === "DeleteOptions") return { apiVersion, kind, ...deleteOptions(m) };
    if (kind === "Eviction") {
        const meta = msg(m, 1);
        const dopts = msg(m, 2);
        return {
            apiVersion,
            kind,
            metadata: meta ? { name: str(meta, 1), namespace: str(meta, 3) } : {},
            ...(dopts ? { deleteOptions: deleteOptions(dopts) } : {}),
        };
    }
    return undefined;
}
