package io.salun.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One report, of a run, a benchmark or a generation run: its fields (what {@code report.json} or
 * {@code benchmark.json} holds) and the blocks a person reads (headings, paragraphs, tables,
 * charts), rendered from this one structure as JSON, as a self-contained HTML page (the blocks,
 * then the JSON) and as Markdown (its headings, paragraphs and tables).
 */
public final class Report {
    private final String title;
    private final String jsonName;
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final List<Block> blocks = new ArrayList<>();

    /** What a person reads, in order. */
    private sealed interface Block permits Heading, Paragraph, Table, Image {
    }

    private record Heading(String text) implements Block {
    }

    private record Paragraph(String text) implements Block {
    }

    /** The first row is the header. */
    private record Table(List<List<String>> rows) implements Block {
    }

    private record Image(String dataUri, String alt) implements Block {
    }

    /** A report whose JSON is published as {@code report.json}. */
    public Report(String title) {
        this(title, "report.json");
    }

    /** A report whose JSON is published as {@code jsonName} (the HTML page heads its copy of the JSON so). */
    public Report(String title, String jsonName) {
        this.title = title;
        this.jsonName = jsonName;
    }

    public String title() {
        return title;
    }

    /** Sets field {@code key} of the JSON. */
    public Report put(String key, Object value) {
        fields.put(key, value);
        return this;
    }

    /** Field {@code key}, or null when absent. */
    public Object get(String key) {
        return fields.get(key);
    }

    /** The fields, unmodifiable, in the order they were set. */
    public Map<String, Object> fields() {
        return Collections.unmodifiableMap(fields);
    }

    public Report heading(String text) {
        blocks.add(new Heading(text));
        return this;
    }

    public Report paragraph(String text) {
        blocks.add(new Paragraph(text));
        return this;
    }

    /** A table; the first row is the header, cells are text. */
    public Report table(List<List<String>> rows) {
        blocks.add(new Table(List.copyOf(rows)));
        return this;
    }

    /** A chart or picture as a {@code data:} URI (PNG), so the page stands alone. */
    public Report image(String dataUri, String alt) {
        blocks.add(new Image(dataUri, alt));
        return this;
    }

    public String json() {
        return toJson(fields);
    }

    /** The blocks, then the JSON, as one HTML page. */
    public String html() {
        Html page = new Html(title);
        for (Block b : blocks) {
            if (b instanceof Heading h) {
                page.heading(h.text());
            } else if (b instanceof Paragraph p) {
                page.paragraph(p.text());
            } else if (b instanceof Table t) {
                page.table(t.rows());
            } else if (b instanceof Image i) {
                page.image(i.dataUri(), i.alt());
            }
        }
        page.heading(jsonName).preformatted(json());
        return page.render();
    }

    /** The headings, paragraphs and tables as Markdown (charts are left out). */
    public String markdown() {
        StringBuilder md = new StringBuilder();
        for (Block b : blocks) {
            if (b instanceof Heading h) {
                md.append("\n## ").append(h.text()).append("\n\n");
            } else if (b instanceof Paragraph p) {
                md.append('\n').append(p.text()).append('\n');
            } else if (b instanceof Table t) {
                md.append(markdownTable(t.rows()));
            }
        }
        return md.toString();
    }

    /** A Markdown table: the first column left-aligned, the others right-aligned (numbers). */
    static String markdownTable(List<List<String>> rows) {
        StringBuilder md = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            md.append("| ").append(String.join(" | ", rows.get(r))).append(" |\n");
            if (r == 0) {
                md.append("|---");
                for (int c = 1; c < rows.get(0).size(); c++) {
                    md.append("|---:");
                }
                md.append("|\n");
            }
        }
        return md.toString();
    }

    /** {@code value} as indented JSON. */
    public static String toJson(Object value) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write JSON", e);
        }
    }
}
