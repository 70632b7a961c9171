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

interface IndexAction {
  index: string;
  key: string;
  item?: unknown;
}

interface TableDescription {
  TableName: string;
  LocalSecondaryIndexes?: unknown[];
  GlobalSecondaryIndexes?: unknown[];
}

interface BatchDb {
  batch(operations: { type: 'put' | 'del'; key: string; value?: unknown }[], callback: Callback): void;
}

const db = require('dynalite/db') as {
  create(options: unknown): DynaliteStore;
  updateIndexes(store: { db: BatchDb }, table: TableDescription, old: unknown, item: unknown, cb: Callback): void;
  getIndexActions(
    indexes: unknown[],
    old: unknown,
    item: unknown,
    table: TableDescription,
  ): { puts: IndexAction[]; deletes: IndexAction[] };
  __tableCache?: true;
  __indexBatch?: true;
};

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

/**
 * dynalite writes a record's index entries one LevelDB call each: first every stale entry's delete side by side, then
 * every index's put (one per index the item has keys for, changed or not), each a thread-pool round trip; a file
 * record has 10-13. This writes them in one LevelDB batch, the deletes first as before (and atomically, which the
 * separate calls were not). The keys are dynalite's own: its index sublevels prefix `index-<type>~<table>~<index>~`
 * (dynalite/db getIndexDb), the same entries its queries read.
 */
export function batchDynaliteIndexWrites(): void {
  if (db.__indexBatch) return;
  db.__indexBatch = true;
  db.updateIndexes = (store, table, existingItem, item, callback) => {
    if (!existingItem && !item) return callback(null);
    const deletes: { type: 'del'; key: string }[] = [];
    const puts: { type: 'put'; key: string; value: unknown }[] = [];
    for (const indexType of ['Local', 'Global'] as const) {
      const indexes = table[`${indexType}SecondaryIndexes`] ?? [];
      const actions = db.getIndexActions(indexes, existingItem, item, table);
      const prefix = (index: string): string => `index-${indexType.toLowerCase()}~${table.TableName}~${index}~`;
      for (const action of actions.deletes) deletes.push({ type: 'del', key: prefix(action.index) + action.key });
      for (const action of actions.puts) {
        puts.push({ type: 'put', key: prefix(action.index) + action.key, value: action.item });
      }
    }
    if (deletes.length + puts.length === 0) return callback(null);
    store.db.batch([...deletes, ...puts], callback);
  };
}
