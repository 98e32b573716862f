package io.salun.forget;

import io.salun.config.InvalidInputException;
import io.salun.data.Example;
import io.salun.data.IdxSource;
import io.salun.data.ImageShape;
import io.salun.data.ParquetSource;
import io.salun.spark.LocalSparkTest;
import io.salun.spark.SliceTables;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parquet training tables and deletion lists (text, CSV, Parquet) on Spark, against the IDX slice
 * they were written from and against counts worked out by hand.
 */
class DataLakeInputSparkTest extends LocalSparkTest {
    private static final ImageShape SHAPE = new ImageShape(28, 28, 1, true);
    @TempDir
    static Path dir;
    private static String pngTable;
    private static String floatTable;

    @BeforeAll
    static void writeTables() {
        pngTable = dir.resolve("train-png").toString();
        floatTable = dir.resolve("train-float").toString();
        SliceTables.write(spark, images, labels, pngTable, true, true, 3);
        SliceTables.write(spark, images, labels, floatTable, false, false, 2);
    }

    @Test
    void parquetTablesHoldTheSameRecordsAsTheIdxFiles() {
        Map<Long, Example> idx = new HashMap<>();
        for (Example e : IdxSource.read(sc, images, labels, 2).collect()) {
            idx.put(e.id(), e);
        }
        for (String table : List.of(pngTable, floatTable)) {
            ParquetSource.Table t = ParquetSource.read(spark, table, "data.train", SHAPE, 4);
            assertEquals(3000, t.count());
            List<Example> read = t.examples().collect();
            assertEquals(3000, read.size());
            for (Example e : read) {
                // string IDs fm-00000.. are numbered in sorted order, so each key is the IDX index again
                Example expected = idx.get(e.id());
                assertEquals(expected.label(), e.label());
                assertArrayEquals(expected.features(), e.features(), table + " record " + e.id());
            }
        }
        // partition contents and order depend on the partition count only, not on the files' layout
        List<List<Long>> once = keysByPartition(ParquetSource.read(spark, pngTable, "data.train", SHAPE, 3).examples());
        List<List<Long>> again = keysByPartition(ParquetSource.read(spark, pngTable, "data.train", SHAPE, 3).examples());
        assertEquals(once, again);
        for (List<Long> part : once) {
            List<Long> sorted = new ArrayList<>(part);
            sorted.sort(null);
            assertEquals(sorted, part);
        }
    }

    @Test
    void deletionListsInEveryFormatSplitLikeAHandCount() throws IOException {
        ParquetSource.Table table = ParquetSource.read(spark, pngTable, "data.train", SHAPE, 3);
        // known: 5, 17, 2999, 0 (17 listed twice); unknown: fm-03000 and nope (nope listed twice)
        List<String> listed = List.of(SliceTables.stringId(5), SliceTables.stringId(17), SliceTables.stringId(17),
                SliceTables.stringId(2999), SliceTables.stringId(0), SliceTables.stringId(3000), "nope", "nope");
        Set<Long> expected = Set.of(0L, 5L, 17L, 2999L);

        Path text = dir.resolve("requests.txt");
        List<String> lines = new ArrayList<>(List.of("# deletion requests, 2026-11", ""));
        listed.forEach(id -> lines.add("  " + id + " "));
        Files.write(text, lines);
        Path csv = dir.resolve("requests.csv");
        List<String> rows = new ArrayList<>(List.of("requested_at,record_id"));
        listed.forEach(id -> rows.add("2026-11-27," + id));
        Files.write(csv, rows);
        String parquet = dir.resolve("requests-parquet").toString();
        StructType schema = new StructType().add("record_id", DataTypes.StringType).add("note", DataTypes.StringType);
        spark.createDataFrame(listed.stream().map(id -> RowFactory.create(id, "gdpr")).toList(), schema)
                .repartition(2).write().parquet(parquet);

        for (ForgetSpec.Ids ids : List.of(new ForgetSpec.Ids(text.toString()),
                new ForgetSpec.Ids(csv.toString(), "auto", "record_id"),
                new ForgetSpec.Ids(parquet, "auto", "record_id"),
                new ForgetSpec.Ids(csv.toString(), "csv", "record_id"))) {
            ForgetSplit.Result split = ForgetSplit.apply(sc, table.examples(), table.ids(), ids, 1);
            assertEquals(4, split.forget(), ids.toString());
            assertEquals(2996, split.retain(), ids.toString());
            assertEquals(2, split.unknownIds(), ids.toString());
            assertEquals(expected, new HashSet<>(split.flagged().filter(Example::forget).map(Example::id).collect()));
        }
    }

    @Test
    void integerIdsJoinWithListsOfAnyColumnType() throws IOException {
        ParquetSource.Table table = ParquetSource.read(spark, floatTable, "data.train", SHAPE, 2);
        Path csv = dir.resolve("long-ids.csv");
        Files.write(csv, List.of("id", "7", " 8", "7", "123456"));
        ForgetSplit.Result split = ForgetSplit.apply(sc, table.examples(), table.ids(), new ForgetSpec.Ids(csv.toString()), 1);
        assertEquals(2, split.forget());
        assertEquals(1, split.unknownIds());
        String longs = dir.resolve("long-ids-parquet").toString();
        spark.createDataFrame(List.of(RowFactory.create(7L), RowFactory.create(2998L)),
                new StructType().add("id", DataTypes.LongType)).write().parquet(longs);
        ForgetSplit.Result fromLongs = ForgetSplit.apply(sc, table.examples(), table.ids(), new ForgetSpec.Ids(longs), 1);
        assertEquals(Set.of(7L, 2998L), new TreeSet<>(fromLongs.flagged().filter(Example::forget).map(Example::id).collect()));

        Path notIntegers = dir.resolve("mixed.txt");
        Files.write(notIntegers, List.of("7", "fm-00008"));
        InvalidInputException bad = assertThrows(InvalidInputException.class, () ->
                ForgetSplit.apply(sc, table.examples(), table.ids(), new ForgetSpec.Ids(notIntegers.toString()), 1));
        assertTrue(bad.getMessage().contains("1 entries") && !bad.getMessage().contains("fm-00008"), bad.getMessage());
        InvalidInputException column = assertThrows(InvalidInputException.class, () -> ForgetSplit.apply(sc,
                table.examples(), table.ids(), new ForgetSpec.Ids(csv.toString(), "csv", "record_id"), 1));
        assertTrue(column.getMessage().startsWith("forget.ids.column"), column.getMessage());
    }

    @Test
    void tablesThatBreakTheContractAreRefusedByName() {
        StructType noLabel = new StructType().add("id", DataTypes.LongType).add("features",
                DataTypes.createArrayType(DataTypes.FloatType));
        String missing = dir.resolve("no-label").toString();
        spark.createDataFrame(List.of(RowFactory.create(1L, new float[784])), noLabel).write().parquet(missing);
        assertMessage("no column label", () -> ParquetSource.read(spark, missing, "data.train", SHAPE, 2));

        StructType full = new StructType().add("id", DataTypes.StringType).add("label", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType));
        String duplicated = dir.resolve("duplicated").toString();
        spark.createDataFrame(List.of(RowFactory.create("a", 0, new float[784]), RowFactory.create("a", 1, new float[784]),
                RowFactory.create("b", 1, new float[784])), full).write().parquet(duplicated);
        assertMessage("1 records", () -> ParquetSource.read(spark, duplicated, "data.train", SHAPE, 2));

        String shortRows = dir.resolve("short").toString();
        spark.createDataFrame(List.of(RowFactory.create("a", 0, new float[100])), full).write().parquet(shortRows);
        assertMessage("100 features", () -> ParquetSource.read(spark, shortRows, "data.train", SHAPE, 2).examples().count());

        assertMessage("no Parquet table", () -> ParquetSource.read(spark, dir.resolve("absent").toString(), "data.train", SHAPE, 2));
    }

    private static void assertMessage(String part, Runnable action) {
        Throwable t = assertThrows(Throwable.class, action::run);
        while (!(t instanceof InvalidInputException) && t.getCause() != null) {
            t = t.getCause();
        }
        assertTrue(t instanceof InvalidInputException, "not bad input: " + t);
        assertTrue(t.getMessage().contains(part) && t.getMessage().contains("data.train"), t.getMessage());
    }

    private static List<List<Long>> keysByPartition(JavaRDD<Example> examples) {
        List<List<Long>> out = new ArrayList<>();
        for (List<Long> p : examples.map(Example::id).glom().collect()) {
            out.add(new ArrayList<>(p));
        }
        assertFalse(out.stream().allMatch(List::isEmpty));
        return out;
    }
}
