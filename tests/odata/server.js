// A real OData v4 service (JayStack's `odata-v4-server`) with two entity sets that reference
// each other, started by tests/shapes/odata.rs on an ephemeral loopback port:
//
//   Customers  key Id (Edm.String):  ALFKI, O'NEIL (a quote in the key), BONAP
//   Orders     key Id (Edm.Int32):   1 -> ALFKI, 2 -> GONE (lost in the restore), 3 -> O'NEIL
//
// `GET /Customers('O''NEIL')` is O'NEIL (OData doubles a quote inside a string key); an
// unknown key answers 404. It prints its base URL on stdout and exits when stdin closes.
const { ODataServer, ODataController, Edm, odata, HttpRequestError } = require('odata-v4-server');

const customers = [
  { Id: 'ALFKI', Name: 'Alfreds Futterkiste' },
  { Id: "O'NEIL", Name: "O'Neil & Sons" },
  { Id: 'BONAP', Name: 'Bon app' },
];
const orders = [
  { Id: 1, CustomerId: 'ALFKI' },
  { Id: 2, CustomerId: 'GONE' },
  { Id: 3, CustomerId: "O'NEIL" },
];

class NotFound extends HttpRequestError {
  constructor() { super(404, 'NotFound'); }
}

// TypeScript decorators, applied by hand (this file is plain JavaScript).
function decorate(decorators, target, key) {
  const desc = key === undefined ? undefined : Object.getOwnPropertyDescriptor(target, key);
  for (const d of decorators.reverse()) d(target, key, desc);
}

class Customer {}
decorate([Edm.Key, Edm.String], Customer.prototype, 'Id');
decorate([Edm.String], Customer.prototype, 'Name');
class Order {}
decorate([Edm.Key, Edm.Int32], Order.prototype, 'Id');
decorate([Edm.String], Order.prototype, 'CustomerId');

class CustomersController extends ODataController {
  find() { return customers; }
  findOne(key) { return found(customers, key); }
}
class OrdersController extends ODataController {
  find() { return orders; }
  findOne(key) { return found(orders, key); }
}

function found(rows, key) {
  const row = rows.find((r) => r.Id === key);
  if (!row) throw new NotFound();
  return row;
}

for (const [C, type] of [[CustomersController, Customer], [OrdersController, Order]]) {
  decorate([odata.GET], C.prototype, 'find');
  decorate([odata.GET], C.prototype, 'findOne');
  odata.key(C.prototype, 'findOne', 0);
  odata.type(type)(C);
}

class Shop extends ODataServer {}
odata.namespace('Shop')(Shop);
odata.controller(CustomersController, true)(Shop);
odata.controller(OrdersController, true)(Shop);

const server = Shop.create(0, '127.0.0.1');
server.on('listening', () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
