// Sign in against a Cognito user pool and open Paddle's customer portal through paddle-portal. No dependencies, no
// build step: a browser loads this file as a module (examples/web/README.md).
//
// Tokens live in this module's variables only, never in localStorage, sessionStorage, cookies or a URL: any script
// that gets injected into the page (XSS) can read storage and cookies a script may read, and a URL travels in the
// browser's history, in Referer headers and in server and proxy logs. The cost: a reload signs the user out.

const COGNITO_TARGET = "AWSCognitoIdentityProviderService.InitiateAuth";
const EXPIRY_MARGIN_MS = 30_000; // ask for a new sign-in shortly before the ID token expires, not after

let config = null; // from config.json: { apiUrl, cognito: { region, endpoint, clientId } }
let session = null; // { idToken, email, expiresAt }: the ID token (it carries the customer claim and the email)

/** A failure to show to the user as it is (already readable). */
class ShownError extends Error {}

/** config.json next to the page: where the API and the user pool are (README: "config.json"). */
export async function loadConfig(url = "config.json") {
  let answer;
  try {
    answer = await fetch(url, { cache: "no-store" });
  } catch {
    throw new ShownError("This page could not load its settings (config.json). Reload to try again.");
  }
  const loaded = answer.ok ? await answer.json().catch(() => null) : null;
  const cognito = loaded?.cognito ?? {};
  const endpoint = cognito.endpoint || (cognito.region ? `https://cognito-idp.${cognito.region}.amazonaws.com/` : "");
  if (!isHttpUrl(loaded?.apiUrl) || !isHttpUrl(endpoint) || typeof cognito.clientId !== "string" || !cognito.clientId) {
    throw new ShownError("This page is not configured: config.json needs apiUrl, cognito.region and cognito.clientId.");
  }
  return { apiUrl: loaded.apiUrl.replace(/\/+$/, ""), cognito: { ...cognito, endpoint } };
}

/** Cognito's InitiateAuth with USER_PASSWORD_AUTH: unsigned JSON, as the AWS SDKs send it. Resolves to the ID token. */
export async function signIn(cognito, email, password) {
  let answer;
  try {
    answer = await fetch(cognito.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": COGNITO_TARGET },
      body: JSON.stringify({
        AuthFlow: "USER_PASSWORD_AUTH",
        ClientId: cognito.clientId,
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
      cache: "no-store",
    });
  } catch {
    throw new ShownError("Could not reach the sign-in service. Check your connection and try again.");
  }
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new ShownError(signInFailure(body));
  const idToken = body.AuthenticationResult?.IdToken;
  if (!idToken) {
    // A challenge (new password, MFA...) this small page does not handle; your app's sign-in would.
    throw new ShownError(`Sign-in needs a step this page does not support (${body.ChallengeName ?? "no token"}).`);
  }
  // The access and refresh tokens are not kept: this page does not need them, and what is not kept cannot leak.
  return idToken;
}

function signInFailure(body) {
  const type = String(body.__type ?? "").split("#").pop();
  switch (type) {
    case "NotAuthorizedException":
    case "UserNotFoundException":
      return "Incorrect email or password.";
    case "UserNotConfirmedException":
      return "Confirm your account first (see the email you received).";
    case "PasswordResetRequiredException":
      return "Reset your password before signing in.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a moment and try again.";
    default:
      return `Sign-in failed${type ? ` (${type})` : ""}. Try again later.`;
  }
}

/** The ID token's claims, for display and for its expiry only: the API verifies the token, this page cannot. */
export function readClaims(token) {
  const part = String(token).split(".")[1] ?? "";
  const binary = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
}

/**
 * POST {apiUrl}/portal-links with the ID token: a short-lived signed link for the signed-in user's own customer (the
 * API takes the customer from the token, never from the request). Resolves to the link; navigating to it answers
 * 302 to Paddle's portal. `body`: {} for the overview, or {"action", "subscription_id"} for a deep link.
 */
export async function requestPortalLink(apiUrl, idToken, body = {}) {
  let answer;
  try {
    answer = await fetch(`${apiUrl}/portal-links`, {
      method: "POST",
      headers: { Authorization: `Bearer ${idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    // fetch rejects without details both offline and when the API refuses this page's origin (CORS): the person gets
    // what they can do, the developer the likely causes in the console.
    globalThis.console?.warn(`${apiUrl}/portal-links: no answer (offline, or ${globalThis.location?.origin} not allowed by CORS)`);
    throw new ShownError("Could not reach the billing service. Check your connection and try again.");
  }
  const answered = await answer.json().catch(() => null);
  if (answer.status !== 201) {
    throw Object.assign(new ShownError(apiFailure(answer.status, answered)), { status: answer.status });
  }
  let link;
  try {
    link = new URL(answered?.data?.url);
  } catch {
    throw new ShownError("The billing service answered without a link. Try again later.");
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(link.hostname);
  if (!(link.protocol === "https:" || (link.protocol === "http:" && loopback))) {
    throw new ShownError("The billing service answered an unexpected link; it was not opened.");
  }
  return link.href;
}

/**
 * A sentence for a person about an error answer: paddle-portal's envelope {"error": {"type", "code", "detail"}, "meta":
 * {"request_id"}}, or API Gateway's own {"message": "..."} (401 Unauthorized, 403 Forbidden, 429...). What they can do,
 * and the facts support needs (status, code, reference); the developer's detail goes to the console only.
 */
export function apiFailure(status, body) {
  const error = body?.error ?? {};
  const code = typeof error.code === "string" ? error.code : "";
  const known = {
    forbidden: "Your account is not linked to a billing account yet. Contact support to have it linked.",
    not_found: "No billing account was found for your account.",
    ambiguous_customer: "Several billing accounts match your email; contact support to sort it out.",
    too_many_requests: "Too many attempts. Wait a moment and try again.",
  };
  let text;
  if (status === 401) text = "Your sign-in was not accepted (it may have expired). Sign in again.";
  else if (known[code]) text = known[code];
  else if (status === 429) text = known.too_many_requests;
  else if (status >= 500) text = "The billing service is unavailable right now. Try again later.";
  else text = "The billing portal could not be opened.";
  const detail = typeof error.detail === "string" ? error.detail : body?.message;
  const fields = Array.isArray(error.errors) ? error.errors.map((e) => `${e.field}: ${e.message}`).join("; ") : "";
  const reference = body?.meta?.request_id;
  const facts = [`HTTP ${status}`, code, reference && `reference ${reference}`].filter(Boolean).join(", ");
  if (detail || fields) globalThis.console?.warn(`billing service: HTTP ${status} ${code}: ${detail ?? ""} ${fields}`);
  return `${text} [${facts}]`;
}

function isHttpUrl(value) {
  try {
    return ["https:", "http:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

// --- the page (index.html) ---

function element(id) {
  return document.getElementById(id);
}

function show(kind, text) {
  element("status").textContent = kind === "status" ? text : ""; // textContent: answers are never parsed as HTML
  element("message").textContent = kind === "alert" ? text : "";
}

function render() {
  element("sign-in").hidden = session !== null;
  element("account").hidden = session === null;
  element("who").textContent = session?.email ?? "";
}

function signOut(message = "") {
  session = null;
  render();
  show("alert", message);
}

async function onSignIn(event) {
  event.preventDefault();
  const button = event.submitter ?? element("sign-in").querySelector("button");
  const password = element("password");
  button.disabled = true;
  show("status", "Signing in…");
  try {
    const idToken = await signIn(config.cognito, element("email").value.trim(), password.value);
    const claims = readClaims(idToken);
    session = { idToken, email: claims.email ?? "", expiresAt: Number(claims.exp) * 1000 };
    password.value = "";
    render();
    show("status", "");
  } catch (error) {
    show("alert", error instanceof ShownError ? error.message : "Sign-in failed. Try again.");
  } finally {
    button.disabled = false;
  }
}

async function onManageBilling() {
  if (session === null || Date.now() > session.expiresAt - EXPIRY_MARGIN_MS) {
    signOut("Your sign-in has expired. Sign in again.");
    return;
  }
  const button = element("manage-billing");
  button.disabled = true;
  show("status", "Opening the billing portal…");
  try {
    const link = await requestPortalLink(config.apiUrl, session.idToken);
    // A navigation, not a fetch: the link answers 302 to Paddle's portal, which the browser follows.
    window.location.assign(link);
  } catch (error) {
    button.disabled = false;
    const text = error instanceof ShownError ? error.message : "The billing portal could not be opened.";
    if (error.status === 401) signOut(text);
    else show("alert", text);
  }
}

async function start() {
  element("sign-in").addEventListener("submit", onSignIn);
  element("manage-billing").addEventListener("click", onManageBilling);
  element("sign-out").addEventListener("click", () => signOut());
  // Back from the portal, the browser may restore this page as it was left (token still in memory, button disabled).
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      element("manage-billing").disabled = false;
      show("status", "");
    }
  });
  try {
    config = await loadConfig();
    element("sign-in").querySelector("button").disabled = false;
  } catch (error) {
    show("alert", error instanceof ShownError ? error.message : "This page could not start.");
  }
}

if (globalThis.document?.getElementById("sign-in")) start();
