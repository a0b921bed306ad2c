// What the three pages share: element lookup, number format, and JSON calls that surface the server's own error.
export const $ = (id) => document.getElementById(id);
export const fmt = new Intl.NumberFormat('en');

/** JSON from the service; a failure throws the server's own {"error"} message (and its HTTP status and reason). */
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
    const error = new Error((body && body.error) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.reason = body && body.reason;
    throw error;
  }
  return body;
}

const TOKEN_KEY = 'lenet.api-token';

/**
 * A call that changes state (pin, follow, start or cancel a run, ingest): JSON, with the API token. The token is asked
 * for once and kept for this browser session only; a refused token is forgotten, so the next try asks again. The
 * server's reason for a refusal is what the caller shows.
 */
export async function operatorApi(url, {method = 'POST', body} = {}) {
  let token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    token = window.prompt('This changes what the pipeline does. API token (./pipeline up printed where it is: '
      + 'run/api-token):');
    if (!token) throw new Error('not sent: this needs the API token');
    token = token.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
  }
  try {
    return await api(url, {
      method,
      headers: {'Content-Type': 'application/json', 'Authorization': `Bearer ${token}`},
      body: body === undefined ? '{}' : JSON.stringify(body),
    });
  } catch (e) {
    if (e.status === 401) sessionStorage.removeItem(TOKEN_KEY);
    throw e;
  }
}
