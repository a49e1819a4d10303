// The session's CSRF token for fetch() on staff pages. A page embeds it as
// <meta name="csrf-token" content="..."> (web/auth.py `csrf_token(request)`); the server wants it
// back in the X-CSRF-Token header on every POST/PUT/PATCH/DELETE of a logged-in browser.

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** `headers` plus X-CSRF-Token, e.g. fetch(url, { method: "POST", headers: csrfHeaders() }). */
export function csrfHeaders(headers = {}) {
  const token = csrfToken();
  return token ? { ...headers, "X-CSRF-Token": token } : { ...headers };
}
