// A real Better Auth server for Task API's interop tests.
//
// In-memory storage (no native modules), email + password sign-in, and the JWT
// plugin (GET /api/auth/token, GET /api/auth/jwks).  Served by plain node:http
// on 127.0.0.1 only.  Every restart forgets all users and mints new keys.
//
// Environment:
//   PORT                    required; the TCP port on 127.0.0.1
//   BETTER_AUTH_SECRET      optional; a random secret per process by default
//   JWT_ISSUER              optional; the plugin's jwt.issuer   (default: base URL origin)
//   JWT_AUDIENCE            optional; the plugin's jwt.audience (default: base URL origin);
//                           a comma-separated value becomes a list
//   JWT_EXPIRATION          optional; the plugin's jwt.expirationTime, e.g. "3s" (default 15m)
//   JWKS_ROTATION_INTERVAL  optional; seconds, the plugin's jwks.rotationInterval
//   JWKS_GRACE_PERIOD       optional; seconds, the plugin's jwks.gracePeriod
//   JWT_ALG                 optional; EdDSA (default), ES256, ES512, RS256 or PS256
//   EXIT_ON_STDIN_CLOSE     optional; "1" = exit when stdin reaches EOF (the parent died)
//
// Prints exactly one line "READY <port>" to stdout once listening.

import { randomBytes } from "node:crypto";
import http from "node:http";
import process from "node:process";

import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

const HOST = "127.0.0.1";
const ALGORITHMS = new Set(["EdDSA", "ES256", "ES512", "RS256", "PS256"]);

function fail(message) {
  process.stderr.write(`better-auth rig: ${message}\n`);
  process.exit(2);
}

function optional(name) {
  const value = process.env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function positiveNumber(name) {
  const raw = optional(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) fail(`${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`);
  return value;
}

const portRaw = optional("PORT");
if (portRaw === undefined) fail("PORT is required");
const port = Number(portRaw);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`PORT must be 1..65535, got ${JSON.stringify(portRaw)}`);

if (process.env.NODE_ENV === "production") {
  // Better Auth turns its rate limiter on in production; tests need it off.
  fail("refusing to run with NODE_ENV=production (this is a test rig)");
}

const baseURL = `http://${HOST}:${port}`;
const secret = optional("BETTER_AUTH_SECRET") ?? randomBytes(32).toString("hex");

const alg = optional("JWT_ALG") ?? "EdDSA";
if (!ALGORITHMS.has(alg)) fail(`JWT_ALG must be one of ${[...ALGORITHMS].join(", ")}, got ${JSON.stringify(alg)}`);

const audienceRaw = optional("JWT_AUDIENCE");
const audience =
  audienceRaw !== undefined && audienceRaw.includes(",")
    ? audienceRaw.split(",").map((s) => s.trim()).filter(Boolean)
    : audienceRaw;

const jwtOptions = {};
const issuer = optional("JWT_ISSUER");
if (issuer !== undefined) jwtOptions.issuer = issuer;
if (audience !== undefined) jwtOptions.audience = audience;
const expirationTime = optional("JWT_EXPIRATION");
if (expirationTime !== undefined) jwtOptions.expirationTime = expirationTime;

const jwksOptions = { keyPairConfig: alg === "EdDSA" ? { alg, crv: "Ed25519" } : { alg } };
const rotationInterval = positiveNumber("JWKS_ROTATION_INTERVAL");
if (rotationInterval !== undefined) jwksOptions.rotationInterval = rotationInterval;
const gracePeriod = positiveNumber("JWKS_GRACE_PERIOD");
if (gracePeriod !== undefined) jwksOptions.gracePeriod = gracePeriod;

// The memory adapter needs every table the core and the JWT plugin use.
const db = { user: [], session: [], account: [], verification: [], jwks: [] };

const auth = betterAuth({
  baseURL,
  basePath: "/api/auth",
  secret,
  database: memoryAdapter(db),
  emailAndPassword: { enabled: true },
  trustedOrigins: [baseURL],
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  plugins: [jwt({ jwt: jwtOptions, jwks: jwksOptions })],
});

const handler = toNodeHandler(auth);

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
    return;
  }
  handler(req, res).catch((err) => {
    process.stderr.write(`better-auth rig: handler error: ${err?.stack ?? err}\n`);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("internal error\n");
  });
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`better-auth rig: ${signal}, shutting down\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

if (process.env.EXIT_ON_STDIN_CLOSE === "1") {
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => shutdown("stdin closed"));
  process.stdin.on("error", () => shutdown("stdin error"));
}

// Finish Better Auth's (async) initialisation before announcing readiness, so
// the first request is not the one that pays for it.
try {
  await auth.$context;
} catch (err) {
  fail(`initialisation failed: ${err?.stack ?? err}`);
}

server.on("error", (err) => fail(`cannot listen on ${HOST}:${port}: ${err.message}`));
server.listen(port, HOST, () => {
  process.stdout.write(`READY ${port}\n`);
});
