// GET /: the browser page (upload, browse, look, inspect); its scripts and stylesheet come from GET /web/{file}.
import { BadRequest } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { header } from '../http/request.js';
import { binary } from '../http/responses.js';
import { baseHref, INDEX_ASSET, loadAssets, notModified, pageHeaders, renderIndex } from '../web/assets.js';

const index = (await loadAssets()).get(INDEX_ASSET)!;

export const handler = httpHandler('web', async (event) => {
  const unknown = Object.keys(event.queryStringParameters ?? {})[0];
  if (unknown) throw new BadRequest(`unknown query parameter: ${unknown.slice(0, 40)}`, 'BAD_QUERY');
  const bytes = renderIndex(index.bytes, baseHref(event.requestContext?.path));
  const headers = pageHeaders(bytes, process.env);
  return notModified(header(event, 'if-none-match'), headers) ?? binary(200, bytes, index.contentType, headers);
});
