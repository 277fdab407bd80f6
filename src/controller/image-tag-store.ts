/**
 * The tags of each scanned ImageRepository, kept in the controller's memory rather than in the
 * object's status (as Flux keeps them in its own database): a repository with thousands of tags
 * would make every status write and every watch event of the object huge. After a restart the
 * store is empty until the first scan, which every ImageRepository gets at start-up anyway.
 * Bounded: least recently scanned repositories are forgotten first, and a repository keeps at
 * most `maxTags` tags (the highest sorting ones, where date and version stamped tags are newest).
 */
export class ImageTagStore {
  private readonly tags = new Map<string, readonly string[]>();

  constructor(
    private readonly maxRepositories = 512,
    private readonly maxTags = 10_000,
  ) {}

  /** Records a scan; returns whether the tag set differs from the last one (a new or removed tag). */
  set(key: string, tags: readonly string[]): boolean {
    const kept = tags.length > this.maxTags ? [...tags].sort().slice(-this.maxTags) : [...tags];
    const previous = this.tags.get(key);
    this.tags.delete(key);
    this.tags.set(key, kept);
    while (this.tags.size > this.maxRepositories) this.tags.delete(this.tags.keys().next().value as string);
    if (!previous || previous.length !== kept.length) return true;
    const known = new Set(previous);
    return kept.some((tag) => !known.has(tag));
  }

  get(key: string): readonly string[] | undefined {
    return this.tags.get(key);
  }

  delete(key: string): void {
    this.tags.delete(key);
  }
}

/** A bounded memo of image creation times (`image:tag` -> time), for Flux v1's `newest` ordering: a tag's build time is read once. */
export class ImageCreatedCache {
  private readonly created = new Map<string, Date | null>();

  constructor(private readonly limit = 4096) {}

  get(image: string, tag: string): Date | null | undefined {
    return this.created.get(`${image}:${tag}`);
  }

  set(image: string, tag: string, created: Date | undefined): void {
    const key = `${image}:${tag}`;
    this.created.delete(key);
    this.created.set(key, created ?? null);
    while (this.created.size > this.limit) this.created.delete(this.created.keys().next().value as string);
  }
}
