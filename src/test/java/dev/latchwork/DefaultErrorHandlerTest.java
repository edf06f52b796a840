package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Without an error handler, errors go to {@link System.Logger} {@code dev.latchwork} at ERROR
 * (issue 13 section 5), not to {@code System.err}. The JDK's default LoggerFinder is backed by
 * java.util.logging when it is present; this test attaches a JUL StreamHandler to the logger to
 * watch the records. The tests are patched into module dev.latchwork, which does not read
 * java.logging (the library must not), so JUL is reached through core reflection, which needs no
 * readability.
 */
class DefaultErrorHandlerTest {

    @Test
    void callbackErrorsAreLoggedThroughSystemLoggerNotSystemErr() throws Exception {
        final Class<?> loggerClass = Class.forName("java.util.logging.Logger");
        final Class<?> handlerClass = Class.forName("java.util.logging.Handler");
        final Class<?> formatterClass = Class.forName("java.util.logging.Formatter");
        final Object jul = loggerClass.getMethod("getLogger", String.class).invoke(null, "dev.latchwork");
        final ByteArrayOutputStream logged = new ByteArrayOutputStream();
        final Object formatter = Class.forName("java.util.logging.SimpleFormatter").getConstructor().newInstance();
        final Object handler = Class.forName("java.util.logging.StreamHandler")
            .getConstructor(OutputStream.class, formatterClass).newInstance(logged, formatter);
        final Method flush = handlerClass.getMethod("flush");
        final Method getParents = loggerClass.getMethod("getUseParentHandlers");
        final Method setParents = loggerClass.getMethod("setUseParentHandlers", boolean.class);
        final boolean parents = (Boolean) getParents.invoke(jul);
        loggerClass.getMethod("addHandler", handlerClass).invoke(jul, handler);
        setParents.invoke(jul, false); // keep the expected error out of the build log

        final PrintStream err = System.err;
        final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> {
                throw new IllegalStateException("boom expected by DefaultErrorHandlerTest");
            }));
            assertEquals(AsyncStatus.OK, t.start(0));
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Modes.WAIT_SECONDS);
            String text = "";
            while (!text.contains("boom expected") && System.nanoTime() - end < 0) {
                Thread.sleep(5);
                flush.invoke(handler);
                text = logged.toString(StandardCharsets.UTF_8);
            }
            assertTrue(text.contains("SEVERE"), text); // System.Logger ERROR is JUL SEVERE
            assertTrue(text.contains("latchwork: callback or backend error"), text);
            assertTrue(text.contains("java.lang.IllegalStateException: boom expected"), text);
            assertTrue(text.contains("\tat "), "the stack trace is logged: " + text);
            assertEquals(1, rt.stats().callbackErrors());
        } finally {
            System.setErr(err);
            loggerClass.getMethod("removeHandler", handlerClass).invoke(jul, handler);
            setParents.invoke(jul, parents);
        }
        assertEquals("", errBytes.toString(StandardCharsets.UTF_8), "nothing goes to System.err");
    }
}
