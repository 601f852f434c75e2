// The API client: one fetch wrapper, the session in sessionStorage, errors in words.
const SESSION_KEY = "gpuaas.session";

export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null");
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

/** An API answer that was not a success, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const HEADLINES = {
  NETWORK: "The server could not be reached. Check that it is running; the page retries on its own.",
  FORBIDDEN: "You are not allowed to do that.",
  NOT_FOUND: "That does not exist (or is not yours to see).",
  VALIDATION_ERROR: "Some of what you entered is not valid.",
  QUOTA_EXCEEDED: "This would go over your monthly GPU-hour quota.",
  BUDGET_EXCEEDED: "This would go over your team's monthly budget.",
  INVALID_TRANSITION: "The job has moved on meanwhile; the page now shows its current state.",
  SERVICE_UNAVAILABLE: "The service is briefly unavailable. Try again in a moment.",
  CONTENTION: "Many changes at once; try again in a moment.",
  PAYLOAD_TOO_LARGE: "What you sent is too large.",
  ALREADY_EXISTS: "That already exists.",
  IDEMPOTENCY_KEY_REUSED: "This form was already sent with different values; reload the form.",
  DEPENDENCY_FAILED: "A job this one depends on did not succeed.",
  DEPENDENCIES_NOT_MET: "The jobs this one depends on have not finished yet.",
  NEVER_FITS: "No capacity pool could ever run this job.",
  NO_CAPACITY: "No pool has room for this job now.",
  CAPACITY_IN_USE: "That capacity is in use.",
};

/** A sentence for the user: what went wrong in general, then the server's own explanation. */
export function describeError(error) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error?.message ?? error}`;
  const issues = error.details.issues?.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  const detail = issues?.length ? issues.join("; ") : error.message;
  const headline = HEADLINES[error.code];
  if (!headline) return detail || `The request failed (${error.status}).`;
  return detail && detail !== headline ? `${headline} ${detail}` : headline;
}

let onUnauthorized = () => {};
/** What to do when a signed-in request comes back 401 (the token expired or the account was disabled). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** Calls /api/v1`path`; resolves with the JSON body, rejects with an ApiError. */
export async function api(method, path, body, headers = {}) {
  const token = session.get()?.token;
  const init = { method, headers: { accept: "application/json", ...headers } };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (cause) {
    throw new ApiError(0, "NETWORK", cause?.message ?? "Network error");
  }
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (res.ok) return data;
  const { code, message, ...details } = data?.error ?? {};
  const error = new ApiError(res.status, code ?? `HTTP_${res.status}`, message ?? res.statusText, details);
  if (res.status === 401 && token) onUnauthorized(error);
  throw error;
}

export const get = (path) => api("GET", path);
export const post = (path, body, headers) => api("POST", path, body, headers);
export const put = (path, body) => api("PUT", path, body);
export const patch = (path, body) => api("PATCH", path, body);

/** A query string from the defined, non-empty values of `params`. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
