// The unmodified Infinispan Node.js client (npm "infinispan" 0.16) against a
// real hotgrid server: every operation the client exposes, with its default
// protocol auto-negotiation and pinned to 2.9, 3.0, 3.1 and 4.0.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const infinispan = require('infinispan');
const { start } = require('./server');

// At 4.0+ the client returns a previous value with its metadata.
const prevValue = (x) => (x !== null && typeof x === 'object' ? x.value : x);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor polls cond until it holds or 5 s pass.
async function waitFor(cond, what) {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let server;
before(async () => { server = await start(); });
after(async () => { await server.stop(); });

const connect = (version, extra = {}) => infinispan.client({ port: server.port, host: '127.0.0.1' },
  Object.assign({ version }, extra));

for (const version of ['auto', '2.9', '3.0', '3.1', '4.0']) {
  describe(`protocol ${version}`, () => {
    let client;
    const p = (k) => `${version}-${k}`; // keys per run so runs do not collide
    before(async () => { client = await connect(version); });
    after(async () => { await client.disconnect(); });

    test('negotiates a version the server serves', () => {
      const v = client.getProtocolVersion();
      if (version === 'auto') assert.ok(['4.1', '4.0'].includes(v), v);
      else assert.equal(v, version);
    });

    test('ping', async () => { await client.ping(); });

    test('put, get and previous values', async () => {
      assert.equal(await client.put(p('a'), 'one'), undefined);
      assert.equal(await client.get(p('a')), 'one');
      assert.equal(prevValue(await client.put(p('a'), 'two', { previous: true })), 'one');
      assert.equal(await client.get(p('a')), 'two');
      assert.equal(await client.get(p('absent')), undefined);
    });

    test('getWithMetadata', async () => {
      await client.put(p('m'), 'v', { lifespan: '1m', maxIdle: '30s' });
      const m = await client.getWithMetadata(p('m'));
      assert.equal(m.value, 'v');
      assert.equal(m.lifespan, 60);
      assert.equal(m.maxIdle, 30);
      assert.ok(Buffer.isBuffer(m.version) && m.version.length === 8);
      assert.ok(Math.abs(m.created - Date.now()) < 60000, `created ${m.created}`);
      assert.ok(m.lastUsed > 0);
      await client.put(p('m'), 'w');
      const m2 = await client.getWithMetadata(p('m'));
      assert.notDeepEqual(m2.version, m.version);
      assert.equal(m2.lifespan, -1);
      assert.equal(await client.getWithMetadata(p('none')), undefined);
    });

    test('conditional operations', async () => {
      assert.equal(await client.putIfAbsent(p('c'), 'a'), true);
      assert.equal(await client.putIfAbsent(p('c'), 'b'), false);
      assert.equal(prevValue(await client.putIfAbsent(p('c'), 'b', { previous: true })), 'a');
      assert.equal(await client.replace(p('c-absent'), 'x'), false);
      assert.equal(await client.replace(p('c'), 'c'), true);
      const m = await client.getWithMetadata(p('c'));
      const stale = Buffer.from(m.version);
      stale[7] ^= 1;
      assert.equal(await client.replaceWithVersion(p('c'), 'd', stale), false);
      assert.equal(await client.replaceWithVersion(p('c'), 'd', m.version), true);
      assert.equal(await client.get(p('c')), 'd');
      const m2 = await client.getWithMetadata(p('c'));
      assert.equal(await client.removeWithVersion(p('c'), m.version), false);
      assert.equal(await client.removeWithVersion(p('c'), m2.version), true);
      assert.equal(await client.containsKey(p('c')), false);
      await client.put(p('r'), 'x');
      assert.equal(await client.containsKey(p('r')), true);
      assert.equal(prevValue(await client.remove(p('r'), { previous: true })), 'x');
      assert.equal(await client.remove(p('r')), false);
    });

    test('putAll, getAll, size, stats and clear', async () => {
      const other = await connect(version, { cacheName: 'expCache' });
      try {
        await other.clear();
        await other.putAll([{ key: 'x', value: '1' }, { key: 'y', value: '2' }, { key: 'z', value: '3' }]);
        const got = await other.getAll(['x', 'z', 'missing']);
        assert.deepEqual(got.sort((a, b) => a.key.localeCompare(b.key)), [{ key: 'x', value: '1' }, { key: 'z', value: '3' }]);
        assert.equal(await other.size(), 3);
        const stats = await other.stats();
        assert.equal(Number(stats.currentNumberOfEntries), 3, JSON.stringify(stats));
        assert.ok(Number(stats.stores) >= 3, JSON.stringify(stats));
        assert.ok(Number(stats.timeSinceStart) >= 0, JSON.stringify(stats));
        await other.clear();
        assert.equal(await other.size(), 0);
      } finally {
        await other.disconnect();
      }
    });

    test('iteration in batches, with and without metadata', async () => {
      const it3 = await connect(version, { cacheName: 'expCache' });
      try {
        await it3.clear();
        const pairs = [];
        for (let i = 0; i < 250; i++) pairs.push({ key: `it${i}`, value: `v${i}` });
        await it3.putAll(pairs);
        for (const [batch, metadata] of [[1, false], [3, true], [100, false], [100, true]]) {
          const it = await it3.iterator(batch, { metadata });
          const seen = new Map();
          for (let e = await it.next(); !e.done; e = await it.next()) {
            assert.ok(!seen.has(e.key), `duplicate ${e.key}`);
            seen.set(e.key, e.value);
            if (metadata) assert.ok(e.version && e.lifespan === -1, JSON.stringify(e));
          }
          await it.close();
          assert.equal(seen.size, 250, `batch ${batch}`);
          assert.equal(seen.get('it7'), 'v7');
        }
        await it3.clear();
      } finally {
        await it3.disconnect();
      }
    });

    test('listeners: create, modify, remove, expiry, include state', async () => {
      const c = await connect(version, { cacheName: 'expCache' });
      try {
        await c.clear();
        await c.put('pre', 'v');
        const events = [];
        const id = await c.addListener('create', (k) => events.push(`create:${k}`), { includeState: true });
        await c.addListener('modify', (k) => events.push(`modify:${k}`), { listenerId: id });
        await c.addListener('remove', (k) => events.push(`remove:${k}`), { listenerId: id });
        await c.addListener('expiry', (k) => events.push(`expiry:${k}`), { listenerId: id });
        await waitFor(() => events.includes('create:pre'), 'include-state event');
        await c.put('k', '1');
        await c.put('k', '2');
        await c.remove('k');
        await c.put('e', 'x', { lifespan: '300ms' });
        await waitFor(() => events.includes('expiry:e'), 'expiry event');
        assert.deepEqual(events, ['create:pre', 'create:k', 'modify:k', 'remove:k', 'create:e', 'expiry:e']);
        await c.removeListener(id);
        await c.put('after', 'x');
        await sleep(200);
        assert.equal(events.length, 6, 'no events after removeListener');
      } finally {
        await c.disconnect();
      }
    });

    test('expiration with lifespan and max idle', async () => {
      await client.put(p('ls'), 'v', { lifespan: '500ms' });
      await client.put(p('ls-s'), 'v', { lifespan: '1s' });
      await client.put(p('mi'), 'v', { maxIdle: '600ms' });
      await client.put(p('forever'), 'v', { lifespan: -1 });
      await sleep(350);
      assert.equal(await client.get(p('mi')), 'v'); // touch
      await sleep(350);
      assert.equal(await client.get(p('ls')), undefined);
      assert.equal(await client.get(p('mi')), 'v');
      await sleep(700);
      assert.equal(await client.get(p('ls-s')), undefined);
      assert.equal(await client.get(p('mi')), undefined);
      assert.equal(await client.get(p('forever')), 'v');
    });

    test('admin: create, list and remove caches at runtime', async () => {
      const name = `rt-${version.replace('.', '')}`;
      await client.admin.createCache(name, `<local-cache><encoding media-type="text/plain"/></local-cache>`);
      await client.admin.getOrCreateCache(`${name}-t`, undefined, { template: 'org.infinispan.DIST_SYNC' });
      const names = await client.admin.cacheNames();
      assert.ok(names.includes(name) && names.includes(`${name}-t`), JSON.stringify(names));
      const rt = await connect(version, { cacheName: name });
      await rt.put('k', 'v');
      assert.equal(await rt.get('k'), 'v');
      await rt.disconnect();
      await client.admin.removeCache(name);
      await client.admin.removeCache(`${name}-t`);
      assert.ok(!(await client.admin.cacheNames()).includes(name));
      await assert.rejects(client.admin.createCache('default', '<local-cache/>'), /exists/);
    });

    test('execute runs admin tasks', async () => {
      const names = JSON.parse(await client.execute('@@cache@names', {}));
      assert.ok(names.includes('default'), JSON.stringify(names));
    });

    test('a missing cache is reported as CacheNotFoundException', async () => {
      await assert.rejects(async () => {
        const c = await connect(version, { cacheName: 'no-such-cache' });
        try { await c.get('k'); } finally { await c.disconnect(); }
      }, /CacheNotFoundException/);
    });

    test('application/json data format on a JSON cache', async () => {
      const c = await connect(version, { cacheName: 'jsonCache', dataFormat: { keyType: 'application/json', valueType: 'application/json' } });
      try {
        await c.put({ id: 1 }, { name: 'ada', langs: ['en'] });
        assert.deepEqual(await c.get({ id: 1 }), { name: 'ada', langs: ['en'] });
      } finally {
        await c.disconnect();
      }
    });

    test('5000 concurrent operations on one client', async () => {
      const keys = Array.from({ length: 5000 }, (_, i) => p(`bulk${i}`));
      await Promise.all(keys.map((k, i) => client.put(k, `v${i}`)));
      const values = await Promise.all(keys.map((k) => client.get(k)));
      values.forEach((v, i) => assert.equal(v, `v${i}`));
    });
  });
}
