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

    /**
     * Calls `visit` on the items in priority order, without changing the heap, until it returns true. Costs
     * O(k log k) for k visited items, so a search that usually stops early stays cheap on a big heap.
     */
    visitInOrder(visit: (item: T) => boolean): void {
        const items = this.items;
        if (items.length === 0) return;
        // A second, small heap of indices into this one: the frontier of the walk.
        const frontier = this.frontier;
        frontier.length = 0;
        const before = (i: number, j: number) => this.before(items[i], items[j]);
        const push = (index: number) => {
            if (index >= items.length) return;
            let k = frontier.length;
            frontier.push(index);
            while (k > 0) {
                const parent = (k - 1) >> 1;
                if (!before(frontier[k], frontier[parent])) break;
                [frontier[k], frontier[parent]] = [frontier[parent], frontier[k]];
                k = parent;
            }
        };
        const pop = (): number => {
            const top = frontier[0];
            const last = frontier.pop()!;
            if (frontier.length > 0) {
                frontier[0] = last;
                for (let k = 0; ;) {
                    const l = 2 * k + 1;
                    const r = l + 1;
                    let m = k;
                    if (l < frontier.length && before(frontier[l], frontier[m])) m = l;
                    if (r < frontier.length && before(frontier[r], frontier[m])) m = r;
                    if (m === k) break;
                    [frontier[k], frontier[m]] = [frontier[m], frontier[k]];
                    k = m;
                }
            }
            return top;
        };
        push(0);
        while (frontier.length > 0) {
            const i = pop();
            if (visit(items[i])) return;
            push(2 * i + 1);
            push(2 * i + 2);
        }
    }

    private readonly frontier: number[] = [];

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
