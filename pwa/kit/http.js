// @ts-check
// HTTP calls to the Souk API: JSON in and out, the bearer token, and errors that say whether
// trying again later can help (network trouble, 5xx, 429, 408) or not (any other 4xx).

/** An answer from the server that is not a success. */
export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message  the server's `error`, or a plain description
   * @param {{field?: string|null, retryAfter?: number, body?: any}} [details]
   */
  constructor(status, message, { field = null, retryAfter = 0, body = null } = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter; // seconds the server asked us to wait (429), else 0
    this.body = body;
  }

  get retryable() {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

/** No answer: the network failed, timed out, or the answer did not arrive whole. */
export class NetworkError extends Error {
  /** @param {string} [message] */
  constructor(message) {
    super(message || "No connection to the server");
    this.name = "NetworkError";
  }

  get retryable() {
    return true;
  }
}

/** @param {string} token */
export const bearer = (token) => ({ Authorization: `Bearer ${token}` });

/**
 * @typedef {object} RequestOptions
 * @property {string} [token]     sent as `Authorization: Bearer <token>`
 * @property {unknown} [json]     a body sent as JSON
 * @property {BodyInit} [form]    a body sent as it is (FormData, Blob)
 * @property {Record<string, string>} [headers]
 * @property {number} [timeout]   milliseconds before giving up (NetworkError)
 * @property {"json"|"blob"} [as] how to read a successful answer
 * @property {AbortSignal} [signal] the caller's own abort: rethrown as it is, not as NetworkError
 */

/**
 * Call the API; resolves with the parsed answer (null for 204).
 * @param {string} method
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
export async function request(method, path, { token, json, form, headers = {}, timeout = 20000, as = "json", signal } = {}) {
  /** @type {Record<string, string>} */
  const sent = { Accept: "application/json", ...headers };
  if (token) sent.Authorization = `Bearer ${token}`;
  /** @type {BodyInit | undefined} */
  let body;
  if (json !== undefined) {
    sent["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const abort = () => controller.abort();
  signal?.addEventListener("abort", abort);
  let response;
  try {
    response = await fetch(path, {
      method, headers: sent, body, cache: "no-store", credentials: "same-origin", signal: controller.signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new NetworkError(controller.signal.aborted ? "The server took too long to answer" : undefined);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", abort);
  }
  if (response.status === 204) return null;
  if (response.ok && as === "blob") return response.blob();
  let data = null;
  try {
    data = await response.json();
  } catch {
    // A captive portal or proxy page, or a body cut off by a dropped connection.
    if (response.ok || response.status >= 500) throw new NetworkError("The answer did not arrive whole");
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("Retry-After")) || 0;
    throw new HttpError(response.status, data?.error || `The server answered ${response.status}`,
      { field: data?.field ?? null, retryAfter, body: data });
  }
  return data;
}
