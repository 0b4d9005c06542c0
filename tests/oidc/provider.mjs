// A real OIDC provider for the tests: discovery, JWKS and RS256-signed ID tokens from
// oauth2-mock-server, plus a small control API on the same port for the tests:
//   POST /control/token   {claims, kid?, expiresIn?, header?}  -> {token}   (an ID token)
//   POST /control/rotate  {alg?}                                -> {kid}     (new signing key)
//   POST /control/jwks    {status?, cacheControl?}                            (how JWKS answers)
//   GET  /control/stats                                         -> {jwksRequests}
// Usage: node provider.mjs [port]; prints one JSON line {"issuer": ..., "kid": ...} when ready.
import http from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number(process.argv[2] || 0);
const server = new OAuth2Server();
let currentKid = (await server.issuer.keys.generate('RS256')).kid;
let jwksStatus = 200;
let cacheControl = 'max-age=300';
let jwksRequests = 0;

const handler = server.service.requestHandler;

function body(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => resolve(data ? JSON.parse(data) : {}));
  });
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const httpServer = http.createServer(async (req, res) => {
  try {
    if (req.url === '/control/token' && req.method === 'POST') {
      const { claims = {}, kid, expiresIn = 300, header = {}, remove = [] } = await body(req);
      const token = await server.issuer.buildToken({
        kid: kid || currentKid,
        expiresIn,
        scopesOrTransform: (h, payload) => {
          Object.assign(h, header);
          Object.assign(payload, claims);
          for (const name of remove) delete payload[name];
        },
      });
      return json(res, 200, { token });
    }
    if (req.url === '/control/rotate' && req.method === 'POST') {
      const { alg = 'RS256' } = await body(req);
      currentKid = (await server.issuer.keys.generate(alg)).kid;
      return json(res, 200, { kid: currentKid });
    }
    if (req.url === '/control/jwks' && req.method === 'POST') {
      const opts = await body(req);
      if (opts.status !== undefined) jwksStatus = opts.status;
      if (opts.cacheControl !== undefined) cacheControl = opts.cacheControl;
      return json(res, 200, { status: jwksStatus, cacheControl });
    }
    if (req.url === '/control/stats') {
      return json(res, 200, { jwksRequests });
    }
    if (req.url === '/jwks') {
      jwksRequests += 1;
      if (jwksStatus !== 200) return json(res, jwksStatus, { error: 'unavailable' });
      res.setHeader('cache-control', cacheControl);
    }
    return handler(req, res);
  } catch (err) {
    return json(res, 500, { error: String(err) });
  }
});

httpServer.listen(port, '127.0.0.1', () => {
  const actual = httpServer.address().port;
  server.issuer.url = `http://127.0.0.1:${actual}`;
  process.stdout.write(JSON.stringify({ issuer: server.issuer.url, kid: currentKid }) + '\n');
});

process.on('SIGTERM', () => httpServer.close(() => process.exit(0)));
