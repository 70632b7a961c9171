// THE route table: the CDK api construct and the local runtime both read it, so local == deployed.

/** What a route's Lambda may do to storage; CDK turns it into least-privilege IAM grants. */
export interface StorageAccess {
  /** S3 object-key prefixes (from KEYS) the function reads, writes or deletes. */
  readonly s3Read?: readonly string[];
  readonly s3Write?: readonly string[];
  readonly s3Delete?: readonly string[];
  /** DynamoDB: read items and query the list index; write (put/update/delete) items. */
  readonly tableRead?: boolean;
  readonly tableWrite?: boolean;
}

export interface RouteDefinition {
  /** Logical name: also the handler module `lambdas/handlers/<name>.ts` and the CDK construct id. */
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path; `{id}` is a path parameter. */
  readonly path: string;
  readonly access: StorageAccess;
  /** Lambda memory (MB) and timeout (s): only routes that differ from the defaults say so. */
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
}

export const ROUTES: readonly RouteDefinition[] = [
  {
    name: 'upload',
    method: 'POST',
    path: '/dicom',
    access: { s3Write: ['uploads/'], tableWrite: true },
    memoryMb: 1024,
  },
  { name: 'list', method: 'GET', path: '/dicom', access: { tableRead: true } },
  { name: 'get', method: 'GET', path: '/dicom/{id}', access: { tableRead: true } },
  {
    name: 'attributes',
    method: 'GET',
    path: '/dicom/{id}/attributes',
    access: { s3Read: ['derived/'], tableRead: true },
    memoryMb: 1024,
  },
  {
    name: 'png',
    method: 'GET',
    path: '/dicom/{id}/png',
    access: { s3Read: ['derived/'], tableRead: true },
  },
  {
    name: 'delete',
    method: 'DELETE',
    path: '/dicom/{id}',
    access: { s3Delete: ['uploads/', 'derived/'], tableRead: true, tableWrite: true },
  },
];

/** The processor: not an HTTP route; S3 ObjectCreated:* events on the upload prefix trigger it. */
export const PROCESSOR = {
  name: 'processor',
  triggerPrefix: 'uploads/',
  access: {
    s3Read: ['uploads/'],
    s3Write: ['derived/'],
    s3Delete: ['derived/'],
    tableRead: true,
    tableWrite: true,
  } satisfies StorageAccess,
  memoryMb: 3008,
  timeoutSeconds: 120,
} as const;
