package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * The suite (and so the library) runs without any {@code --add-opens}/{@code --add-exports} into
 * a JDK module. Surefire itself opens the module under test ({@code dev.latchwork}) to JUnit when
 * it runs tests on the module path; that is the test harness reaching into our code, not our code
 * reaching into the JDK, so it is the only target accepted here.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class RuntimeFlagsTest {

    /**
     * The JVM's input arguments (argument files expanded), through java.management by reflection:
     * the library module does not require java.management, and core reflection assumes readability.
     */
    @SuppressWarnings("unchecked")
    private static List<String> jvmArguments() throws Exception {
        final Class<?> factory = Class.forName("java.lang.management.ManagementFactory");
        final Object bean = factory.getMethod("getRuntimeMXBean").invoke(null);
        final Method args = Class.forName("java.lang.management.RuntimeMXBean").getMethod("getInputArguments");
        return new ArrayList<>((List<String>) args.invoke(bean));
    }

    @Test
    void noJdkModuleIsOpenedOrExported() throws Exception {
        final List<String> args = jvmArguments();
        final List<String> targets = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            final String a = args.get(i);
            for (final String flag : new String[] {"--add-opens", "--add-exports"}) {
                if (a.equals(flag) && i + 1 < args.size()) {
                    targets.add(args.get(i + 1));
                } else if (a.startsWith(flag + "=")) {
                    targets.add(a.substring(flag.length() + 1));
                }
            }
        }
        for (final String target : targets) {
            assertTrue(target.startsWith("dev.latchwork/"), "the suite needs a flag into a JDK module: " + target
                + " (all JVM arguments: " + args + ")");
        }
    }

    @Test
    void theLibraryWorksWithoutFlags() throws Exception {
        // exercising every class that touches a third-party or JDK internal: idle strategies,
        // dispatcher, scheduler and work pool
        for (final AsyncIdle idle : new AsyncIdle[] {AsyncIdle.spin(), AsyncIdle.yielding(), AsyncIdle.backoff(10_000)}) {
            try (AsyncRuntime rt = AsyncRuntime.builder().idle(idle).build()) {
                final CountDownLatch ran = new CountDownLatch(2);
                final AsyncTimer<Object> t = TimerStatusTest.ready(rt, (o, x) -> ran.countDown());
                final AsyncWork<Object> w = WorkStatusTest.ready(rt, (o, x) -> ran.countDown());
                assertEquals(AsyncStatus.OK, t.start(0));
                assertEquals(AsyncStatus.OK, w.start());
                Modes.await("timer and work with " + idle, ran);
                assertEquals(0, rt.stats().callbackErrors());
            }
        }
    }
}
