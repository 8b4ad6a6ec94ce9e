package org.hotgrid.compat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.infinispan.client.hotrod.Flag;
import org.infinispan.client.hotrod.MetadataValue;
import org.infinispan.client.hotrod.RemoteCache;
import org.infinispan.client.hotrod.RemoteCacheManager;
import org.infinispan.client.hotrod.ServerStatistics;
import org.infinispan.client.hotrod.annotation.ClientCacheEntryCreated;
import org.infinispan.client.hotrod.annotation.ClientCacheEntryExpired;
import org.infinispan.client.hotrod.annotation.ClientCacheEntryModified;
import org.infinispan.client.hotrod.annotation.ClientCacheEntryRemoved;
import org.infinispan.client.hotrod.annotation.ClientListener;
import org.infinispan.client.hotrod.configuration.ConfigurationBuilder;
import org.infinispan.client.hotrod.event.ClientCacheEntryCreatedEvent;
import org.infinispan.client.hotrod.event.ClientCacheEntryCustomEvent;
import org.infinispan.client.hotrod.event.ClientCacheEntryExpiredEvent;
import org.infinispan.client.hotrod.event.ClientCacheEntryModifiedEvent;
import org.infinispan.client.hotrod.event.ClientCacheEntryRemovedEvent;
import org.infinispan.commons.configuration.StringConfiguration;
import org.infinispan.commons.util.CloseableIterator;
import org.infinispan.commons.util.KeyValueWithPrevious;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Drives the unmodified Infinispan Java Hot Rod client (default protocol
 * negotiation) through every operation hotgrid serves, against a real
 * hotgrid server process.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HotRodCompatTest {
   HotgridServer server;
   RemoteCacheManager rcm;

   @BeforeAll
   void start() throws Exception {
      server = new HotgridServer("hotgrid.xml");
      rcm = new RemoteCacheManager(new ConfigurationBuilder()
            .addServer().host("127.0.0.1").port(server.port).build());
   }

   @AfterAll
   void stop() throws Exception {
      if (rcm != null) rcm.stop();
      if (server != null) server.close();
   }

   RemoteCache<String, String> cache(String name) {
      RemoteCache<String, String> c = rcm.getCache(name);
      assertNotNull(c, "cache " + name);
      return c;
   }

   @Test
   void connectsToDefaultNamedAndMissingCaches() {
      assertNotNull(rcm.getCache());
      assertNotNull(rcm.getCache("textCache"));
      assertNull(rcm.getCache("no-such-cache"), "a missing cache is null, as with Infinispan");
   }

   @Test
   void putGetAndForceReturnValue() {
      RemoteCache<String, String> c = cache("default");
      assertNull(c.put("pg-k", "v1"));
      assertEquals("v1", c.get("pg-k"));
      assertEquals("v1", c.withFlags(Flag.FORCE_RETURN_VALUE).put("pg-k", "v2"));
      assertEquals("v2", c.get("pg-k"));
      assertNull(c.get("pg-absent"));
      assertNull(c.withFlags(Flag.FORCE_RETURN_VALUE).put("pg-new", "x"));
   }

   @Test
   void metadataAndVersions() {
      RemoteCache<String, String> c = cache("default");
      long before = System.currentTimeMillis();
      c.put("md-k", "v", 60, TimeUnit.SECONDS, 30, TimeUnit.SECONDS);
      MetadataValue<String> mv = c.getWithMetadata("md-k");
      assertEquals("v", mv.getValue());
      assertEquals(60, mv.getLifespan());
      assertEquals(30, mv.getMaxIdle());
      assertTrue(mv.getCreated() >= before - 1000 && mv.getCreated() <= System.currentTimeMillis() + 1000);
      assertTrue(mv.getLastUsed() >= before - 1000);
      long v1 = mv.getVersion();
      c.put("md-k", "v2");
      MetadataValue<String> mv2 = c.getWithMetadata("md-k");
      assertNotEquals(v1, mv2.getVersion());
      assertEquals(-1, mv2.getLifespan());
      assertEquals(-1, mv2.getMaxIdle());
      assertNull(c.getWithMetadata("md-absent"));
   }

   @Test
   void conditionalOperations() {
      RemoteCache<String, String> c = cache("default");
      assertNull(c.putIfAbsent("co-k", "a"));
      assertEquals("a", c.withFlags(Flag.FORCE_RETURN_VALUE).putIfAbsent("co-k", "b"));
      assertEquals("a", c.get("co-k"));
      assertNull(c.replace("co-absent", "x"));
      assertFalse(c.containsKey("co-absent"));
      assertEquals("a", c.withFlags(Flag.FORCE_RETURN_VALUE).replace("co-k", "c"));
      long version = c.getWithMetadata("co-k").getVersion();
      assertFalse(c.replaceWithVersion("co-k", "d", version + 1), "stale version");
      assertTrue(c.replaceWithVersion("co-k", "d", version));
      assertEquals("d", c.get("co-k"));
      long v2 = c.getWithMetadata("co-k").getVersion();
      assertFalse(c.removeWithVersion("co-k", version), "stale version");
      assertTrue(c.containsKey("co-k"));
      assertTrue(c.removeWithVersion("co-k", v2));
      assertFalse(c.containsKey("co-k"));
      c.put("co-r", "x");
      assertEquals("x", c.withFlags(Flag.FORCE_RETURN_VALUE).remove("co-r"));
      assertNull(c.withFlags(Flag.FORCE_RETURN_VALUE).remove("co-r"));
   }

   @Test
   void sizeClearAndStatistics() {
      RemoteCache<String, String> c = cache("idleCache");
      c.clear();
      assertTrue(c.isEmpty());
      ServerStatistics s0 = c.serverStatistics();
      int stores0 = s0.getIntStatistic(ServerStatistics.STORES);
      int hits0 = s0.getIntStatistic(ServerStatistics.HITS);
      int misses0 = s0.getIntStatistic(ServerStatistics.MISSES);
      for (int i = 0; i < 10; i++) c.put("sz-" + i, "v");
      c.get("sz-1");
      c.get("sz-none");
      assertEquals(10, c.size());
      assertFalse(c.isEmpty());
      ServerStatistics s1 = c.serverStatistics();
      assertEquals(stores0 + 10, s1.getIntStatistic(ServerStatistics.STORES));
      assertEquals(hits0 + 1, s1.getIntStatistic(ServerStatistics.HITS));
      assertEquals(misses0 + 1, s1.getIntStatistic(ServerStatistics.MISSES));
      assertEquals(10, s1.getIntStatistic(ServerStatistics.CURRENT_NR_OF_ENTRIES));
      c.clear();
      assertEquals(0, c.size());
   }

   @Test
   void putAllAndGetAll() {
      RemoteCache<String, String> c = cache("default");
      Map<String, String> m = new HashMap<>();
      for (int i = 0; i < 50; i++) m.put("pa-" + i, "v" + i);
      c.putAll(m);
      Set<String> keys = new HashSet<>(List.of("pa-0", "pa-49", "pa-missing"));
      Map<String, String> got = c.getAll(keys);
      assertEquals(Map.of("pa-0", "v0", "pa-49", "v49"), got);
   }

   @Test
   void iterationInBatches() {
      RemoteCache<String, String> c = cache("textCache");
      c.clear();
      Map<String, String> m = new HashMap<>();
      for (int i = 0; i < 5000; i++) m.put("it-" + i, "v" + i);
      c.putAll(m);
      for (int batch : new int[] {1, 3, 100, 5000}) {
         Map<Object, Object> seen = new HashMap<>();
         try (CloseableIterator<Map.Entry<Object, Object>> it = c.retrieveEntries(null, batch)) {
            while (it.hasNext()) {
               Map.Entry<Object, Object> e = it.next();
               assertNull(seen.put(e.getKey(), e.getValue()), "duplicate " + e.getKey());
               if (batch == 1 && seen.size() == 200) break; // batch 1 is slow; a prefix proves it
            }
         }
         if (batch != 1) assertEquals(m, seen, "batch " + batch);
      }
      assertEquals(m.keySet(), new HashSet<>(c.keySet()));
      assertEquals(new HashSet<>(m.values()), new HashSet<>(c.values()));
      assertEquals(5000, c.entrySet().size());
      int withMeta = 0;
      try (CloseableIterator<Map.Entry<Object, MetadataValue<Object>>> it = c.retrieveEntriesWithMetadata(null, 100)) {
         while (it.hasNext()) {
            Map.Entry<Object, MetadataValue<Object>> e = it.next();
            assertEquals(m.get(e.getKey()), e.getValue().getValue());
            assertNotEquals(0, e.getValue().getVersion());
            withMeta++;
         }
      }
      assertEquals(5000, withMeta);
      c.clear();
   }

   @ClientListener(includeCurrentState = true)
   public static class Recorder {
      final BlockingQueue<String> events = new LinkedBlockingQueue<>();

      @ClientCacheEntryCreated
      public void created(ClientCacheEntryCreatedEvent<String> e) {
         events.add("created:" + e.getKey() + ":" + (e.getVersion() != 0));
      }

      @ClientCacheEntryModified
      public void modified(ClientCacheEntryModifiedEvent<String> e) {
         events.add("modified:" + e.getKey());
      }

      @ClientCacheEntryRemoved
      public void removed(ClientCacheEntryRemovedEvent<String> e) {
         events.add("removed:" + e.getKey());
      }

      @ClientCacheEntryExpired
      public void expired(ClientCacheEntryExpiredEvent<String> e) {
         events.add("expired:" + e.getKey());
      }
   }

   static String next(BlockingQueue<String> q) throws InterruptedException {
      String s = q.poll(5, TimeUnit.SECONDS);
      assertNotNull(s, "no event within 5 s");
      return s;
   }

   @Test
   void listenersReceiveEveryKindOfEvent() throws Exception {
      RemoteCache<String, String> c = cache("expCache");
      c.clear();
      c.put("ls-pre", "v", -1, TimeUnit.SECONDS);
      Recorder r = new Recorder();
      c.addClientListener(r);
      assertEquals("created:ls-pre:true", next(r.events), "include current state");
      c.put("ls-k", "1", -1, TimeUnit.SECONDS);
      assertEquals("created:ls-k:true", next(r.events));
      c.put("ls-k", "2", -1, TimeUnit.SECONDS);
      assertEquals("modified:ls-k", next(r.events));
      c.remove("ls-k");
      assertEquals("removed:ls-k", next(r.events));
      c.withFlags(Flag.SKIP_LISTENER_NOTIFICATION).put("ls-quiet", "x", -1, TimeUnit.SECONDS);
      c.put("ls-exp", "x", 300, TimeUnit.MILLISECONDS);
      assertEquals("created:ls-exp:true", next(r.events), "skip-listener write must not be seen");
      assertEquals("expired:ls-exp", next(r.events), "the reaper expires the entry");
      c.removeClientListener(r);
      c.put("ls-after", "x");
      assertNull(r.events.poll(500, TimeUnit.MILLISECONDS), "events after removeClientListener");
   }

   @ClientListener(converterFactoryName = "key-value-with-previous-converter-factory")
   public static class WithPrevious {
      final BlockingQueue<KeyValueWithPrevious<String, String>> events = new LinkedBlockingQueue<>();

      @ClientCacheEntryCreated
      @ClientCacheEntryModified
      @ClientCacheEntryRemoved
      public void any(ClientCacheEntryCustomEvent<KeyValueWithPrevious<String, String>> e) {
         events.add(e.getEventData());
      }
   }

   @Test
   void keyValueWithPreviousConverter() throws Exception {
      // The converter's output type lives in Infinispan's global.commons
      // schema, which an application registers to receive it.
      RemoteCacheManager withSchema = new RemoteCacheManager(new ConfigurationBuilder()
            .addServer().host("127.0.0.1").port(server.port)
            .addContextInitializer(org.infinispan.commons.GlobalContextInitializer.INSTANCE).build());
      RemoteCache<String, String> c = withSchema.getCache("default");
      WithPrevious l = new WithPrevious();
      c.addClientListener(l);
      try {
         c.put("kvp", "one");
         KeyValueWithPrevious<String, String> e = l.events.poll(5, TimeUnit.SECONDS);
         assertNotNull(e);
         assertEquals("kvp", e.getKey());
         assertEquals("one", e.getValue());
         assertNull(e.getPrev());
         c.put("kvp", "two");
         e = l.events.poll(5, TimeUnit.SECONDS);
         assertNotNull(e);
         assertEquals("two", e.getValue());
         assertEquals("one", e.getPrev());
         c.remove("kvp");
         e = l.events.poll(5, TimeUnit.SECONDS);
         assertNotNull(e);
         assertEquals("kvp", e.getKey());
         assertEquals("two", e.getPrev());
      } finally {
         c.removeClientListener(l);
         withSchema.stop();
      }
   }

   @Test
   void expirationUnitsAndDefaults() throws Exception {
      RemoteCache<String, String> exp = cache("expCache");
      exp.put("ex-default", "v"); // the cache's lifespan: 1 s
      RemoteCache<String, String> c = cache("idleCache");
      c.put("ex-ms", "v", 500, TimeUnit.MILLISECONDS);
      c.put("ex-s", "v", 1, TimeUnit.SECONDS);
      c.put("ex-min", "v", 1, TimeUnit.MINUTES);
      c.put("ex-idle", "v", -1, TimeUnit.SECONDS, 700, TimeUnit.MILLISECONDS);
      assertEquals(60, c.getWithMetadata("ex-min").getLifespan());
      assertEquals(1, exp.getWithMetadata("ex-default").getLifespan());
      Thread.sleep(400);
      assertEquals("v", c.get("ex-idle"), "touching refreshes max-idle");
      Thread.sleep(400);
      assertNull(c.get("ex-ms"));
      assertEquals("v", c.get("ex-idle"));
      Thread.sleep(800);
      assertNull(c.get("ex-s"));
      assertNull(exp.get("ex-default"));
      assertNull(c.get("ex-idle"), "idle for 800 ms > max-idle 700 ms");
      assertEquals("v", c.get("ex-min"));
   }

   @Test
   void adminCreatesAndRemovesCaches() {
      rcm.administration().createCache("adm-tmpl", "org.infinispan.DIST_SYNC");
      rcm.administration().createCache("adm-xml", new StringConfiguration(
            "<local-cache name=\"adm-xml\"><encoding media-type=\"text/plain\"/></local-cache>"));
      rcm.administration().createCache("adm-json", new StringConfiguration(
            "{\"distributed-cache\":{\"mode\":\"SYNC\",\"encoding\":{\"media-type\":\"text/plain\"}}}"));
      rcm.administration().createCache("adm-yaml", new StringConfiguration(
            "localCache:\n  expiration:\n    lifespan: 60000\n"));
      rcm.administration().getOrCreateCache("adm-tmpl", "org.infinispan.DIST_SYNC");
      Set<String> names = rcm.getCacheNames();
      assertTrue(names.containsAll(List.of("adm-tmpl", "adm-xml", "adm-json", "adm-yaml", "default")), names.toString());
      for (String n : List.of("adm-tmpl", "adm-xml", "adm-json", "adm-yaml")) {
         RemoteCache<String, String> c = cache(n);
         c.put("k", n);
         assertEquals(n, c.get("k"));
      }
      assertEquals(60, cache("adm-yaml").getWithMetadata("k").getLifespan());
      assertThrows(Exception.class, () -> rcm.administration().createCache("adm-tmpl", "org.infinispan.DIST_SYNC"));
      rcm.administration().removeCache("adm-tmpl");
      assertFalse(rcm.getCacheNames().contains("adm-tmpl"));
   }

   @Test
   void textPlainCacheRoundTrip() {
      RemoteCache<String, String> c = cache("textCache");
      c.put("txt-k", "héllo wörld");
      assertEquals("héllo wörld", c.get("txt-k"));
   }

   @Test
   void manyAsyncOperationsInFlight() throws Exception {
      RemoteCache<String, String> c = cache("default");
      List<CompletableFuture<String>> puts = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) puts.add(c.putAsync("as-" + i, "v" + i));
      CompletableFuture.allOf(puts.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
      List<CompletableFuture<String>> gets = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) gets.add(c.getAsync("as-" + i));
      for (int i = 0; i < 10_000; i++) assertEquals("v" + i, gets.get(i).get(60, TimeUnit.SECONDS));
   }

   @Test
   void largeValue() {
      RemoteCache<String, byte[]> c = rcm.getCache("default");
      byte[] big = new byte[1 << 20];
      for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
      c.put("big", big);
      assertArrayEquals(big, c.get("big"));
   }

   @Test
   void evictionBoundsTheCache() {
      RemoteCache<String, String> c = cache("bounded");
      for (int i = 0; i < 1000; i++) c.put("ev-" + i, "v");
      int size = c.size();
      assertTrue(size <= 100 && size >= 90, "size " + size + " with max-count 100");
   }

   /** A String put by the Java client is read as text by the Node.js client, and back. */
   @Test
   void crossFormatWithTheNodeClient() throws Exception {
      RemoteCache<String, String> c = cache("textCache");
      c.put("cross-key", "cross-value");
      assertEquals("cross-value", node("get", "textCache", "cross-key"));
      node("put", "textCache", "from-node", "node-value");
      assertEquals("node-value", c.get("from-node"));
   }

   String node(String... args) throws Exception {
      List<String> cmd = new ArrayList<>(List.of("node", server.root.resolve("test/node/cross.js").toString(),
            args[0], Integer.toString(server.port)));
      cmd.addAll(List.of(args).subList(1, args.length));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("NODE_PATH", server.root.resolve("test/node/node_modules").toString());
      Process p = pb.start();
      String out;
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
         out = String.join("\n", r.lines().toList());
      }
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), "node " + String.join(" ", args) + ": " + out);
      return out.trim();
   }
}
