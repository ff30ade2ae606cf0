// Headers for bytes clients put there (Cloud Storage objects, log lines), served on Gantry's own origin. Google serves
// user content from a separate origin; here it shares the API's, so it must never run as a page of that origin: the
// browser gets no script, no sniffing into an active type, and active types only as downloads.

/** Types a browser shows without running anything: served inline; every other type is an attachment. */
const PASSIVE = /^(?:text\/plain|text\/csv|application\/json|application\/octet-stream|image\/(?:png|jpeg|gif|webp|avif|bmp)|audio\/[\w.+-]+|video\/[\w.+-]+)$/;

/** The headers for serving `contentType` that a client chose; `disposition` is the one it stored, if any. */
export function userContentHeaders(contentType: string, disposition?: string): Record<string, string> {
  const headers: Record<string, string> = {
    // A sandboxed document has an opaque origin: even rendered, it cannot script or call the API as Gantry.
    'content-security-policy': 'sandbox',
    'x-content-type-options': 'nosniff',
  };
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (!PASSIVE.test(type)) headers['content-disposition'] = disposition && /^\s*attachment\b/i.test(disposition) ? disposition : 'attachment';
  else if (disposition) headers['content-disposition'] = disposition;
  return headers;
}
