// The API's request authorizer (access control `apiKey`): hands API Gateway the key from x-api-key or from
// `Authorization: Bearer <key>`; API Gateway then checks it against the usage plan (403 and throttling as before).
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { apiKeyOf } from '../http/access.js';

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  // The key is validated by API Gateway (apiKeySource AUTHORIZER), not here: allow every method of this stage and
  // let a missing or wrong key fail there with the INVALID_API_KEY answer clients know.
  const [arn = '', stage = '*'] = event.methodArn.split('/');
  return {
    principalId: 'api-key',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${arn}/${stage}/*` }],
    },
    usageIdentifierKey: apiKeyOf(event.headers) ?? '',
  };
}
