// The real json-server (0.17, the npm package) of the apply tests, started by tests/apply_real.rs
// on an ephemeral loopback port. Usage: node server.js WORLD.json — the world (collections of
// records) is held in memory; the server prints `{"port": N}` once listening and exits when
// its stdin closes (the test ended).
const fs = require('fs');
const jsonServer = require('json-server');

const world = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const server = jsonServer.create();
server.use(jsonServer.defaults({ logger: false }));
server.use(jsonServer.router(world));
const listener = server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: listener.address().port }) + '\n');
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
