// HTTP calls to the Souk API: JSON in and out, the bearer token, and errors that say whether
// trying again later can help (network trouble, 5xx, 429) or not (any other 4xx).

export class ApiError extends Error {
  constructor(status, message, field = null, retryAfter = 0) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter; // seconds the server asked us to wait (429), else 0
  }

  get retryable() {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

export class NetworkError extends Error {
  constructor(message) {
    super(message || "No connection to the server");
    this.name = "NetworkError";
  }

  get retryable() {
    return true;
  }
}

function timeoutSignal(ms) {
  if (typeof AbortSignal.timeout === "function") return AbortSignal.timeout(ms);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms);
  return controller.signal;
}

export async function request(method, path, { token, json, form, timeout = 20000 } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, {
      method, headers, body, cache: "no-store", credentials: "same-origin", signal: timeoutSignal(timeout),
    });
  } catch (error) {
    throw new NetworkError(error?.name === "TimeoutError" ? "The server took too long to answer" : undefined);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    // A captive portal or proxy page, or a body cut off by a dropped connection.
    if (response.ok || response.status >= 500) throw new NetworkError("The answer did not arrive whole");
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("Retry-After")) || 0;
    throw new ApiError(response.status, data?.error || `The server answered ${response.status}`, data?.field ?? null, retryAfter);
  }
  return data;
}
