package dev.latchwork.agrona;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.DispatchMode;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.Test;

/**
 * The Agrona example of {@code README.md} ("Agrona and Aeron"), kept here so that it compiles
 * against the library and Agrona (the README copies the body of {@link #example()} between the
 * two markers verbatim), and run once, then closed.
 */
class ReadmeAgronaExampleTest {

    /** The README's lines; returns what it started so that the test can stop it. */
    static Object[] example() {
        // --- README begin
        AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).build();
        AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null,
                new LatchworkAgent(rt));        // doWork() = rt.drain(); onClose() closes rt
        AgentRunner.startOnThread(runner);      // timers fire on the agent's thread
        // or: new LatchworkAgent(rt, "timers", false) inside a CompositeAgent, rt closed by you

        AsyncRuntime other = AsyncRuntime.builder()
                .idle(AgronaIdle.of(new BackoffIdleStrategy())).build(); // an Agrona idle strategy
        // --- README end
        return new Object[] {rt, runner, other};
    }

    @Test
    void theReadmeExampleRunsAndStops() {
        final Object[] started = example();
        final AsyncRuntime rt = (AsyncRuntime) started[0];
        ((AgentRunner) started[1]).close();
        ((AsyncRuntime) started[2]).close();
        assertTrue(rt.isClosed(), "closing the runner closes its runtime");
    }
}
