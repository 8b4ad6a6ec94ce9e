package org.hotgrid.compat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.infinispan.client.hotrod.RemoteCache;
import org.infinispan.client.hotrod.RemoteCacheManager;
import org.infinispan.client.hotrod.configuration.ConfigurationBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * One data set behind every protocol: what the Java Hot Rod client writes into
 * respCache and memcachedCache is read as the same bytes with RESP, memcached
 * and REST, and the other way round. Those caches store octet-stream, so the
 * Java client (as against Infinispan) switches to its byte[] marshaller.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OneDataSetTest {
   HotgridServer server;
   RemoteCacheManager rcm;
   final HttpClient http = HttpClient.newHttpClient();

   @BeforeAll
   void start() throws Exception {
      server = new HotgridServer("hotgrid.xml");
      rcm = new RemoteCacheManager(new ConfigurationBuilder().addServer().host("127.0.0.1").port(server.port).build());
   }

   @AfterAll
   void stop() throws Exception {
      if (rcm != null) rcm.stop();
      if (server != null) server.close();
   }

   /** Sends raw bytes on a fresh connection to the single port and reads n bytes back. */
   String raw(String request, int n) throws Exception {
      try (Socket s = new Socket("127.0.0.1", server.port)) {
         s.setSoTimeout(5000);
         OutputStream out = s.getOutputStream();
         out.write(request.getBytes(StandardCharsets.UTF_8));
         out.flush();
         InputStream in = s.getInputStream();
         byte[] buf = in.readNBytes(n);
         return new String(buf, StandardCharsets.UTF_8);
      }
   }

   String rest(String method, String path, String body) throws Exception {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port + path));
      b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      if (body != null) b.header("Content-Type", "application/octet-stream");
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
   }

   @Test
   void javaWritesOthersRead() throws Exception {
      RemoteCache<byte[], byte[]> redis = rcm.getCache("respCache");
      redis.put(b("jk"), b("java-value"));
      assertEquals("$10\r\njava-value\r\n", raw("*2\r\n$3\r\nGET\r\n$2\r\njk\r\n", 17));
      assertEquals("200 java-value", rest("GET", "/rest/v2/caches/respCache/jk", null));

      RemoteCache<byte[], byte[]> mc = rcm.getCache("memcachedCache");
      mc.put(b("mk"), b("mval"));
      assertEquals("VALUE mk 0 4\r\nmval\r\nEND\r\n", raw("get mk\r\n", 25));
   }

   @Test
   void othersWriteJavaReads() throws Exception {
      assertEquals("+OK\r\n", raw("*3\r\n$3\r\nSET\r\n$2\r\nrk\r\n$8\r\nfrom-rsp\r\n", 5));
      assertEquals("STORED\r\n", raw("set mck 0 0 7\r\nfrom-mc\r\n", 8));
      assertEquals("204 ", rest("PUT", "/rest/v2/caches/respCache/restk", "from-rest"));
      RemoteCache<byte[], byte[]> redis = rcm.getCache("respCache");
      assertArrayEquals(b("from-rsp"), redis.get(b("rk")));
      assertArrayEquals(b("from-rest"), redis.get(b("restk")));
      RemoteCache<byte[], byte[]> mc = rcm.getCache("memcachedCache");
      assertArrayEquals(b("from-mc"), mc.get(b("mck")));
   }

   static byte[] b(String s) {
      return s.getBytes(StandardCharsets.UTF_8);
   }
}
