// GET /web/{file}: the page's script modules and stylesheet, embedded in this Lambda's bundle.
import { NotFound } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { header } from '../http/request.js';
import { binary } from '../http/responses.js';
import { INDEX_ASSET, loadAssets, notModified, pageHeaders } from '../web/assets.js';

const assets = await loadAssets();

export const handler = httpHandler('webAsset', async (event) => {
  const name = event.pathParameters?.file ?? '';
  // index.html only at `/`, where its <base href> is set.
  const asset = name === INDEX_ASSET ? undefined : assets.get(name);
  if (!asset) throw new NotFound('no such file of the web page', 'ASSET_NOT_FOUND');
  const headers = pageHeaders(asset.bytes, process.env);
  return notModified(header(event, 'if-none-match'), headers) ?? binary(200, asset.bytes, asset.contentType, headers);
});
