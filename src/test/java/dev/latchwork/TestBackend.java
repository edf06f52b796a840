package dev.latchwork;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Method;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The timer-backend dimension of the behaviour suites. A test annotated {@link BothBackends}
 * (or {@code Modes.AllModes}) takes a {@link DispatchMode} and runs once per mode and per backend:
 * the built-in wheel (the default) and an executor backend over a test-owned single-thread
 * {@link ScheduledThreadPoolExecutor}. The invocation's display name carries the backend
 * ({@code "DEFERRED / EXECUTOR"}); {@link Extension} reads it and makes it {@link #current()} for the
 * duration of the test method, and the harnesses ({@code Modes.open}, {@code kernel.Harness.of})
 * build their runtime on it. A test's own builder configuration is applied after the harness
 * default, so a test that picks its scheduler or wheel explicitly keeps its choice.
 */
public final class TestBackend {
    private TestBackend() {
    }

    /** Which timer backend a harness builds its runtime on. */
    public enum Backend {
        /** The built-in timer wheel (the library's default). */
        WHEEL,
        /** {@code timerScheduler(new ScheduledThreadPoolExecutor(1))}, owned by the harness. */
        EXECUTOR
    }

    private static final ThreadLocal<Backend> CURRENT = new ThreadLocal<>();

    /** @return the backend of the test running on this thread (WHEEL outside a parameterized test) */
    public static Backend current() {
        final Backend b = CURRENT.get();
        return b == null ? Backend.WHEEL : b;
    }

    /** Every dispatch mode on every backend, the mode as the (single) argument. */
    public static Stream<Named<DispatchMode>> modesAndBackends() {
        final Stream.Builder<Named<DispatchMode>> s = Stream.builder();
        for (final Backend b : Backend.values()) {
            for (final DispatchMode m : DispatchMode.values()) {
                s.add(Named.of(m + " / " + b, m));
            }
        }
        return s.build();
    }

    /** A test-owned executor backend: one daemon thread, remove-on-cancel. The harness shuts it down. */
    public static ScheduledThreadPoolExecutor newScheduler() {
        final AtomicInteger n = new AtomicInteger();
        final ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
            final Thread t = new Thread(r, "test-executor-backend-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        s.setRemoveOnCancelPolicy(true);
        return s;
    }

    /** Runs a parameterized test taking a {@code DispatchMode} once per mode and per backend. */
    @Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latchwork.TestBackend#modesAndBackends")
    @ExtendWith(Extension.class)
    public @interface BothBackends {
    }

    /** Makes the invocation's backend {@link #current()} while its test method runs. */
    public static final class Extension implements InvocationInterceptor {
        @Override
        public void interceptTestTemplateMethod(final Invocation<Void> invocation,
                                                final ReflectiveInvocationContext<Method> invocationContext,
                                                final ExtensionContext extensionContext) throws Throwable {
            final String name = extensionContext.getDisplayName();
            CURRENT.set(name.endsWith(Backend.EXECUTOR.name()) ? Backend.EXECUTOR : Backend.WHEEL);
            try {
                invocation.proceed();
            } finally {
                CURRENT.remove();
            }
        }
    }
}
