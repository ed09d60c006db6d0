// Requests from the pages: same origin, the session cookie, and the CSRF token on every change.
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') || '' : '';
}

export class SignedOut extends Error {}

async function checked(response) {
  // A session that ended answers a page request with the sign-in page.
  if (response.redirected && new URL(response.url).pathname.startsWith('/ui/sign-in')) {
    throw new SignedOut('signed out');
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && body.detail) detail = typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
    } catch (_) { /* not JSON */ }
    throw new Error(detail);
  }
  return response;
}

export async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  return (await checked(response)).json();
}

export async function getHtml(url) {
  const response = await fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
  return (await checked(response)).text();
}

export async function post(url) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { Accept: 'application/json', 'X-CSRF-Token': csrfToken() },
  });
  return (await checked(response)).json();
}
