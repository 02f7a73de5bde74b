const MAX_USERS = 10_000;
const MAX_PAGES_PER_USER = 64;

interface UserPages {
  generation: number;
  pages: Map<string, { body: Buffer; expiresAt: number }>;
}

/**
 * Each user's rendered pages, as bytes. A page is dropped when anything of its user changes
 * (the generation moves on), and is never served at or after the moment its figures would
 * change by themselves (a snapshot entering or leaving a window, a key state turning).
 */
export class PageCache {
  private readonly users = new Map<number, UserPages>();
  /** Moves on when every page must go (changes may have been missed). */
  private epoch = 0;

  /** Read before rendering; pass to `set` so a render that raced a write is not stored. */
  generation(userId: number): string {
    return `${this.epoch}.${this.users.get(userId)?.generation ?? 0}`;
  }

  get(userId: number, key: string, now: number): Buffer | undefined {
    const page = this.users.get(userId)?.pages.get(key);
    return page && now < page.expiresAt ? page.body : undefined;
  }

  set(userId: number, generation: string, key: string, body: Buffer, expiresAt: number): void {
    if (generation !== this.generation(userId)) return;
    let entry = this.users.get(userId);
    if (!entry) {
      if (this.users.size >= MAX_USERS) this.evictOldestUser();
      entry = { generation: 0, pages: new Map() };
      this.users.set(userId, entry);
    }
    if (entry.pages.size >= MAX_PAGES_PER_USER) entry.pages.clear();
    entry.pages.set(key, { body, expiresAt });
  }

  invalidate(userId: number): void {
    const entry = this.users.get(userId);
    if (entry) {
      entry.generation += 1;
      entry.pages.clear();
    } else {
      // Remember the bump: a render already under way for this user must not be stored.
      this.users.set(userId, { generation: 1, pages: new Map() });
    }
  }

  invalidateAll(): void {
    this.epoch += 1;
    this.users.clear();
  }

  private evictOldestUser(): void {
    const oldest = this.users.keys().next();
    if (oldest.done) return;
    this.users.delete(oldest.value);
    // The evicted user's generation is forgotten; renders under way must not be stored.
    this.epoch += 1;
  }
}
