// The real OAuth2 authorization server of the auth tests (`oauth2-mock-server`: signed RS256
// JWTs, discovery, JWKS), started by tests/auth.rs on an ephemeral loopback port.
//
// It only issues a token to the client named by OAUTH2_CLIENT_ID / OAUTH2_CLIENT_SECRET (HTTP
// Basic or form fields), puts the requested `audience` into the token's `aud`, and prints one
// JSON line per event on stdout: `{"issuer": URL}` once listening, then `{"issued": TOKEN}` for
// every token it hands out. It exits when its stdin closes (the test ended).
import { OAuth2Server, Events } from 'oauth2-mock-server';

const clientId = process.env.OAUTH2_CLIENT_ID;
const clientSecret = process.env.OAUTH2_CLIENT_SECRET;

function presented(req) {
  const h = req.headers.authorization ?? '';
  if (h.startsWith('Basic ')) {
    const text = Buffer.from(h.slice(6), 'base64').toString('utf8');
    const i = text.indexOf(':');
    return [decodeURIComponent(text.slice(0, i)), decodeURIComponent(text.slice(i + 1))];
  }
  return [req.body.client_id, req.body.client_secret];
}

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
server.service.on(Events.BeforeTokenSigning, (token, req) => {
  if (req.body.audience !== undefined) token.payload.aud = req.body.audience;
});
server.service.on(Events.BeforeResponse, (response, req) => {
  const [id, secret] = presented(req);
  if (id !== clientId || secret !== clientSecret) {
    response.statusCode = 401;
    response.body = { error: 'invalid_client', error_description: 'client authentication failed' };
    return;
  }
  process.stdout.write(JSON.stringify({ issued: response.body.access_token }) + '\n');
});
await server.start(0, '127.0.0.1');
process.stdout.write(JSON.stringify({ issuer: server.issuer.url }) + '\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.stop();
  process.exit(0);
});
