package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The module needs nothing but java.base at run time (issue 13 section 2, contract top): a small
 * application module that requires only {@code dev.latchwork} is compiled against the built
 * classes, {@code jlink}ed into an image of its own, and run from that image. Agrona is nowhere
 * on the module path. Skipped (assumption) where the JDK has no jlink or cannot link (no jmods).
 */
class JlinkTest {

    private static final String APP_MODULE = "module app { requires dev.latchwork; }\n";
    private static final String APP_MAIN = String.join("\n",
        "package app;",
        "import dev.latchwork.*;",
        "import java.util.concurrent.*;",
        "public final class Main {",
        "    public static void main(String[] args) throws Exception {",
        "        CountDownLatch fired = new CountDownLatch(2);",
        "        try (AsyncRuntime rt = AsyncRuntime.create();",
        "             AsyncRuntime host = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).build()) {",
        "            AsyncTimer<Object> t = new AsyncTimer<>();",
        "            check(t.init(rt, Main.class, TimerClock.MONOTONIC));",
        "            check(t.setCallback((o, x) -> fired.countDown()));",
        "            check(t.start(java.time.Duration.ofMillis(1)));",
        "            AsyncTimer<Object> h = new AsyncTimer<>();",
        "            check(h.init(host, Main.class, TimerClock.MONOTONIC));",
        "            check(h.setCallback((o, x) -> fired.countDown()));",
        "            check(h.start(1, TimeUnit.MILLISECONDS));",
        "            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);",
        "            while (fired.getCount() > 0 && System.nanoTime() < end) {",
        "                host.drain();",
        "                Thread.sleep(1);",
        "            }",
        "        }",
        "        if (fired.getCount() != 0) { System.out.println(\"NOT FIRED\"); System.exit(2); }",
        "        System.out.println(\"agrona present: \" + ModuleLayer.boot().findModule(\"org.agrona\").isPresent());",
        "        System.out.println(\"JLINK APP OK\");",
        "    }",
        "    static void check(int status) {",
        "        if (status != AsyncStatus.OK) throw new AssertionError(AsyncStatus.name(status));",
        "    }",
        "}",
        "");

    @Test
    void anAppRequiringOnlyDevLatchworkJlinksAndRuns(@TempDir final Path tmp) throws Exception {
        final Optional<ToolProvider> javac = ToolProvider.findFirst("javac");
        final Optional<ToolProvider> jlink = ToolProvider.findFirst("jlink");
        assumeTrue(javac.isPresent() && jlink.isPresent(), "this JDK has no javac/jlink tool");

        // the library as an exploded module: a copy of this build's target/classes
        final Path classes = Paths.get(System.getProperty("latchwork.classes", "../target/classes")).toAbsolutePath();
        assertTrue(Files.isRegularFile(classes.resolve("module-info.class")), "no module-info.class in " + classes);
        final Path lib = tmp.resolve("mods/dev.latchwork");
        copyTree(classes, lib);

        final Path src = tmp.resolve("src/app");
        Files.createDirectories(src.resolve("app"));
        Files.writeString(src.resolve("module-info.java"), APP_MODULE);
        Files.writeString(src.resolve("app/Main.java"), APP_MAIN);
        final Path appOut = tmp.resolve("mods/app");
        run(javac.get(), "--release", "17", "--module-path", lib.toString(), "-d", appOut.toString(),
            src.resolve("module-info.java").toString(), src.resolve("app/Main.java").toString());

        final Path image = tmp.resolve("image");
        final String[] jlinkArgs = {
            "--module-path", lib + java.io.File.pathSeparator + appOut,
            "--add-modules", "app,dev.latchwork", "--strip-debug", "--no-header-files", "--no-man-pages",
            "--output", image.toString()};
        // jlink runs as its own process when it can: in-process, a JDK 24+ without jmods refuses to
        // link from the run-time image of this test JVM, which Surefire runs with --patch-module
        final Path jlinkExe = Paths.get(System.getProperty("java.home"), "bin", isWindows() ? "jlink.exe" : "jlink");
        final Result linked;
        if (Files.isExecutable(jlinkExe)) {
            final String[] cmd = new String[jlinkArgs.length + 1];
            cmd[0] = jlinkExe.toString();
            System.arraycopy(jlinkArgs, 0, cmd, 1, jlinkArgs.length);
            linked = exec(cmd);
        } else {
            linked = tool(jlink.get(), jlinkArgs);
        }
        // a JDK without jmods and without run-time-image linking cannot link at all: skip, do not fail
        assumeTrue(linked.code == 0 || !cannotLinkHere(linked.out),
            "this JDK cannot link images: " + linked.out);
        assertEquals(0, linked.code, "jlink failed: " + linked.out);

        final Path java = image.resolve("bin").resolve(isWindows() ? "java.exe" : "java");
        final Result modules = exec(java.toString(), "--list-modules");
        assertEquals(0, modules.code, modules.out);
        final TreeSet<String> names = modules.out.lines().map(l -> l.replaceAll("@.*", "").trim())
            .filter(s -> !s.isEmpty()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(Arrays.asList("app", "dev.latchwork", "java.base")), names,
            "the image must hold java.base, dev.latchwork and the app only");

        final Result ran = exec(java.toString(), "-m", "app/app.Main");
        assertEquals(0, ran.code, ran.out);
        assertTrue(ran.out.contains("agrona present: false"), ran.out);
        assertTrue(ran.out.contains("JLINK APP OK"), ran.out);
    }

    private static boolean cannotLinkHere(final String out) {
        final String s = out.toLowerCase();
        return s.contains("jmods") || s.contains("run-time image") || s.contains("runtime image")
            || s.contains("module java.base not found");
    }

    private static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase().startsWith("windows");
    }

    private static void copyTree(final Path from, final Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (final Path p : (Iterable<Path>) s::iterator) {
                final Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static final class Result {
        final int code;
        final String out;

        Result(final int code, final String out) {
            this.code = code;
            this.out = out;
        }
    }

    private static void run(final ToolProvider tool, final String... args) {
        final Result r = tool(tool, args);
        assertEquals(0, r.code, tool.name() + " failed: " + r.out);
    }

    private static Result tool(final ToolProvider tool, final String... args) {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        final int code = tool.run(ps, ps, args);
        ps.flush();
        return new Result(code, bytes.toString(StandardCharsets.UTF_8));
    }

    private static Result exec(final String... cmd) throws Exception {
        final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        final byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
