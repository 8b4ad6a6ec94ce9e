package org.hotgrid.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs a real hotgrid server process for the tests: the binary from
 * HOTGRID_BIN, or one built from the repository with go build.
 */
final class HotgridServer implements AutoCloseable {
   final int port;
   final Path root = Path.of(System.getProperty("hotgrid.root", "../..")).toAbsolutePath().normalize();
   private final Process process;
   private final List<String> log = Collections.synchronizedList(new ArrayList<>());

   HotgridServer(String configResource) throws Exception {
      String bin = System.getenv("HOTGRID_BIN");
      if (bin == null || bin.isEmpty()) {
         File out = new File("target/hotgrid");
         Process build = new ProcessBuilder("go", "build", "-o", out.getAbsolutePath(), "./cmd/hotgrid")
               .directory(root.toFile()).inheritIO().start();
         assertEquals(0, build.waitFor(), "go build failed");
         bin = out.getAbsolutePath();
      }
      Path config = Files.createTempFile("hotgrid", ".xml");
      try (var in = HotgridServer.class.getResourceAsStream("/" + configResource)) {
         Files.write(config, in.readAllBytes());
      }
      try (ServerSocket s = new ServerSocket(0)) {
         port = s.getLocalPort();
      }
      process = new ProcessBuilder(bin, "server", "--bind-address", "127.0.0.1", "--port", Integer.toString(port),
            "--server-config", config.toString()).redirectErrorStream(true).start();
      CountDownLatch started = new CountDownLatch(1);
      Thread reader = new Thread(() -> {
         try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
               log.add(line);
               if (line.contains("started in")) started.countDown();
            }
         } catch (IOException ignored) {
         }
      }, "hotgrid-log");
      reader.setDaemon(true);
      reader.start();
      if (!started.await(15, TimeUnit.SECONDS)) {
         process.destroyForcibly();
         throw new AssertionError("hotgrid did not start within 15 s; output:\n" + String.join("\n", log));
      }
   }

   String output() {
      synchronized (log) {
         return String.join("\n", log);
      }
   }

   /** Stops the server with SIGTERM and asserts that it exits cleanly. */
   @Override
   public void close() throws Exception {
      process.destroy(); // SIGTERM
      assertTrue(process.waitFor(10, TimeUnit.SECONDS), "hotgrid did not stop within 10 s of SIGTERM");
      assertEquals(0, process.exitValue(), "hotgrid exit status after SIGTERM; output:\n" + output());
   }
}
