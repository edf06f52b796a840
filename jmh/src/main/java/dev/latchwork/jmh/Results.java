package dev.latchwork.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** JMH result rows of {@link TimerBench} and {@link SharedCellBench}, read from {@code -rf json} output. */
final class Results {
    /** One benchmark x params result. */
    static final class Row {
        String benchClass;
        String method;
        String impl;
        int cells;
        int threads;
        /** The statistic compared: the mean, or the best iteration with {@link Results#best}. */
        double score;
        double mean;
        double error;
        double min;
        double bytesPerOp;
        double nonOk;
        double busy;
        double ops;
        String jdk;
        String vm;
    }

    final List<Row> rows = new ArrayList<>();
    /** Compare the best (fastest) iteration instead of the mean: for runs on a loaded machine. */
    boolean best;
    String jdk = "?";
    String vm = "?";
    String jmh = "?";
    int jdkFeature = 17;

    static Results read(final Path... files) throws IOException {
        return read(false, files);
    }

    static Results read(final boolean best, final Path... files) throws IOException {
        final Results r = new Results();
        r.best = best;
        for (final Path file : files) {
            r.add(file);
        }
        try {
            r.jdkFeature = Integer.parseInt(r.jdk.split("[.+-]")[0]);
        } catch (final RuntimeException e) {
            r.jdkFeature = 17;
        }
        // JDK 25's ForkJoinPool.schedule does not exist below 25: those rows measured a no-op
        if (r.jdkFeature < 25) {
            r.rows.removeIf(row -> "jdk25-fjp".equals(row.impl));
        }
        return r;
    }

    private void add(final Path file) throws IOException {
        final String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        if (text.isBlank()) {
            throw new IllegalArgumentException(file + " is empty: did the JMH run finish?");
        }
        final Object root = Json.parse(text);
        if (!(root instanceof List)) {
            throw new IllegalArgumentException(file + " is not a JMH JSON result array");
        }
        final Results r = this;
        for (final Object o : (List<?>) root) {
            final Row row = new Row();
            final String bench = Json.str(o, "benchmark");
            final int dot = bench.lastIndexOf('.');
            row.method = bench.substring(dot + 1);
            final String cls = bench.substring(0, dot);
            row.benchClass = cls.substring(cls.lastIndexOf('.') + 1);
            row.impl = Json.str(o, "params", "impl");
            final String cells = Json.str(o, "params", "cells");
            row.cells = cells == null ? 1 : Integer.parseInt(cells);
            row.threads = (int) Json.num(o, "threads");
            row.mean = Json.num(o, "primaryMetric", "score");
            row.error = Json.num(o, "primaryMetric", "scoreError");
            row.min = Json.num(o, "primaryMetric", "scorePercentiles", "0.0");
            row.score = best && !Double.isNaN(row.min) ? row.min : row.mean;
            row.bytesPerOp = Json.num(o, "secondaryMetrics", "gc.alloc.rate.norm", "score");
            row.nonOk = Json.num(o, "secondaryMetrics", "nonOk", "score");
            row.busy = Json.num(o, "secondaryMetrics", "busy", "score");
            row.ops = Json.num(o, "secondaryMetrics", "ops", "score");
            row.jdk = Json.str(o, "jdkVersion");
            row.vm = Json.str(o, "vmName") + " " + Json.str(o, "vmVersion");
            r.jdk = row.jdk;
            r.vm = row.vm;
            r.jmh = Json.str(o, "jmhVersion");
            final Row previous = r.find(row.benchClass, row.method, row.impl, row.cells);
            if (previous == null) {
                r.rows.add(row);
            } else if (!r.best || row.score < previous.score) {
                // the same benchmark in several files: the later run wins, or the faster one with best
                r.rows.set(r.rows.indexOf(previous), row);
            }
        }
    }

    Row find(final String benchClass, final String method, final String impl, final int cells) {
        for (final Row row : rows) {
            if (row.benchClass.equals(benchClass) && row.method.equals(method) && java.util.Objects.equals(impl, row.impl)
                && row.cells == cells) {
                return row;
            }
        }
        return null;
    }

}
