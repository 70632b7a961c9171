// GET /: the browser page (upload, browse, look, inspect); its scripts and stylesheet come from GET /web/{file}.
import { httpHandler } from '../http/handler.js';
import { header } from '../http/request.js';
import { binary } from '../http/responses.js';
import { baseHref, INDEX_ASSET, loadAssets, notModified, pageHeaders, renderIndex } from '../web/assets.js';

const index = (await loadAssets()).get(INDEX_ASSET)!;

export const handler = httpHandler('web', async (event) => {
  const bytes = renderIndex(index.bytes, baseHref(event.requestContext?.path));
  const headers = pageHeaders(bytes, process.env);
  return notModified(header(event, 'if-none-match'), headers) ?? binary(200, bytes, index.contentType, headers);
});
