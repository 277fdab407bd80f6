interface Entry {
  key: string;
  deadline: number;
  /** Insertion order, so keys due at the same moment come out in the order they were added. */
  sequence: number;
}

/**
 * Keys waiting for a deadline, earliest first: a binary heap plus the current deadline per
 * key. A key has one deadline; scheduling it again keeps the earlier one. Superseded heap
 * entries are left in place and skipped when they surface, which keeps every operation
 * O(log n) without searching the heap.
 */
export class DelayedKeys {
  private readonly heap: Entry[] = [];
  private readonly deadlines = new Map<string, number>();
  private sequence = 0;

  get size(): number {
    return this.deadlines.size;
  }

  /** Schedules `key` at `deadline` unless it is already due no later than that. */
  schedule(key: string, deadline: number): void {
    const current = this.deadlines.get(key);
    if (current !== undefined && current <= deadline) return;
    this.deadlines.set(key, deadline);
    this.push({ key, deadline, sequence: this.sequence++ });
  }

  /** The earliest deadline, or undefined when nothing waits. */
  nextDeadline(): number | undefined {
    this.dropSuperseded();
    return this.heap[0]?.deadline;
  }

  /** Removes and returns the keys due at `now`, earliest first. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (;;) {
      this.dropSuperseded();
      const top = this.heap[0];
      if (!top || top.deadline > now) return due;
      this.pop();
      this.deadlines.delete(top.key);
      due.push(top.key);
    }
  }

  clear(): void {
    this.heap.length = 0;
    this.deadlines.clear();
  }

  private dropSuperseded(): void {
    let top = this.heap[0];
    while (top && this.deadlines.get(top.key) !== top.deadline) {
      this.pop();
      top = this.heap[0];
    }
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(entry, heap[parent] as Entry)) break;
      heap[index] = heap[parent] as Entry;
      index = parent;
    }
    heap[index] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Entry, heap[left] as Entry) ? right : left;
      if (!before(heap[child] as Entry, last)) break;
      heap[index] = heap[child] as Entry;
      index = child;
    }
    heap[index] = last;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.sequence < b.sequence);
}
