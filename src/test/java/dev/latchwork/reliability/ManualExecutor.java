package dev.latchwork.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A hand-cranked work executor for deterministic tests: {@link #execute} queues the task, and
 * {@link #runAll()} runs what is queued when it is called. Not thread safe: one thread drives it.
 */
final class ManualExecutor implements Executor {
    private final List<Runnable> tasks = new ArrayList<>();
    private boolean rejecting;
    private long submitted;

    /** @param rejecting true to throw {@link RejectedExecutionException} from now on */
    void rejecting(final boolean rejecting) {
        this.rejecting = rejecting;
    }

    long submitted() {
        return submitted;
    }

    int queued() {
        return tasks.size();
    }

    /** Runs the tasks queued now; tasks queued meanwhile wait for the next call. @return how many ran */
    int runAll() {
        final List<Runnable> run = new ArrayList<>(tasks);
        tasks.clear();
        for (final Runnable r : run) {
            r.run();
        }
        return run.size();
    }

    @Override
    public void execute(final Runnable command) {
        if (rejecting) {
            throw new RejectedExecutionException("manual executor rejecting");
        }
        submitted++;
        tasks.add(command);
    }
}
