// Reads or writes one text/plain entry with the Node.js Infinispan client;
// the Java suite uses it to check that each client reads what the other
// wrote. Usage: node cross.js get|put PORT CACHE KEY [VALUE]
'use strict';
const infinispan = require('infinispan');

async function main() {
  const [op, port, cacheName, key, value] = process.argv.slice(2);
  const client = await infinispan.client({ port: Number(port), host: '127.0.0.1' },
    { cacheName, dataFormat: { keyType: 'text/plain', valueType: 'text/plain' } });
  try {
    if (op === 'get') {
      const v = await client.get(key);
      if (v === undefined) throw new Error(`key ${key} not found`);
      process.stdout.write(v + '\n');
    } else if (op === 'put') {
      await client.put(key, value);
    } else {
      throw new Error(`unknown operation ${op}`);
    }
  } finally {
    await client.disconnect();
  }
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
