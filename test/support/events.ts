// Builds the exact event shapes API Gateway (REST proxy) and S3 send, from the aws-lambda types.
import type { APIGatewayProxyEvent, S3Event } from 'aws-lambda';
import { uploadForm } from './runtime.js';

export interface ApiEventInput {
  method: string;
  resource: string;
  path: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
  /** API Gateway with binaryMediaTypes '*\/*' base64-encodes every body; false sends it as text. */
  base64?: boolean;
}

export function apiEvent(input: ApiEventInput): APIGatewayProxyEvent {
  const base64 = input.base64 ?? true;
  const headers = input.headers ?? {};
  return {
    resource: input.resource,
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: input.query ?? null,
    multiValueQueryStringParameters: input.query
      ? Object.fromEntries(Object.entries(input.query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: input.pathParameters ?? null,
    stageVariables: null,
    body: input.body ? input.body.toString(base64 ? 'base64' : 'utf8') : null,
    isBase64Encoded: Boolean(input.body) && base64,
    requestContext: {
      accountId: '123456789012',
      apiId: 'test',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: input.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.1',
        user: null,
        userAgent: 'vitest',
        userArn: null,
      },
      path: `/prod${input.path}`,
      stage: 'prod',
      requestId: 'test-request',
      requestTimeEpoch: Date.now(),
      resourceId: 'abc123',
      resourcePath: input.resource,
    },
  };
}

/** A multipart upload event as API Gateway delivers it (base64 body, client's header casing). */
export async function uploadEvent(bytes: Uint8Array, filename = 'sample.dcm'): Promise<APIGatewayProxyEvent> {
  const request = new Request('http://x/dicom', { method: 'POST', body: uploadForm(bytes, filename) });
  const body = Buffer.from(await request.arrayBuffer());
  return apiEvent({
    method: 'POST',
    resource: '/dicom',
    path: '/dicom',
    headers: { 'Content-Type': request.headers.get('content-type')! },
    body,
  });
}

export function idEvent(
  resource: string,
  id: string,
  method = 'GET',
  query?: Record<string, string>,
): APIGatewayProxyEvent {
  return apiEvent({
    method,
    resource,
    path: resource.replace('{id}', id),
    pathParameters: { id },
    ...(query ? { query } : {}),
  });
}

/** An S3 ObjectCreated notification; AWS URL-encodes the key (space as '+'). */
export function s3Event(key: string, eventName = 'ObjectCreated:Put', size = 1): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventTime: new Date().toISOString(),
        eventName,
        userIdentity: { principalId: 'AWS:EXAMPLE' },
        requestParameters: { sourceIPAddress: '203.0.113.1' },
        responseElements: { 'x-amz-request-id': 'EXAMPLE', 'x-amz-id-2': 'EXAMPLE' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'processor',
          bucket: { name: 'bucket', ownerIdentity: { principalId: 'EXAMPLE' }, arn: 'arn:aws:s3:::bucket' },
          object: {
            key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'),
            size,
            eTag: 'x',
            sequencer: '1',
          },
        },
      },
    ],
  };
}
