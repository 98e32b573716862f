package io.salun.forget;

import io.salun.config.InvalidInputException;
import io.salun.model.ModelStore;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.trim;

/**
 * A deletion list — the record IDs whose data must be forgotten — read by Spark SQL as a one-column
 * table {@code id} of the training table's ID type: a text file (one ID per line; blank lines and
 * lines starting with {@code #} are skipped), a CSV file with a header row, or a Parquet table,
 * each a single file or a folder of part files. Duplicates are kept here (the joins make them
 * harmless). The IDs are sensitive: messages give counts, never an ID.
 */
public final class DeletionList {
    private DeletionList() {
    }

    /** Format of a deletion list. */
    public enum Format {
        TEXT, CSV, PARQUET;

        static Format parse(String name) {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        }
    }

    /**
     * The list's IDs as column {@code id} of type {@code idType} (string or long), and with a time
     * column set ({@link ForgetSpec.Ids#timeColumn()}) each request's time as column {@code micros}
     * (microseconds since the epoch, UTC).
     */
    public static Dataset<Row> read(SparkSession spark, ForgetSpec.Ids ids, DataType idType) {
        String uri = ids.uri();
        if (!ModelStore.exists(uri, spark.sparkContext().hadoopConfiguration())) {
            throw new InvalidInputException("forget.ids: no deletion list at " + uri);
        }
        Format format = ids.format().equals("auto") ? detect(spark, uri) : Format.parse(ids.format());
        if (format != Format.PARQUET) {
            requireUtf8(spark, uri);
        }
        Dataset<Row> raw;
        try {
            raw = switch (format) {
                case TEXT -> ids.timeColumn().isPresent() ? failText(ids) : spark.read().textFile(uri).map(
                        (org.apache.spark.api.java.function.MapFunction<String, String>) DeletionList::clean, Encoders.STRING())
                        .filter((org.apache.spark.api.java.function.FilterFunction<String>) s -> !s.isEmpty() && !s.startsWith("#"))
                        .toDF("id");
                case CSV -> column(withoutByteOrderMark(spark.read().option("header", "true").csv(uri)), ids, uri, format);
                case PARQUET -> column(spark.read().parquet(uri), ids, uri, format);
            };
        } catch (InvalidInputException e) {
            throw e;
        } catch (Exception e) {
            throw new InvalidInputException("forget.ids: " + uri + " is not a readable " + format.name().toLowerCase(Locale.ROOT)
                    + " deletion list (forget.ids.format)", e);
        }
        Dataset<Row> present = raw.filter(col("id").isNotNull());
        if (ids.timeColumn().isPresent()) {
            // microseconds since the epoch: timestamps and ISO date(-time) text alike
            present = present.withColumn("micros", org.apache.spark.sql.functions.unix_micros(
                    col("time").cast(DataTypes.TimestampType)));
            long untimed = present.filter(col("micros").isNull()).count();
            if (untimed > 0) {
                throw new InvalidInputException("forget.ids.time-column: " + untimed + " requests of " + uri
                        + " have no readable time in column " + ids.timeColumn().get()
                        + "; expected a timestamp or ISO-8601 date-time");
            }
        }
        org.apache.spark.sql.Column[] extra = ids.timeColumn().isPresent()
                ? new org.apache.spark.sql.Column[] {col("micros")} : new org.apache.spark.sql.Column[0];
        if (idType.equals(DataTypes.StringType)) {
            return present.select(concat(trim(col("id").cast(DataTypes.StringType)).as("id"), extra));
        }
        Dataset<Row> typed = present.select(concat(trim(col("id").cast(DataTypes.StringType))
                .cast(DataTypes.LongType).as("id"), extra));
        long bad = typed.filter(col("id").isNull()).count();
        if (bad > 0) {
            // the IDs are sensitive: count them, do not print them
            throw new InvalidInputException("forget.ids: " + bad + " entries of " + uri + " are not integers;"
                    + " the training table's IDs are integers");
        }
        return typed;
    }

    /** A text line without surrounding blanks and without a UTF-8 byte-order mark (which Spark keeps on the first line). */
    static String clean(String line) {
        return line.replace("\uFEFF", "").trim();
    }

    /** A CSV table whose first column name lost the UTF-8 byte-order mark Spark's reader keeps. */
    private static Dataset<Row> withoutByteOrderMark(Dataset<Row> table) {
        for (String c : table.columns()) {
            if (c.startsWith("\uFEFF")) {
                table = table.withColumnRenamed(c, c.substring(1));
            }
        }
        return table;
    }

    /**
     * Refuses a text or CSV list that is not UTF-8 (or ASCII): a UTF-16 file, recognised by its
     * byte-order mark or by NUL bytes among its first bytes, would otherwise be read as IDs that
     * are not integers, or that match nothing.
     */
    static void requireUtf8(SparkSession spark, String uri) {
        Path path = new Path(uri);
        try {
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            java.util.List<Path> files = new java.util.ArrayList<>();
            if (fs.getFileStatus(path).isDirectory()) {
                for (FileStatus f : fs.listStatus(path)) {
                    String n = f.getPath().getName();
                    if (f.isFile() && !n.startsWith("_") && !n.startsWith(".")) {
                        files.add(f.getPath());
                    }
                }
            } else {
                files.add(path);
            }
            for (Path f : files) {
                byte[] head;
                org.apache.hadoop.io.compress.CompressionCodec codec =
                        new org.apache.hadoop.io.compress.CompressionCodecFactory(fs.getConf()).getCodec(f);
                try (java.io.InputStream raw = fs.open(f);
                     java.io.InputStream in = codec == null ? raw : codec.createInputStream(raw)) {
                    head = in.readNBytes(4096);
                }
                String encoding = encodingOf(head);
                if (encoding != null) {
                    throw new InvalidInputException("forget.ids: " + f + " is " + encoding + "; expected UTF-8 (or ASCII)"
                            + " text, one ID per line or CSV; convert it first, e.g. iconv -f UTF-16 -t UTF-8");
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException("forget.ids: cannot read " + uri + ": " + e.getMessage(), e);
        }
    }

    /** A description of {@code head}'s encoding when it is not UTF-8, else null. */
    static String encodingOf(byte[] head) {
        if (head.length >= 2 && (head[0] & 0xFF) == 0xFF && (head[1] & 0xFF) == 0xFE) {
            return "UTF-16 little-endian text (it starts with the byte-order mark FF FE)";
        }
        if (head.length >= 2 && (head[0] & 0xFF) == 0xFE && (head[1] & 0xFF) == 0xFF) {
            return "UTF-16 big-endian text (it starts with the byte-order mark FE FF)";
        }
        for (byte b : head) {
            if (b == 0) {
                return "not UTF-8 text (it holds NUL bytes: UTF-16 without a byte-order mark, or a binary file)";
            }
        }
        return null;
    }

    private static org.apache.spark.sql.Column[] concat(org.apache.spark.sql.Column first, org.apache.spark.sql.Column[] rest) {
        org.apache.spark.sql.Column[] all = new org.apache.spark.sql.Column[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    private static Dataset<Row> failText(ForgetSpec.Ids ids) {
        throw new InvalidInputException("forget.ids.time-column: a plain text deletion list has no columns; give the"
                + " log as CSV or Parquet with columns " + ids.column() + " and " + ids.timeColumn().get());
    }

    private static Dataset<Row> column(Dataset<Row> table, ForgetSpec.Ids ids, String uri, Format format) {
        if (!Arrays.asList(table.columns()).contains(ids.column())) {
            throw new InvalidInputException("forget.ids.column: the " + format.name().toLowerCase(Locale.ROOT)
                    + " deletion list " + uri + " has no column " + ids.column() + "; columns: "
                    + String.join(", ", table.columns()));
        }
        if (ids.timeColumn().isPresent() && !Arrays.asList(table.columns()).contains(ids.timeColumn().get())) {
            throw new InvalidInputException("forget.ids.time-column: the " + format.name().toLowerCase(Locale.ROOT)
                    + " deletion list " + uri + " has no column " + ids.timeColumn().get() + "; columns: "
                    + String.join(", ", table.columns()));
        }
        return ids.timeColumn().isPresent()
                ? table.select(col("`" + ids.column() + "`").as("id"), col("`" + ids.timeColumn().get() + "`").as("time"))
                : table.select(col("`" + ids.column() + "`").as("id"));
    }

    /** The format a file's name ends in; for a folder, the ending of its data files. */
    static Format detect(SparkSession spark, String uri) {
        Path path = new Path(uri);
        String name = path.getName();
        try {
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (fs.getFileStatus(path).isDirectory()) {
                for (FileStatus f : fs.listStatus(path)) {
                    String n = f.getPath().getName();
                    if (f.isFile() && !n.startsWith("_") && !n.startsWith(".")) {
                        name = n;
                        break;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("forget.ids: cannot list " + uri + ": " + e.getMessage(), e);
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".parquet") || lower.endsWith(".parq")) {
            return Format.PARQUET;
        }
        if (lower.endsWith(".csv") || lower.endsWith(".csv.gz")) {
            return Format.CSV;
        }
        return Format.TEXT;
    }
}
