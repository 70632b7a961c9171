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
  const listed = await objects.listKeys(KEYS.derivedFolder(id));
  await objects.delete([...new Set([...fixed, ...listed])]);
}

/** Deletes the cached on-demand renderings only: a reprocessed file's renderings may be outdated. */
export async function deleteCachedRenderings(objects: ObjectStore, id: string): Promise<void> {
  await objects.delete(await objects.listKeys(KEYS.renderingPrefix(id)));
}
