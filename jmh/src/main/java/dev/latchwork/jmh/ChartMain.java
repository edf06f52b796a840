package dev.latchwork.jmh;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

import javax.imageio.ImageIO;

/**
 * Draws {@link TimerBench} results as a PNG bar chart with java.awt, headless: four panels
 * (re-arm / arm-then-cancel x 1 / 2 threads), one row per contender, one bar per cell count, on a
 * log scale of ns/op (lower is better), each bar labelled with its value.
 *
 * <pre>
 * java -Djava.awt.headless=true -cp jmh/target/benchmarks.jar dev.latchwork.jmh.ChartMain [--best] docs/benchmarks.png "subtitle" timer.json [more.json ...]
 * </pre>
 */
public final class ChartMain {
    private static final int PANEL_W = 820;
    private static final int LABEL_W = 190;
    private static final int BAR_H = 11;
    private static final int ROW_GAP = 7;
    private static final int TOP = 74;
    private static final Color[] BAR_COLORS = {new Color(0x3B75AF), new Color(0xEF8636), new Color(0x519E3E), new Color(0xC53A32)};
    private static final Color GRID = new Color(0xDDDDDD);

    private ChartMain() {
    }

    public static void main(final String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        final boolean best = args.length > 0 && "--best".equals(args[0]);
        final int first = best ? 1 : 0;
        if (args.length < first + 3) {
            System.err.println("usage: ChartMain [--best] out.png subtitle results.json [more-results.json ...]");
            System.exit(2);
        }
        final Path[] in = new Path[args.length - first - 2];
        for (int i = first + 2; i < args.length; i++) {
            in[i - first - 2] = Paths.get(args[i]);
        }
        final Results r = Results.read(best, in);
        final String subtitle = args[first + 1] + (best ? " Bars: best iteration of each benchmark." : "");
        final List<String> impls = new ArrayList<>();
        for (final String impl : Timeouts.IMPLS) {
            if (r.rows.stream().anyMatch(row -> impl.equals(row.impl) && "TimerBench".equals(row.benchClass))) {
                impls.add(impl);
            }
        }
        final TreeSet<Integer> cellSet = new TreeSet<>();
        double max = 1;
        for (final Results.Row row : r.rows) {
            if ("TimerBench".equals(row.benchClass)) {
                cellSet.add(row.cells);
                max = Math.max(max, row.score);
            }
        }
        final List<Integer> cells = new ArrayList<>(cellSet);
        final double maxDecade = Math.pow(10, Math.ceil(Math.log10(max * 1.5)));

        final int rowH = cells.size() * BAR_H + ROW_GAP;
        final int panelH = 40 + impls.size() * rowH + 30;
        final int width = 2 * PANEL_W + 30;
        final int height = TOP + 2 * panelH + 40;
        final BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);

        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        g.drawString("latchwork vs peers: ns/op per command, lower is better (log scale)", 15, 26);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.drawString(String.format(Locale.ROOT, "JMH %s, JDK %s. %s", r.jmh, r.jdk, subtitle), 15, 46);
        int lx = 15;
        for (int i = 0; i < cells.size(); i++) {
            g.setColor(BAR_COLORS[i % BAR_COLORS.length]);
            g.fillRect(lx, 56, 14, 10);
            g.setColor(Color.BLACK);
            final String label = cells.get(i) == 1 ? "1 cell per thread" : String.format(Locale.ROOT, "%,d cells round-robin", cells.get(i));
            g.drawString(label, lx + 18, 66);
            lx += 30 + g.getFontMetrics().stringWidth(label);
        }

        final String[] methods = {"rearm_1t", "rearm_2t", "armCancel_1t", "armCancel_2t"};
        final String[] titles = {"re-arm on every event, 1 thread", "re-arm on every event, 2 threads",
            "arm then cancel, 1 thread", "arm then cancel, 2 threads"};
        for (int p = 0; p < methods.length; p++) {
            final int x0 = 10 + (p % 2) * (PANEL_W + 10);
            final int y0 = TOP + (p / 2) * panelH;
            panel(g, r, methods[p], titles[p], impls, cells, maxDecade, x0, y0, rowH, panelH);
        }
        g.dispose();
        final File out = new File(args[first]);
        if (out.getParentFile() != null) {
            out.getParentFile().mkdirs();
        }
        ImageIO.write(img, "png", out);
        System.out.println("wrote " + out);
    }

    private static void panel(final Graphics2D g, final Results r, final String method, final String title,
        final List<String> impls, final List<Integer> cells, final double maxDecade, final int x0, final int y0,
        final int rowH, final int panelH) {
        final int plotX = x0 + LABEL_W;
        final int plotW = PANEL_W - LABEL_W - 70;
        final int plotTop = y0 + 30;
        final int plotBottom = y0 + panelH - 28;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, x0 + 4, y0 + 18);

        // decades grid, from 1 ns
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        final double decades = Math.log10(maxDecade);
        for (int d = 0; d <= decades; d++) {
            final int x = plotX + (int) Math.round(plotW * d / decades);
            g.setColor(GRID);
            g.setStroke(new BasicStroke(1));
            g.drawLine(x, plotTop, x, plotBottom);
            g.setColor(Color.DARK_GRAY);
            final String label = String.format(Locale.ROOT, "%,d ns", (long) Math.pow(10, d));
            g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, plotBottom + 14);
        }

        int y = plotTop + 4;
        for (final String impl : impls) {
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, impl.startsWith("latchwork") ? Font.BOLD : Font.PLAIN, 12));
            final int labelY = y + cells.size() * BAR_H / 2 + 4;
            g.drawString(impl, x0 + 4, labelY);
            for (int i = 0; i < cells.size(); i++) {
                final Results.Row row = r.find("TimerBench", method, impl, cells.get(i));
                final int by = y + i * BAR_H;
                if (row == null || Double.isNaN(row.score)) {
                    continue;
                }
                final double v = Math.max(1, row.score);
                final int w = Math.max(1, (int) Math.round(plotW * Math.log10(v) / decades));
                g.setColor(BAR_COLORS[i % BAR_COLORS.length]);
                g.fillRect(plotX, by, w, BAR_H - 2);
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
                g.drawString(ReportMain.ns(row.score), plotX + w + 3, by + BAR_H - 3);
            }
            y += rowH;
        }
        g.setColor(Color.GRAY);
        g.drawLine(plotX, plotTop, plotX, plotBottom);
    }
}
