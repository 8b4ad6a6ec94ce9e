// The unmodified Infinispan Node.js client authenticating against the
// secured hotgrid nodes test/security/run starts: SCRAM-SHA-256,
// SCRAM-SHA-512, PLAIN and DIGEST-MD5 over plain TCP, TLS and mutual TLS,
// and EXTERNAL with a client certificate. Addresses come from
// HOTGRID_SEC_PLAIN, HOTGRID_SEC_TLS and HOTGRID_SEC_MTLS, certificates from
// HOTGRID_SEC_CERTS. Run with: node --test security.js
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const infinispan = require('infinispan');

function env(name) {
  const v = process.env[name];
  assert.ok(v, `${name} is not set: run test/security/run`);
  return v;
}

function connect(transport, mech, user, password) {
  const [host, port] = env(`HOTGRID_SEC_${transport.toUpperCase()}`).split(':');
  const certs = env('HOTGRID_SEC_CERTS');
  const opts = {
    cacheName: 'respCache',
    maxRetries: 0,
    authentication: { enabled: true, saslMechanism: mech, userName: user, password, serverName: 'infinispan' },
  };
  if (transport !== 'plain') {
    opts.ssl = { enabled: true, trustCerts: [`${certs}/ca.pem`], sniHostName: 'localhost' };
    if (transport === 'mtls') {
      opts.ssl.clientAuth = { key: `${certs}/client-alice-key.pem`, cert: `${certs}/client-alice.pem` };
    }
  }
  return infinispan.client({ host, port: Number(port) }, opts);
}

for (const transport of ['plain', 'tls', 'mtls']) {
  for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN', 'DIGEST-MD5']) {
    test(`${mech} over ${transport}`, async () => {
      const key = `node-${transport}-${mech}`;
      const admin = await connect(transport, mech, 'admin', 'admin-pw');
      try {
        await admin.put(key, 'v1');
        assert.equal(await admin.get(key), 'v1');
      } finally {
        await admin.disconnect();
      }
      const observer = await connect(transport, mech, 'observer', 'observer-pw');
      try {
        assert.equal(await observer.get(key), 'v1');
        await assert.rejects(observer.put(key, 'v2'), /ISPN000287/);
        assert.equal(await observer.get(key), 'v1');
      } finally {
        await observer.disconnect();
      }
      // A wrong password gets no data.
      let denied = false;
      try {
        const bad = await connect(transport, mech, 'admin', 'wrong');
        try {
          await bad.get(key);
        } catch (e) {
          denied = true;
        }
        await bad.disconnect().catch(() => {});
      } catch (e) {
        denied = true;
      }
      assert.ok(denied, 'a wrong password was accepted');
    });
  }
}

test('EXTERNAL over mtls', async () => {
  const c = await connect('mtls', 'EXTERNAL', '', '');
  try {
    await c.put('node-external', 'v1');
    assert.equal(await c.get('node-external'), 'v1');
  } finally {
    await c.disconnect();
  }
});
