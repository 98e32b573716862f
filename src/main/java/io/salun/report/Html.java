package io.salun.report;

import java.util.List;

/** A small builder of self-contained HTML report pages. */
public final class Html {
    private final StringBuilder body = new StringBuilder();
    private final String title;

    public Html(String title) {
        this.title = title;
    }

    public static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    public Html heading(String text) {
        body.append("<h2>").append(escape(text)).append("</h2>\n");
        return this;
    }

    public Html paragraph(String text) {
        body.append("<p>").append(escape(text)).append("</p>\n");
        return this;
    }

    /** A table; the first row is the header. Cells are text. */
    public Html table(List<List<String>> rows) {
        body.append("<table>\n");
        for (int r = 0; r < rows.size(); r++) {
            body.append("<tr>");
            String cell = r == 0 ? "th" : "td";
            for (String c : rows.get(r)) {
                body.append('<').append(cell).append('>').append(escape(c)).append("</").append(cell).append('>');
            }
            body.append("</tr>\n");
        }
        body.append("</table>\n");
        return this;
    }

    public Html image(String dataUri, String alt) {
        body.append("<img src=\"").append(dataUri).append("\" alt=\"").append(escape(alt)).append("\">\n");
        return this;
    }

    public Html preformatted(String text) {
        body.append("<pre>").append(escape(text)).append("</pre>\n");
        return this;
    }

    public String render() {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title>\n"
                + "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
                + "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:4px 10px;text-align:right}"
                + "th{background:#eee}td:first-child,th:first-child{text-align:left}img{max-width:100%;margin:1em 0}"
                + "pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}</style></head>\n<body>\n<h1>"
                + escape(title) + "</h1>\n" + body + "</body></html>\n";
    }

    /** A number for a table cell: two decimals, or "–" when not finite. */
    public static String num(double v) {
        return Double.isFinite(v) ? String.format(java.util.Locale.ROOT, "%.2f", v) : "–";
    }
}
