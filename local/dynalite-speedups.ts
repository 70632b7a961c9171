// dynalite reads and decodes the table's description (15 indexes: ~10 KB of JSON) from LevelDB on every request;
// the local runtime keeps the decoded description in memory instead, dropped whenever dynalite writes or deletes it.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Callback = (error: Error | null, value?: unknown) => void;

interface TableDb {
  put(key: string, value: unknown, callback: Callback): void;
  del(key: string, callback: Callback): void;
}

interface DynaliteStore {
  tableDb: TableDb;
  getTable(name: string, checkStatus: boolean | Callback, callback?: Callback): void;
}

const db = require('dynalite/db') as { create(options: unknown): DynaliteStore; __tableCache?: true };

/** Installs the cache on every store dynalite creates from now on (idempotent). */
export function cacheDynaliteTables(): void {
  if (db.__tableCache) return;
  db.__tableCache = true;
  const create = db.create.bind(db);
  db.create = (options: unknown) => {
    const store = create(options);
    const cache = new Map<string, unknown>();
    const { put, del } = store.tableDb;
    store.tableDb.put = (key, value, callback) => {
      cache.delete(key);
      put.call(store.tableDb, key, value, (error, result) => {
        cache.delete(key);
        callback(error, result);
      });
    };
    store.tableDb.del = (key, callback) => {
      cache.delete(key);
      del.call(store.tableDb, key, (error, result) => {
        cache.delete(key);
        callback(error, result);
      });
    };
    const getTable = store.getTable.bind(store);
    store.getTable = (name, checkStatus, callback) => {
      const done = (typeof checkStatus === 'function' ? checkStatus : callback)!;
      const check = typeof checkStatus === 'function' ? false : checkStatus;
      const cached = cache.get(name) as { TableStatus?: string } | undefined;
      // Only an ACTIVE table is kept: the states dynalite moves through on create, update and delete are read anew.
      if (cached) return done(null, cached);
      getTable(name, check, (error, table) => {
        if (!error && (table as { TableStatus?: string }).TableStatus === 'ACTIVE') cache.set(name, table);
        done(error, table);
      });
    };
    return store;
  };
}
