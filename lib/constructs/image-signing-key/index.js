// Deploy-time custom resource: makes the RSA key pair CloudFront checks image-access signatures with. The private key
// goes straight into the stack's secret (never into the template or a log); the public key is returned for
// AWS::CloudFront::PublicKey. A new physical id on every create or update replaces the public key, so a rotation
// (change `Generation`) also hands the signing functions the new key pair id.
exports.handler = async (event) => {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const { generateKeyPairSync, randomUUID } = await import('node:crypto');
  const { SecretsManagerClient, PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await new SecretsManagerClient({}).send(
    new PutSecretValueCommand({ SecretId: event.ResourceProperties.SecretId, SecretString: privateKey }),
  );
  return { PhysicalResourceId: `image-signing-key-${randomUUID()}`, Data: { PublicKey: publicKey } };
};
