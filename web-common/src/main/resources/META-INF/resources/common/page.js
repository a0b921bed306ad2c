// What the three pages share: element lookup, number format, and JSON calls that surface the server's own error.
export const $ = (id) => document.getElementById(id);
export const fmt = new Intl.NumberFormat('en');

/** JSON from the service; a failure throws the server's own {"error"} message. */
export async function api(url, options) {
  const response = await fetch(url, options);
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  }
  return body;
}
