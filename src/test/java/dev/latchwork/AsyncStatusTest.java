package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** {@link AsyncStatus}: values, names and the error test for every constant. */
class AsyncStatusTest {

    /** Every public int constant of AsyncStatus, by field name, read reflectively so none is missed. */
    private static Map<String, Integer> constants() throws IllegalAccessException {
        final Map<String, Integer> m = new LinkedHashMap<>();
        for (final Field f : AsyncStatus.class.getFields()) {
            final int mod = f.getModifiers();
            if (Modifier.isStatic(mod) && Modifier.isFinal(mod) && f.getType() == int.class) {
                m.put(f.getName(), f.getInt(null));
            }
        }
        return m;
    }

    @Test
    void everyDocumentedConstantExists() throws IllegalAccessException {
        assertEquals(Set.of("OK", "WAS_PENDING", "BUSY", "NOT_INITIALIZED", "NO_CALLBACK", "DEAD", "CLOSED",
            "DEADLOCK", "INVALID_ARGUMENT"), constants().keySet());
        assertEquals(0, AsyncStatus.OK);
        assertEquals(1, AsyncStatus.WAS_PENDING);
    }

    @Test
    void errorsAreDistinctAndNegative() throws IllegalAccessException {
        final Set<Integer> seen = new HashSet<>();
        for (final Map.Entry<String, Integer> e : constants().entrySet()) {
            assertTrue(seen.add(e.getValue()), "duplicate value for " + e.getKey());
            if (!e.getKey().equals("OK") && !e.getKey().equals("WAS_PENDING")) {
                assertTrue(e.getValue() < 0, e.getKey() + " must be negative");
            }
        }
    }

    @Test
    void nameOfEveryConstantIsItsFieldName() throws IllegalAccessException {
        for (final Map.Entry<String, Integer> e : constants().entrySet()) {
            assertEquals(e.getKey(), AsyncStatus.name(e.getValue()));
        }
        assertEquals("UNKNOWN(42)", AsyncStatus.name(42));
        assertEquals("UNKNOWN(-100)", AsyncStatus.name(-100));
    }

    @Test
    void isErrorExactlyForTheFailures() throws IllegalAccessException {
        for (final Map.Entry<String, Integer> e : constants().entrySet()) {
            final boolean success = e.getKey().equals("OK") || e.getKey().equals("WAS_PENDING");
            assertEquals(!success, AsyncStatus.isError(e.getValue()), e.getKey());
        }
        assertFalse(AsyncStatus.isError(AsyncStatus.OK));
        assertFalse(AsyncStatus.isError(AsyncStatus.WAS_PENDING));
        assertTrue(AsyncStatus.isError(AsyncStatus.BUSY));
        assertTrue(AsyncStatus.isError(AsyncStatus.NOT_INITIALIZED));
        assertTrue(AsyncStatus.isError(AsyncStatus.NO_CALLBACK));
        assertTrue(AsyncStatus.isError(AsyncStatus.DEAD));
        assertTrue(AsyncStatus.isError(AsyncStatus.CLOSED));
        assertTrue(AsyncStatus.isError(AsyncStatus.DEADLOCK));
        assertTrue(AsyncStatus.isError(AsyncStatus.INVALID_ARGUMENT));
    }
}
