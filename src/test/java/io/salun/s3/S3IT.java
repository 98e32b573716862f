package io.salun.s3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.config.InvalidInputException;
import io.salun.job.Main;
import io.salun.mask.Bitset;
import io.salun.mask.MaskAssertions;
import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
import io.salun.report.OutputDir;
import io.salun.report.OutputLease;
import io.salun.spark.JobArgs;
import io.salun.spark.SliceTables;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job against an S3 API server: S3Proxy (the S3 REST API over a local folder, its own JVM on a
 * loopback port) behind Hadoop's S3A connector (hadoop-aws 3.3.4, the version of Spark 3.5's
 * Hadoop) configured as a user would ({@code spark.hadoop.fs.s3a.*}). Parquet tables, a deletion
 * log and the original model are read from {@code s3a://}; results, {@code verify} and a
 * schedule's state live there; the object-store lease lets one of two racing runs in; a
 * publication cut short by a crash is cleaned up by the rerun.
 */
class S3IT {
    private static final String BUCKET = "lake";
    @TempDir
    static java.nio.file.Path local;
    private static Process s3proxy;
    private static Map<String, String> s3a;
    private static SparkSession spark;
    private static FileSystem fs;

    @BeforeAll
    static void start() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        java.nio.file.Path properties = local.resolve("s3proxy.properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=salun",
                "s3proxy.credential=salun-secret",
                // in memory: the folder backends answer a HEAD of a "directory" key as a file, which S3A
                // then refuses to rename into
                "jclouds.provider=transient") + "\n");
        s3proxy = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-jar", System.getProperty("salun.s3proxy.jar"), "--properties", properties.toString())
                .redirectErrorStream(true).redirectOutput(local.resolve("s3proxy.log").toFile()).start();
        awaitPort(port, 60);

        s3a = new LinkedHashMap<>();
        s3a.put("fs.s3a.endpoint", "http://127.0.0.1:" + port);
        s3a.put("fs.s3a.endpoint.region", "us-east-1");
        s3a.put("fs.s3a.path.style.access", "true");
        s3a.put("fs.s3a.connection.ssl.enabled", "false");
        s3a.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        s3a.put("fs.s3a.access.key", "salun");
        s3a.put("fs.s3a.secret.key", "salun-secret");
        SparkSession.Builder builder = SparkSession.builder().master("local[2]").appName("s3-it")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4");
        s3a.forEach((k, v) -> builder.config("spark.hadoop." + k, v));
        spark = builder.getOrCreate();
        com.amazonaws.services.s3.AmazonS3ClientBuilder.standard()
                .withEndpointConfiguration(new com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration(
                        s3a.get("fs.s3a.endpoint"), "us-east-1"))
                .withPathStyleAccessEnabled(true)
                .withCredentials(new com.amazonaws.auth.AWSStaticCredentialsProvider(
                        new com.amazonaws.auth.BasicAWSCredentials("salun", "salun-secret")))
                .build().createBucket(BUCKET);
        fs = new Path("s3a://" + BUCKET + "/").getFileSystem(spark.sparkContext().hadoopConfiguration());

        SliceTables.writeSlice(spark, uri("fashion/train"), uri("fashion/test"), true);
        StringBuilder log = new StringBuilder("record_id,requested_at\n");
        for (int i = 1; i < 3000; i += 10) {
            log.append(SliceTables.stringId(i)).append(',').append(i < 1500 ? "2026-11-20T10:00:00Z" : "2026-11-26T10:00:00Z")
                    .append('\n');
        }
        write("requests/log.csv", log.toString());
        assertEquals(0, Main.run(args("train", "--train.epochs=3")));
        assertTrue(fs.isFile(new Path(uri("models/original.zip"))));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (spark != null) {
                spark.stop();
            }
        } finally {
            if (s3proxy != null) {
                s3proxy.destroy();
                if (!s3proxy.waitFor(20, TimeUnit.SECONDS)) {
                    s3proxy.destroyForcibly();
                }
            }
        }
    }

    private static String uri(String key) {
        return "s3a://" + BUCKET + "/" + key;
    }

    private static void write(String key, String text) throws IOException {
        try (OutputStream out = fs.create(new Path(uri(key)), true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static JsonNode json(String key) throws IOException {
        try (InputStream in = fs.open(new Path(uri(key)))) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.format=parquet", "--data.train=" + uri("fashion/train"), "--data.test=" + uri("fashion/test"),
                "--model.arch=mlp", "--model.path=" + uri("models/original.zip"), "--train.lr=0.05",
                "--forget.scenario=ids", "--forget.ids=" + uri("requests/log.csv"), "--forget.ids.column=record_id",
                "--unlearn.epochs=1", "--checkpoint.rounds=3"), more);
    }

    /** {@code verify} as spark-submit would run it: the s3a settings as {@code spark.hadoop.*} system properties. */
    private static int verify(String output) {
        s3a.forEach((k, v) -> System.setProperty("spark.hadoop." + k, v));
        try {
            return Main.run(new String[] {"verify", "--output.dir=" + output});
        } finally {
            s3a.keySet().forEach(k -> System.clearProperty("spark.hadoop." + k));
        }
    }

    @Test
    void unlearnsFromS3AndPublishesAVerifiableResultThere() throws Exception {
        String out = uri("runs/2026-11");
        assertEquals(0, Main.run(args("unlearn", "--output.dir=" + out)));
        JsonNode report = json("runs/2026-11/report.json");
        assertEquals(300, report.at("/counts/forget").asLong());
        assertEquals(2700, report.at("/counts/retain").asLong());
        JsonNode marker = json("runs/2026-11/" + OutputDir.SUCCESS);
        List<String> listed = new ArrayList<>();
        marker.get("files").forEach(f -> listed.add(f.get("path").asText()));
        assertEquals(List.of("manifest.json", "mask.bin", "model.zip", "report.html", "report.json"), listed);
        for (String left : List.of("runs/.2026-11.staging", "runs/.2026-11.checkpoint", "runs/.2026-11.publishing")) {
            assertFalse(fs.exists(new Path(uri(left))), left + " left behind");
        }
        assertEquals(0, fs.exists(new Path(uri("runs/.2026-11.lease"))) ? fs.listStatus(new Path(uri("runs/.2026-11.lease"))).length : 0,
                "the lease's claims were not released");

        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Bitset mask = MaskFile.read(out + "/mask.bin", conf);
        float[] original = ModelStore.load(uri("models/original.zip"), "model.path", conf).params().toFloatVector();
        float[] unlearned = ModelStore.load(out + "/model.zip", "output", conf).params().toFloatVector();
        assertTrue(MaskAssertions.assertMaskedUnchanged(mask, original, unlearned) > 0);
        assertEquals(0, verify(out));

        // one bit of the published model flipped: verify on s3a:// says so
        byte[] zip;
        try (InputStream in = fs.open(new Path(out + "/model.zip"))) {
            zip = in.readAllBytes();
        }
        zip[zip.length / 2] ^= 1;
        try (OutputStream o = fs.create(new Path(uri("runs/forged/model.zip")), true)) {
            o.write(zip);
        }
        for (String f : List.of("mask.bin", "report.json", "report.html", "manifest.json", OutputDir.SUCCESS)) {
            org.apache.hadoop.fs.FileUtil.copy(fs, new Path(out, f), fs, new Path(uri("runs/forged/" + f)), false, conf);
        }
        assertEquals(Main.NOT_VERIFIED, verify(uri("runs/forged")));
    }

    @Test
    void scheduledSlotsKeepTheirStateInS3() throws Exception {
        String schedule = uri("retention");
        String[] common = {"--forget.ids.time-column=requested_at", "--schedule.dir=" + schedule};
        List<String> first = new ArrayList<>(List.of(common));
        first.add("--schedule.slot=2026-11-21");
        first.add("--forget.ids=" + uri("requests/early.csv"));
        // the slot of the 21st sees the requests of the 20th only: the log's later half is not there yet
        String log;
        try (InputStream in = fs.open(new Path(uri("requests/log.csv")))) {
            log = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        write("requests/early.csv", log.lines().filter(l -> !l.endsWith("2026-11-26T10:00:00Z"))
                .reduce("", (a, b) -> a + b + "\n"));
        assertEquals(0, Main.run(args("unlearn", first.toArray(String[]::new))));
        JsonNode state = json("retention/schedule.json");
        assertEquals(1, state.get("slots").size());
        assertEquals(150, state.at("/slots/0/requests").asLong());
        assertTrue(fs.isFile(new Path(uri("retention/runs/2026-11-21/" + OutputDir.SUCCESS))));
        assertEquals(0, verify(uri("retention/runs/2026-11-21")));
        // rerun of a slot that is done: nothing changes
        assertEquals(0, Main.run(args("unlearn", first.toArray(String[]::new))));
        assertEquals(state, json("retention/schedule.json"));
        assertFalse(fs.exists(new Path(uri(".retention.lease"))) && fs.listStatus(new Path(uri(".retention.lease"))).length > 0,
                "the schedule's lease was not released");
    }

    @Test
    void ofRunsRacingForOneS3OutputExactlyOneHoldsIt() throws Exception {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 5; round++) {
                Path target = new Path(uri("race/out-" + round));
                CountDownLatch go = new CountDownLatch(1);
                List<Future<OutputLease>> tries = new ArrayList<>();
                for (int r = 0; r < 4; r++) {
                    int runner = r;
                    tries.add(pool.submit(() -> {
                        go.await();
                        try {
                            return OutputLease.acquire("output.dir", target, "runner " + runner, Duration.ofMinutes(5), conf);
                        } catch (InvalidInputException refused) {
                            assertTrue(refused.getMessage().contains("another run holds"), refused.getMessage());
                            return null;
                        }
                    }));
                }
                go.countDown();
                List<OutputLease> holders = new ArrayList<>();
                for (Future<OutputLease> t : tries) {
                    OutputLease l = t.get(2, TimeUnit.MINUTES);
                    if (l != null) {
                        holders.add(l);
                    }
                }
                assertEquals(1, holders.size(), "round " + round + ": runs holding the lease at once");
                holders.get(0).check();
                holders.get(0).close();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aPublicationCutShortByACrashIsReplacedByTheRerun() throws Exception {
        // what a driver that died while S3A copied its staged result into place leaves: part of the
        // folder, no _SUCCESS, and the publication marker
        String out = uri("runs/interrupted");
        write("runs/interrupted/model.zip", "the first bytes of a model");
        write("runs/.interrupted.publishing", out);
        assertEquals(0, Main.run(args("unlearn", "--output.dir=" + out)));
        assertTrue(fs.isFile(new Path(out + "/" + OutputDir.SUCCESS)));
        assertFalse(fs.exists(new Path(uri("runs/.interrupted.publishing"))));
        assertEquals(0, verify(out));
    }

    private static void awaitPort(int port, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!s3proxy.isAlive()) {
                    throw new IllegalStateException("S3Proxy ended: " + Files.readString(local.resolve("s3proxy.log")));
                }
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("S3Proxy did not listen on " + port + " within " + seconds + " s");
    }
}
