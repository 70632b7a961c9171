// The ObjectStore interface (S3 in AWS and, through the same adapter, the embedded emulator locally).

export interface ObjectStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** The object's bytes, or undefined when there is no such object. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Deletes the keys that exist; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** A short-lived URL that GETs one object. */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
}
