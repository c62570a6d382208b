// A binary heap whose items know their position, so one item can be re-prioritised or removed in
// O(log n). Used to find the emptiest schedulable node without scanning every node.

export interface HeapItem {
    heapIndex: number; // -1 when not in a heap
}

export class IndexedHeap<T extends HeapItem> {
    readonly items: T[] = [];

    /** `before(a, b)` is true when a should come out before b. */
    constructor(private readonly before: (a: T, b: T) => boolean) {}

    get size(): number {
        return this.items.length;
    }

    peek(): T | undefined {
        return this.items[0];
    }

    push(item: T): void {
        item.heapIndex = this.items.length;
        this.items.push(item);
        this.up(item.heapIndex);
    }

    remove(item: T): void {
        const i = item.heapIndex;
        if (i < 0 || this.items[i] !== item) return;
        const last = this.items.pop()!;
        item.heapIndex = -1;
        if (i < this.items.length) {
            this.items[i] = last;
            last.heapIndex = i;
            this.update(last);
        }
    }

    /** Call after the item's priority changed. */
    update(item: T): void {
        const i = item.heapIndex;
        if (i < 0) return;
        this.up(i);
        this.down(item.heapIndex);
    }

    private swap(i: number, j: number): void {
        const a = this.items[i];
        const b = this.items[j];
        this.items[i] = b;
        this.items[j] = a;
        a.heapIndex = j;
        b.heapIndex = i;
    }

    private up(i: number): void {
        while (i > 0) {
            const parent = (i - 1) >> 1;
            if (!this.before(this.items[i], this.items[parent])) break;
            this.swap(i, parent);
            i = parent;
        }
    }

    private down(i: number): void {
        const n = this.items.length;
        for (;;) {
            const l = 2 * i + 1;
            const r = l + 1;
            let best = i;
            if (l < n && this.before(this.items[l], this.items[best])) best = l;
            if (r < n && this.before(this.items[r], this.items[best])) best = r;
            if (best === i) break;
            this.swap(i, best);
            i = best;
        }
    }
}
