// The access helpers: who the caller is, which file ids an audit line names, CORS origin parsing and headers.
import { describe, expect, it } from 'vitest';
import { apiKeyOf, auditedFileIds, localApiKeyId, principalOf } from '../../lambdas/http/access.js';
import { corsHeaders, parseOrigins, preflightHeaders, withCors } from '../../lambdas/http/cors.js';
import { json } from '../../lambdas/http/responses.js';
import { apiEvent } from '../support/events.js';

const ID = '5efb7e40-5880-4a82-88c3-b52644c4f703';

describe('principalOf', () => {
  it('names the IAM caller, else the API key id (never the key), else nobody', () => {
    const event = apiEvent({ method: 'GET', resource: '/dicom', path: '/dicom' });
    expect(principalOf(event)).toEqual({ type: 'none', id: null });
    event.requestContext.identity.apiKey = 'secret-value';
    event.requestContext.identity.apiKeyId = 'abc123';
    expect(principalOf(event)).toEqual({ type: 'api-key', id: 'abc123' });
    event.requestContext.identity.userArn = 'arn:aws:iam::123456789012:user/alice';
    expect(principalOf(event)).toEqual({ type: 'iam', id: 'arn:aws:iam::123456789012:user/alice' });
    expect(localApiKeyId('secret-value')).toMatch(/^local-[0-9a-f]{12}$/);
    expect(localApiKeyId('secret-value')).not.toContain('secret');
  });
});

describe('auditedFileIds', () => {
  const at = (pathParameters?: Record<string, string>) =>
    apiEvent({
      method: 'GET',
      resource: '/dicom/{id}',
      path: '/dicom/x',
      ...(pathParameters ? { pathParameters } : {}),
    });

  it('takes the path id only when it is a UUID (client text is never logged)', () => {
    expect(auditedFileIds(at({ id: ID.toUpperCase() }), json(404, {}))).toEqual([ID]);
    expect(auditedFileIds(at({ id: 'DOE^JOHN' }), json(404, {}))).toEqual([]);
  });

  it("takes an upload's id from its answer, a listing's from its page", () => {
    expect(auditedFileIds(at(), json(201, { id: ID, filename: 'x.dcm' }))).toEqual([ID]);
    expect(auditedFileIds(at(), json(200, { count: 1, files: [{ id: ID, patient_id: 'P1' }] }))).toEqual([ID]);
    expect(auditedFileIds(at(), json(400, { error: 'bad', code: 'BAD' }))).toEqual([]);
  });
});

describe('CORS helpers', () => {
  it('parses a comma-separated list of bare origins and refuses anything wider', () => {
    expect(parseOrigins(undefined)).toEqual([]);
    expect(parseOrigins(' https://a.example ,http://localhost:3000,')).toEqual([
      'https://a.example',
      'http://localhost:3000',
    ]);
    for (const bad of ['*', 'a.example', 'https://a.example/', 'ftp://a.example', 'https://*.example']) {
      expect(() => parseOrigins(bad), bad).toThrow(/not an origin/);
    }
  });

  it('echoes an allowed origin only, always varies on Origin, and adds nothing when CORS is off', () => {
    const allowed = ['https://a.example'];
    expect(corsHeaders('https://a.example', allowed)['Access-Control-Allow-Origin']).toBe('https://a.example');
    expect(corsHeaders('https://b.example', allowed)).toEqual({ Vary: 'Origin' });
    expect(corsHeaders('https://a.example', [])).toEqual({});
    expect(preflightHeaders('https://a.example', allowed)['Access-Control-Allow-Headers']).toContain('X-Api-Key');
    expect(preflightHeaders('https://b.example', allowed)['Access-Control-Allow-Methods']).toBeUndefined();
  });

  it('withCors adds the headers to a handler answer from CORS_ORIGINS, keeping its own Vary', () => {
    const event = apiEvent({ method: 'GET', resource: '/', path: '/', headers: { Origin: 'https://a.example' } });
    const before = process.env.CORS_ORIGINS;
    process.env.CORS_ORIGINS = 'https://a.example';
    try {
      const answer = withCors(event, json(200, {}, { Vary: 'Accept' }));
      expect(answer.headers).toMatchObject({
        'Access-Control-Allow-Origin': 'https://a.example',
        Vary: 'Accept, Origin',
      });
      delete process.env.CORS_ORIGINS;
      expect(withCors(event, json(200, {})).headers?.['Access-Control-Allow-Origin']).toBeUndefined();
    } finally {
      if (before === undefined) delete process.env.CORS_ORIGINS;
      else process.env.CORS_ORIGINS = before;
    }
  });
});

describe('apiKeyOf: the key from x-api-key or a Bearer token', () => {
  it('reads either header in any case, x-api-key first', () => {
    expect(apiKeyOf({ 'X-Api-Key': 'a' })).toBe('a');
    expect(apiKeyOf({ authorization: 'Bearer b' })).toBe('b');
    expect(apiKeyOf({ Authorization: 'bearer  c ' })).toBe('c');
    expect(apiKeyOf({ Authorization: 'Bearer b', 'x-api-key': 'a' })).toBe('a');
    expect(apiKeyOf({ 'x-api-key': ['m', 'n'] })).toBe('m');
  });

  it('is undefined for no header, another scheme or a malformed bearer', () => {
    expect(apiKeyOf(undefined)).toBeUndefined();
    expect(apiKeyOf({})).toBeUndefined();
    expect(apiKeyOf({ Authorization: 'Basic Zm9vOmJhcg==' })).toBeUndefined();
    expect(apiKeyOf({ Authorization: 'Bearer' })).toBeUndefined();
    expect(apiKeyOf({ Authorization: 'Bearer a b' })).toBeUndefined();
  });
});
