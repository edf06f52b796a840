package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hot-path operations, synchronous cancels and a virtual-thread work executor on virtual threads
 * ({@link VirtualThreadScenario}; issue 13 section 5, docs/VIRTUAL-THREADS.md). On JDK 21+ the
 * scenario runs in this JVM. Below 21 (the JDK 17 build) it runs in a forked JDK 25, found at
 * {@code $JAVA25_HOME} or {@code /usr/lib/jvm/temurin-25-jdk-amd64}, on this build's classes;
 * without one the test is skipped (an assumption), not failed.
 */
class VirtualThreadTest {
    static final String DEFAULT_JDK25 = "/usr/lib/jvm/temurin-25-jdk-amd64";

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void startCancelAndBlockingWorkOnVirtualThreads() throws Exception {
        if (Runtime.version().feature() >= 21) {
            System.out.println(VirtualThreadScenario.run());
            return;
        }
        final Path java = jdk25Java();
        assumeTrue(java != null, "JDK " + Runtime.version().feature()
            + " has no virtual threads and no JDK 25 was found ($JAVA25_HOME or " + DEFAULT_JDK25 + ")");
        final Path classes = Paths.get(System.getProperty("latchwork.classes", "../target/classes")).toAbsolutePath();
        final Path testClasses = classes.resolveSibling("test-classes");
        assertTrue(Files.isRegularFile(testClasses.resolve("dev/latchwork/VirtualThreadScenario.class")),
            "no scenario class in " + testClasses);
        final Path log = Files.createTempFile("latchwork-vthreads", ".log");
        try {
            final Process p = new ProcessBuilder(java.toString(), "-cp", classes + File.pathSeparator + testClasses,
                VirtualThreadScenario.class.getName()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            final boolean ended = p.waitFor(60, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            final String out = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
            System.out.print(out);
            assertTrue(ended, "the JDK 25 scenario did not end within 60 s: " + out);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("VIRTUAL THREADS OK"), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** @return the java launcher of a JDK 25, or null */
    static Path jdk25Java() {
        final String env = System.getenv("JAVA25_HOME");
        for (final String home : new String[] {env, DEFAULT_JDK25}) {
            if (home != null && !home.isEmpty()) {
                final Path java = Paths.get(home, "bin", "java");
                if (Files.isExecutable(java)) {
                    return java;
                }
            }
        }
        return null;
    }
}
