package io.salun.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** PNG charts (XChart) as data URIs, so an HTML report is one self-contained file. */
public final class Charts {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /** Grouped bars: one group per category, one bar per series. Non-finite values are drawn as 0. */
    public static String bars(String title, String yTitle, List<String> categories,
                              Map<String, List<Double>> seriesValues) {
        CategoryChart chart = new CategoryChartBuilder().width(900).height(380).title(title).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (Map.Entry<String, List<Double>> s : seriesValues.entrySet()) {
            chart.addSeries(s.getKey(), categories, finite(s.getValue()));
        }
        return dataUri(chart);
    }

    /** Lines: x = 1..n per series. */
    public static String lines(String title, String xTitle, String yTitle, Map<String, List<Double>> seriesValues) {
        XYChart chart = new XYChartBuilder().width(900).height(380).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setMarkerSize(3);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (Map.Entry<String, List<Double>> s : seriesValues.entrySet()) {
            List<Double> y = finite(s.getValue());
            if (y.isEmpty()) {
                continue;
            }
            List<Integer> x = new ArrayList<>();
            for (int i = 1; i <= y.size(); i++) {
                x.add(i);
            }
            chart.addSeries(s.getKey(), x, y);
        }
        return dataUri(chart);
    }

    /** A single series of bars. */
    public static String bars(String title, String yTitle, String series, List<String> categories, List<Double> values) {
        Map<String, List<Double>> one = new LinkedHashMap<>();
        one.put(series, values);
        return bars(title, yTitle, categories, one);
    }

    private static List<Double> finite(List<Double> values) {
        List<Double> out = new ArrayList<>(values.size());
        for (Double v : values) {
            out.add(v == null || !Double.isFinite(v) ? 0.0 : v);
        }
        return out;
    }

    private static String dataUri(Chart<?, ?> chart) {
        try {
            byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
        } catch (IOException e) {
            throw new UncheckedIOException("could not render chart '" + chart.getTitle() + "'", e);
        }
    }
}
