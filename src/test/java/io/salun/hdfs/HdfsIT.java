package io.salun.hdfs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.job.Main;
import io.salun.mask.Bitset;
import io.salun.mask.MaskAssertions;
import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
import io.salun.report.OutputDir;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import io.salun.spark.SliceTables;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileChecksum;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job against a real HDFS: a MiniDFSCluster (NameNode and DataNode in this JVM, talking
 * over RPC) holds the Parquet tables, the deletion list and the original model; the job reads
 * them from {@code hdfs://} and writes its output there.
 */
class HdfsIT {
    @TempDir
    static java.nio.file.Path local;
    private static MiniDFSCluster cluster;
    private static FileSystem fs;
    private static String hdfs;
    private static SparkSession spark;

    @BeforeAll
    static void startHdfs() throws Exception {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, local.resolve("dfs").toString());
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
        fs = cluster.getFileSystem();
        hdfs = "hdfs://localhost:" + cluster.getNameNodePort();
        spark = LocalSpark.start("hdfs-it");

        SliceTables.writeSlice(spark, hdfs + "/lake/fashion/train", hdfs + "/lake/fashion/test", true);
        StringBuilder ids = new StringBuilder("record_id\n");
        for (int i = 1; i < 3000; i += 10) {
            ids.append(SliceTables.stringId(i)).append('\n');
        }
        try (OutputStream out = fs.create(new Path("/lake/requests/2026-11.csv"))) {
            out.write(ids.toString().getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(0, Main.run(args("train", "--train.epochs=3")));
        assertTrue(fs.isFile(new Path("/models/original.zip")));
    }

    @AfterAll
    static void stop() {
        try {
            if (spark != null) {
                spark.stop();
            }
        } finally {
            if (cluster != null) {
                cluster.shutdown(true);
            }
        }
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.format=parquet", "--data.train=" + hdfs + "/lake/fashion/train",
                "--data.test=" + hdfs + "/lake/fashion/test", "--model.arch=mlp",
                "--model.path=" + hdfs + "/models/original.zip", "--train.lr=0.05",
                "--forget.scenario=ids", "--forget.ids=" + hdfs + "/lake/requests/2026-11.csv",
                "--forget.ids.column=record_id"), more);
    }

    @Test
    void unlearnsFromHdfsAndPublishesThere() throws Exception {
        FileChecksum modelBefore = fs.getFileChecksum(new Path("/models/original.zip"));
        String out = hdfs + "/runs/2026-11";
        assertEquals(0, Main.run(args("unlearn", "--unlearn.epochs=1", "--output.dir=" + out)));

        JsonNode report;
        try (InputStream in = fs.open(new Path("/runs/2026-11/report.json"))) {
            report = new ObjectMapper().readTree(in);
        }
        assertEquals(300, report.at("/counts/forget").asLong());
        assertEquals(2700, report.at("/counts/retain").asLong());
        assertEquals(0, report.at("/counts/unknownIds").asLong());
        assertTrue(fs.isFile(new Path("/runs/2026-11/" + OutputDir.SUCCESS)));
        assertFalse(fs.exists(new Path("/runs/.2026-11.staging")));

        Configuration conf = fs.getConf();
        Bitset mask = MaskFile.read(out + "/mask.bin", conf);
        float[] original = ModelStore.load(hdfs + "/models/original.zip", "model.path", conf).params().toFloatVector();
        float[] unlearned = ModelStore.load(out + "/model.zip", "output", conf).params().toFloatVector();
        assertTrue(MaskAssertions.assertMaskedUnchanged(mask, original, unlearned) > 0);

        // a second run to the same output is refused and changes nothing; the original model is untouched
        FileChecksum reportBefore = fs.getFileChecksum(new Path("/runs/2026-11/report.json"));
        assertEquals(Main.BAD_INPUT, Main.run(args("unlearn", "--unlearn.epochs=1", "--output.dir=" + out)));
        assertEquals(reportBefore, fs.getFileChecksum(new Path("/runs/2026-11/report.json")));
        assertEquals(modelBefore, fs.getFileChecksum(new Path("/models/original.zip")));
    }
}
