package org.hotgrid.bench;

import org.infinispan.manager.DefaultCacheManager;
import org.infinispan.server.hotrod.HotRodServer;
import org.infinispan.server.hotrod.configuration.HotRodServerConfigurationBuilder;

/**
 * Starts Infinispan's Hot Rod server over an embedded cache manager read
 * from an Infinispan configuration file, on 127.0.0.1:port, and runs until
 * the process is signalled. It is the JVM peer that bench/core measures
 * with the same load generator it uses for hotgrid.
 *
 * Usage: EmbeddedHotRod CONFIG.xml PORT
 */
public final class EmbeddedHotRod {
   public static void main(String[] args) throws Exception {
      if (args.length != 2) {
         System.err.println("usage: EmbeddedHotRod CONFIG.xml PORT");
         System.exit(2);
      }
      DefaultCacheManager manager = new DefaultCacheManager(args[0]);
      HotRodServerConfigurationBuilder builder = new HotRodServerConfigurationBuilder()
            .host("127.0.0.1").port(Integer.parseInt(args[1]))
            .defaultCacheName(manager.getCacheManagerConfiguration().defaultCacheName().orElse("bench"));
      HotRodServer server = new HotRodServer();
      server.start(builder.build(), manager);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
         server.stop();
         manager.stop();
      }));
      System.err.println("EmbeddedHotRod: serving on 127.0.0.1:" + args[1]);
      Thread.currentThread().join();
   }
}
