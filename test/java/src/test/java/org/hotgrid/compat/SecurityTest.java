package org.hotgrid.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.infinispan.client.hotrod.RemoteCache;
import org.infinispan.client.hotrod.RemoteCacheManager;
import org.infinispan.client.hotrod.configuration.ClientIntelligence;
import org.infinispan.client.hotrod.configuration.ConfigurationBuilder;
import org.infinispan.client.hotrod.exceptions.HotRodClientException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The unmodified Java Hot Rod client authenticating against secured hotgrid
 * nodes that test/security/run starts: SCRAM-SHA-256, SCRAM-SHA-512, PLAIN
 * and DIGEST-MD5 over plain TCP, TLS and mutual TLS, plus EXTERNAL with a
 * client certificate. Each node's address comes from HOTGRID_SEC_PLAIN,
 * HOTGRID_SEC_TLS and HOTGRID_SEC_MTLS, the certificates from
 * HOTGRID_SEC_CERTS; a missing variable fails the test.
 */
class SecurityTest {
   static String env(String name) {
      String v = System.getenv(name);
      assertNotNull(v, name + " is not set: run test/security/run");
      return v;
   }

   static Stream<Arguments> matrix() {
      List<Arguments> out = new ArrayList<>();
      for (String transport : List.of("plain", "tls", "mtls")) {
         for (String mech : List.of("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN", "DIGEST-MD5")) {
            out.add(Arguments.of(transport, mech));
         }
      }
      out.add(Arguments.of("mtls", "EXTERNAL"));
      return out.stream();
   }

   static RemoteCacheManager connect(String transport, String mech, String user, String password) {
      String addr = env("HOTGRID_SEC_" + transport.toUpperCase());
      String certs = env("HOTGRID_SEC_CERTS");
      ConfigurationBuilder b = new ConfigurationBuilder();
      int colon = addr.lastIndexOf(':');
      b.addServer().host(addr.substring(0, colon)).port(Integer.parseInt(addr.substring(colon + 1)));
      b.clientIntelligence(ClientIntelligence.BASIC);
      b.connectionTimeout(5000).socketTimeout(5000).maxRetries(0);
      var auth = b.security().authentication().enable().saslMechanism(mech).serverName("infinispan").realm("default");
      if (!mech.equals("EXTERNAL")) {
         auth.username(user).password(password);
      }
      if (!transport.equals("plain")) {
         var ssl = b.security().ssl().enable().sniHostName("localhost")
               .trustStoreFileName(certs + "/truststore.p12").trustStorePassword("secret".toCharArray()).trustStoreType("PKCS12");
         if (transport.equals("mtls")) {
            ssl.keyStoreFileName(certs + "/client-alice.p12").keyStorePassword("secret".toCharArray()).keyStoreType("PKCS12");
         }
      }
      return new RemoteCacheManager(b.build());
   }

   @ParameterizedTest(name = "{1} over {0}")
   @MethodSource("matrix")
   void authenticatesAndIsAuthorized(String transport, String mech) {
      String key = "java-" + transport + "-" + mech;
      // admin (or alice, whose certificate maps to the admin group) writes.
      try (RemoteCacheManager rcm = connect(transport, mech, "admin", "admin-pw")) {
         RemoteCache<String, String> c = rcm.getCache("default");
         c.put(key, "v1");
         assertEquals("v1", c.get(key));
      }
      if (mech.equals("EXTERNAL")) {
         return;
      }
      // observer reads but may not write: Infinispan's authorization error,
      // and the value stays.
      try (RemoteCacheManager rcm = connect(transport, mech, "observer", "observer-pw")) {
         RemoteCache<String, String> c = rcm.getCache("default");
         assertEquals("v1", c.get(key));
         HotRodClientException e = assertThrows(HotRodClientException.class, () -> c.put(key, "v2"));
         assertTrue(e.getMessage().contains("ISPN000287"), e.getMessage());
         assertEquals("v1", c.get(key));
      }
      // A wrong password does not get in.
      try (RemoteCacheManager rcm = connect(transport, mech, "admin", "wrong")) {
         assertThrows(Exception.class, () -> rcm.getCache("default").get(key));
      }
   }
}
