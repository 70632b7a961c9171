// QIDO-RS (PS3.18 10.6) at every level: /dicomweb/studies, /series, /instances and the scoped forms, as application/dicom+json.
import { respondToSearch } from '../dicomweb/respond-search.js';
import { httpHandler } from '../http/handler.js';

export const handler = httpHandler('dicomwebSearch', (event) => {
  // The resource template says the level: its last segment names what is searched for.
  const last = event.resource.split('/').pop();
  return respondToSearch(event, last === 'studies' ? 'study' : last === 'series' ? 'series' : 'instance');
});
