// Removing what is stored for one file: the fixed keys of KEYS (old layouts too) plus every rendering cached under
// derived/<id>/.
import { KEYS } from '../config.js';
import type { ObjectStore } from './objects.js';

/**
 * Deletes the file's objects; `keepOriginal` leaves `uploads/<id>` (a failed reprocess keeps it).
 * Cached renderings have keys made from request parameters, so they are found by listing the
 * file's derived/ folder rather than recorded anywhere: no record write on a cache miss.
 */
export async function deleteFileObjects(
  objects: ObjectStore,
  id: string,
  { keepOriginal = false }: { keepOriginal?: boolean } = {},
): Promise<void> {
  const fixed = keepOriginal ? KEYS.derivedObjects(id) : KEYS.allObjects(id);
  // The fixed keys go while the folder is listed (one request's latency instead of two, one after the other); only
  // what the listing finds beyond them (cached renderings) needs a second delete.
  const [listed] = await Promise.all([objects.listKeys(KEYS.derivedFolder(id)), objects.delete(fixed)]);
  const fixedKeys = new Set<string>(fixed);
  const more = listed.filter((key) => !fixedKeys.has(key));
  if (more.length > 0) await objects.delete(more);
}

/** Deletes the cached on-demand renderings only: a reprocessed file's renderings may be outdated. */
export async function deleteCachedRenderings(objects: ObjectStore, id: string): Promise<void> {
  await objects.delete(await objects.listKeys(KEYS.renderingPrefix(id)));
}
